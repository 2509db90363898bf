// URL resolution and canonicalisation for links found in feeds and in the HTML
// inside them. Feeds are written by hand and by a thousand CMSes, so every
// function here accepts sloppy input and answers nullopt rather than guessing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postwire::normalise {

// Resolves `ref` against `base` as RFC 3986 section 5.2 describes. Surrounding
// white space (and tabs/newlines inside, as browsers do) is removed from both first.
// An absolute `ref` with a scheme libcurl knows comes back normalised (dot segments
// removed, spaces percent-encoded); one with any other scheme (mailto:, tel:, and
// also javascript: -- check is_dangerous_url) comes back as written. nullopt when
// the result would not be an absolute URL, e.g. a relative ref with an empty base.
std::optional<std::string> resolve_url(std::string_view base, std::string_view ref);

// The form used to tell whether two links point at the same thing: scheme and host
// lower-cased, default port dropped, fragment dropped, dot segments resolved and
// tracking parameters (utm_*, fbclid, gclid, mc_cid, mc_eid) removed from the query,
// other parameters kept in their order. Only absolute URLs with a scheme libcurl
// knows are accepted; anything else is nullopt.
// Internationalised host names come back in punycode (UTS #46 via ICU,
// "bücher.example" -> "xn--bcher-kva.example").
std::optional<std::string> canonical_url(std::string_view url);

// The same with another list of tracking parameters: exact names, compared without
// regard to case, or prefixes written with a trailing '*' ("utm_*").
std::optional<std::string> canonical_url(std::string_view url,
                                         const std::vector<std::string>& tracking_params);

// The list canonical_url(url) uses: utm_*, fbclid, gclid, mc_cid, mc_eid.
const std::vector<std::string>& default_tracking_params();

// A host name in its ASCII form: punycode for internationalised labels, lower case.
// nullopt when the name is not valid under UTS #46.
std::optional<std::string> host_to_ascii(std::string_view host);

// True when the URL's scheme can run code or smuggle content in a browser
// (javascript:, vbscript:, data:, and the historical livescript:/mocha:). Control
// characters and white space a browser would ignore are ignored here too.
bool is_dangerous_url(std::string_view url);

// For tests: the hand-written fast paths alone (false when the input is outside
// their subset and libcurl would be used; `out` is then unspecified) and the libcurl
// paths alone. Whenever a fast path answers, the libcurl path must give the same URL.
namespace detail {
bool resolve_url_fast(std::string_view base, std::string_view ref, std::string& out);
std::optional<std::string> resolve_url_slow(std::string_view base, std::string_view ref);
bool canonical_url_fast(std::string_view url, const std::vector<std::string>& tracking_params,
                        std::string& out);
std::optional<std::string> canonical_url_slow(std::string_view url,
                                              const std::vector<std::string>& tracking_params);
}  // namespace detail

}  // namespace postwire::normalise
