#include "normalise/urls.hpp"

#include "normalise/env.hpp"
#include "normalise/text_clean.hpp"

#include <curl/curl.h>
#include <unicode/bytestream.h>
#include <unicode/uidna.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>

namespace postwire::normalise {
namespace {

struct CurluDeleter {
  void operator()(CURLU* handle) const noexcept { curl_url_cleanup(handle); }
};
using CurluPtr = std::unique_ptr<CURLU, CurluDeleter>;

bool is_ascii_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }
char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Browsers drop leading and trailing C0 controls and spaces, and tabs and newlines
// anywhere; feeds rely on that when they wrap a long <link> over several lines.
// Inner spaces are percent-encoded as browsers do (libcurl rejects them).
std::string clean(std::string_view in) {
  std::size_t begin = 0;
  std::size_t end = in.size();
  while (begin < end && static_cast<unsigned char>(in[begin]) <= 0x20) ++begin;
  while (end > begin && static_cast<unsigned char>(in[end - 1]) <= 0x20) --end;
  std::string out;
  out.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    const char c = in[i];
    if (c == ' ') {
      out.append("%20");
    } else if (c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

// Length of the RFC 3986 scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"),
// 0 when `s` does not start with one, i.e. is a relative reference.
std::size_t scheme_length(std::string_view s) noexcept {
  if (s.empty() || !is_ascii_alpha(s[0])) return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return i;
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

std::optional<std::string> get_part(CURLU* handle, CURLUPart part, unsigned int flags = 0) {
  char* out = nullptr;
  const CURLUcode rc = curl_url_get(handle, part, &out, flags);
  if (rc != CURLUE_OK || out == nullptr) {
    curl_free(out);
    return std::nullopt;
  }
  std::string value(out);
  curl_free(out);
  return value;
}

CurluPtr parse_absolute(const std::string& url, CURLUcode* rc_out = nullptr) {
  CurluPtr handle(curl_url());
  if (!handle) return nullptr;
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc_out != nullptr) *rc_out = rc;
  if (rc != CURLUE_OK) return nullptr;
  return handle;
}

bool is_tracking_param(std::string_view param, const std::vector<std::string>& names) {
  const std::string_view key = param.substr(0, param.find('='));
  std::string lower;
  lower.reserve(key.size());
  for (char c : key) lower.push_back(ascii_lower(c));
  for (const std::string& name : names) {
    if (!name.empty() && name.back() == '*') {
      if (lower.starts_with(std::string_view(name).substr(0, name.size() - 1))) return true;
    } else if (lower == name) {
      return true;
    }
  }
  return false;
}

struct IdnaDeleter {
  void operator()(UIDNA* idna) const noexcept { uidna_close(idna); }
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 section 6.2.2: percent-encoded unreserved characters are decoded, so
// "%7e" and "~" compare equal, and the remaining escapes use one case. That case is
// lower, because libcurl lower-cases escapes in the parts we set back anyway.
std::string normalise_escapes(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      const int value = hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]);
      const char decoded = static_cast<char>(value);
      if (is_ascii_alpha(decoded) || is_ascii_digit(decoded) || decoded == '-' || decoded == '.' ||
          decoded == '_' || decoded == '~') {
        out.push_back(decoded);
      } else {
        out.push_back('%');
        out.push_back(kHex[value >> 4]);
        out.push_back(kHex[value & 0xF]);
      }
      i += 2;
    } else if (static_cast<unsigned char>(in[i]) >= 0x80 || in[i] == ' ') {
      // Non-ASCII (UTF-8) and spaces are percent-encoded, as browsers send them.
      const auto b = static_cast<unsigned char>(in[i]);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::optional<std::string> resolve_unchecked(std::string_view base, std::string_view ref) {
  const std::string r = clean(ref);
  if (scheme_length(r) > 0) {
    CURLUcode rc = CURLUE_OK;
    if (CurluPtr handle = parse_absolute(r, &rc)) return get_part(handle.get(), CURLUPART_URL);
    // mailto:, tel:, magnet: ... are absolute already; nothing to resolve or check.
    if (rc == CURLUE_UNSUPPORTED_SCHEME && r.size() > scheme_length(r) + 1) return r;
    return std::nullopt;
  }

  const std::string b = clean(base);
  if (scheme_length(b) == 0) return std::nullopt;
  CurluPtr handle = parse_absolute(b);
  if (!handle) return std::nullopt;
  // libcurl treats "" and "#frag" like "." (it drops the last path segment and the
  // query); RFC 3986 keeps the whole base, so those two cases are done here.
  if (r.empty() || r.front() == '#') {
    if (curl_url_set(handle.get(), CURLUPART_FRAGMENT, nullptr, 0) != CURLUE_OK) return std::nullopt;
    if (r.size() > 1 && curl_url_set(handle.get(), CURLUPART_FRAGMENT, r.c_str() + 1, 0) != CURLUE_OK) {
      return std::nullopt;
    }
    return get_part(handle.get(), CURLUPART_URL);
  }
  if (curl_url_set(handle.get(), CURLUPART_URL, r.c_str(), 0) != CURLUE_OK) return std::nullopt;
  return get_part(handle.get(), CURLUPART_URL);
}

// libcurl decodes percent-escapes in host names ("%CC" becomes the byte 0xCC), so
// a hostile link can come back as bytes that are not text. Such a URL is unusable:
// treat it like any other unparseable link (found by the feed fuzzer).
std::optional<std::string> valid_or_none(std::optional<std::string> url) {
  if (url && !is_valid_utf8(*url)) return std::nullopt;
  return url;
}

std::optional<std::string> resolve_slow(std::string_view base, std::string_view ref) {
  return valid_or_none(resolve_unchecked(base, ref));
}

std::optional<std::string> canonical_slow(std::string_view url,
                                          const std::vector<std::string>& tracking_params) {
  const std::string u = clean(url);
  if (scheme_length(u) == 0) return std::nullopt;
  CurluPtr handle = parse_absolute(u);
  if (!handle) return std::nullopt;
  CURLU* h = handle.get();

  if (std::optional<std::string> host = get_part(h, CURLUPART_HOST)) {
    std::optional<std::string> ascii = host_to_ascii(*host);
    if (!ascii) return std::nullopt;
    if (curl_url_set(h, CURLUPART_HOST, ascii->c_str(), 0) != CURLUE_OK) return std::nullopt;
  }
  if (curl_url_set(h, CURLUPART_FRAGMENT, nullptr, 0) != CURLUE_OK) return std::nullopt;
  if (std::optional<std::string> path = get_part(h, CURLUPART_PATH)) {
    const std::string normalised = normalise_escapes(*path);
    if (curl_url_set(h, CURLUPART_PATH, normalised.c_str(), 0) != CURLUE_OK) return std::nullopt;
  }
  if (std::optional<std::string> query = get_part(h, CURLUPART_QUERY)) {
    std::string kept;
    std::string_view rest = *query;
    while (!rest.empty()) {
      const std::size_t amp = rest.find('&');
      const std::string_view param = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (param.empty() || is_tracking_param(param, tracking_params)) continue;
      if (!kept.empty()) kept.push_back('&');
      kept.append(normalise_escapes(param));
    }
    if (curl_url_set(h, CURLUPART_QUERY, kept.empty() ? nullptr : kept.c_str(), 0) != CURLUE_OK) {
      return std::nullopt;
    }
  }
  std::optional<std::string> out = get_part(h, CURLUPART_URL, CURLU_NO_DEFAULT_PORT);
  if (out) {
    // RFC 3986 section 6.2.2.1: percent-escapes in upper case (libcurl lower-cases
    // the ones in parts that were set back).
    for (std::size_t i = 0; i + 2 < out->size(); ++i) {
      if ((*out)[i] == '%' && hex_value((*out)[i + 1]) >= 0 && hex_value((*out)[i + 2]) >= 0) {
        (*out)[i + 1] = static_cast<char>(std::toupper(static_cast<unsigned char>((*out)[i + 1])));
        (*out)[i + 2] = static_cast<char>(std::toupper(static_cast<unsigned char>((*out)[i + 2])));
        i += 2;
      }
    }
  }
  return valid_or_none(std::move(out));
}

// The fast paths below answer, without libcurl, for the links feeds are made of:
// plain http(s) URLs and simple relative references. Each answers only where it can
// reproduce libcurl 7.88's output (urlapi.c) byte for byte, and otherwise declines
// so that the libcurl path runs; every rule that declines is there because libcurl
// rewrites that input in some way (see urls_fast_path_test.cpp).

// Far below libcurl's limit on URL length (8 MB), so that no merged URL the fast
// path builds could be one libcurl rejects for its length.
constexpr std::size_t kMaxFastLength = 16384;

// clean() without the copy when there is nothing to clean, as for almost every link.
std::string_view cleaned(std::string_view in, std::string& storage) {
  for (char c : in) {
    if (static_cast<unsigned char>(c) <= 0x20) {
      storage = clean(in);
      return storage;
    }
  }
  return in;
}

enum CharClass : unsigned char {
  kPchar = 1,     // unreserved, sub-delims, ':' and '@' (RFC 3986 pchar without escapes)
  kHostChar = 2,  // what the fast path accepts in a host: lower case, digits, '-', '.'
  kSlash = 4,
  kQuestion = 8,
};
constexpr unsigned char kPathChars = kPchar | kSlash;
constexpr unsigned char kQueryChars = kPchar | kSlash | kQuestion;  // also fragments

constexpr std::array<unsigned char, 256> make_char_classes() {
  std::array<unsigned char, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = kPchar | kHostChar;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = kPchar;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = kPchar | kHostChar;
  for (char c : std::string_view("-.")) t[static_cast<unsigned char>(c)] = kPchar | kHostChar;
  for (char c : std::string_view("_~!$&'()*+,;=:@")) t[static_cast<unsigned char>(c)] = kPchar;
  t['/'] = kSlash;
  t['?'] = kQuestion;
  return t;
}
constexpr std::array<unsigned char, 256> kCharClasses = make_char_classes();

bool has_class(char c, unsigned char mask) noexcept {
  return (kCharClasses[static_cast<unsigned char>(c)] & mask) != 0;
}

// Index of the first byte from `i` on that is neither in `mask` nor the start of a
// well-formed percent-escape. libcurl keeps both as they are; what stops the scan
// (controls, non-ASCII, '"', '<', '\\', a second '#', a stray '%', ...) is either a
// delimiter or left to libcurl.
std::size_t scan(std::string_view s, std::size_t i, unsigned char mask) noexcept {
  while (i < s.size()) {
    if (has_class(s[i], mask)) {
      ++i;
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      i += 3;
    } else {
      break;
    }
  }
  return i;
}

// A "." or ".." segment, which libcurl removes (RFC 3986 section 5.2.4); the fast
// path never has to.
bool has_dot_segment(std::string_view path) noexcept {
  if (path.empty() || (path[0] != '.' && path.find("/.") == std::string_view::npos)) return false;
  std::size_t begin = 0;
  while (begin <= path.size()) {
    std::size_t end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(begin, end - begin);
    if (segment == "." || segment == "..") return true;
    begin = end + 1;
  }
  return false;
}

// Path, query and fragment of a reference; query and fragment without their
// delimiter and empty when absent, which is how libcurl writes them out too (it
// drops an empty "?" and an empty "#").
struct Tail {
  std::string_view path;
  std::string_view query;
  std::string_view fragment;
  bool has_fragment = false;
};

bool split_tail(std::string_view s, Tail& out) noexcept {
  out = Tail{};
  std::size_t i = scan(s, 0, kPathChars);
  out.path = s.substr(0, i);
  if (i < s.size() && s[i] == '?') {
    const std::size_t end = scan(s, i + 1, kQueryChars);
    out.query = s.substr(i + 1, end - i - 1);
    i = end;
  }
  if (i < s.size() && s[i] == '#') {
    const std::size_t end = scan(s, i + 1, kQueryChars);
    out.fragment = s.substr(i + 1, end - i - 1);
    out.has_fragment = true;
    i = end;
  }
  return i == s.size() && !has_dot_segment(out.path);
}

// An absolute http(s) URL inside the fast path's subset, as views into the input.
struct SimpleUrl {
  bool https = false;
  std::string_view host;
  std::string_view port;  // empty when absent
  Tail tail;              // path empty or starting with '/'
};

// Declined: upper case in scheme or host (resolve_url keeps a host's case, so the
// two functions would need different rules), hosts starting with a digit (libcurl
// rewrites numeric ones: "1.2.3" becomes "1.2.0.3"), escapes, userinfo or IPv6 in
// the authority, empty labels, and ports libcurl rewrites (":", ":080") or rejects.
bool parse_simple(std::string_view s, SimpleUrl& out) noexcept {
  if (s.size() > kMaxFastLength) return false;
  if (s.starts_with("http://")) {
    out.https = false;
    s.remove_prefix(7);
  } else if (s.starts_with("https://")) {
    out.https = true;
    s.remove_prefix(8);
  } else {
    return false;
  }
  std::size_t i = 0;
  while (i < s.size() && has_class(s[i], kHostChar)) ++i;
  out.host = s.substr(0, i);
  if (out.host.empty() || !(out.host[0] >= 'a' && out.host[0] <= 'z') || out.host.back() == '.' ||
      out.host.find("..") != std::string_view::npos) {
    return false;
  }
  out.port = {};
  if (i < s.size() && s[i] == ':') {
    const std::size_t begin = ++i;
    unsigned value = 0;
    while (i < s.size() && is_ascii_digit(s[i]) && i - begin < 5) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    out.port = s.substr(begin, i - begin);
    if (out.port.empty() || out.port[0] == '0' || value > 65535) return false;
  }
  if (i < s.size() && s[i] != '/' && s[i] != '?' && s[i] != '#') return false;
  return split_tail(s.substr(i), out.tail);
}

bool is_default_port(const SimpleUrl& u) noexcept { return u.port == (u.https ? "443" : "80"); }

// scheme://host[:port], as libcurl writes it back.
void append_origin(std::string& out, const SimpleUrl& u, bool drop_default_port) {
  out.append(u.https ? "https://" : "http://");
  out.append(u.host);
  if (!u.port.empty() && !(drop_default_port && is_default_port(u))) {
    out.push_back(':');
    out.append(u.port);
  }
}

void append_query_fragment(std::string& out, std::string_view query, std::string_view fragment) {
  if (!query.empty()) {
    out.push_back('?');
    out.append(query);
  }
  if (!fragment.empty()) {
    out.push_back('#');
    out.append(fragment);
  }
}

void append_absolute(std::string& out, const SimpleUrl& u) {
  append_origin(out, u, false);
  out.append(u.tail.path.empty() ? std::string_view("/") : u.tail.path);
  append_query_fragment(out, u.tail.query, u.tail.fragment);
}

bool resolve_fast(std::string_view base, std::string_view ref, std::string& out) {
  std::string ref_storage;
  const std::string_view r = cleaned(ref, ref_storage);
  if (r.size() > kMaxFastLength) return false;
  SimpleUrl u;
  if (scheme_length(r) > 0) {
    if (!parse_simple(r, u)) return false;
    out.clear();
    append_absolute(out, u);
    return true;
  }
  std::string base_storage;
  if (!parse_simple(cleaned(base, base_storage), u)) return false;
  const std::string_view base_path = u.tail.path.empty() ? std::string_view("/") : u.tail.path;
  out.clear();
  if (r.empty() || r.front() == '#') {
    // libcurl lower-cases the escapes in a fragment that is set on its own.
    const std::string_view fragment = r.empty() ? r : r.substr(1);
    if (scan(fragment, 0, kQueryChars) != fragment.size() || fragment.find('%') != std::string_view::npos) {
      return false;
    }
    append_origin(out, u, false);
    out.append(base_path);
    append_query_fragment(out, u.tail.query, fragment);
    return true;
  }
  // libcurl merges relative references into the base's text, fragment included
  // ("http://h/a#x/y" + "b" gives "http://h/a#x/b"), and loses a slash of a base
  // path starting with "//" ("http://h//a" + "b" gives "http://h/b");
  // network-path references ("//host/x") replace the authority.
  if (u.tail.has_fragment || base_path.starts_with("//") || r.starts_with("//")) return false;
  Tail t;
  if (!split_tail(r, t)) return false;
  append_origin(out, u, false);
  if (r.front() == '/') {
    out.append(t.path);
  } else if (r.front() == '?') {
    out.append(base_path);
  } else {
    // A ':' in the first segment makes the reference look like a scheme to libcurl.
    const std::string_view first_segment = t.path.substr(0, t.path.find('/'));
    if (first_segment.find(':') != std::string_view::npos) return false;
    out.append(base_path.substr(0, base_path.rfind('/') + 1));
    out.append(t.path);
  }
  append_query_fragment(out, t.query, t.fragment);
  return true;
}

// normalise_escapes(s) appended to `out`. Without a '%' it is the identity on the
// bytes the fast path admits (no spaces, nothing above 0x7F), so no copy is made.
void append_normalised(std::string& out, std::string_view s) {
  if (s.find('%') == std::string_view::npos) {
    out.append(s);
  } else {
    out.append(normalise_escapes(s));
  }
}

bool canonical_fast(std::string_view url, const std::vector<std::string>& tracking_params, std::string& out) {
  std::string storage;
  SimpleUrl u;
  if (!parse_simple(cleaned(url, storage), u)) return false;
  // normalise_escapes decodes "%2E" to '.', and libcurl keeps the dot segment that
  // can make when the path is set back.
  const std::string_view path = u.tail.path;
  for (std::size_t i = path.find('%'); i != std::string_view::npos; i = path.find('%', i + 1)) {
    if (path[i + 1] == '2' && (path[i + 2] == 'e' || path[i + 2] == 'E')) return false;
  }
  out.clear();
  out.reserve(url.size());
  append_origin(out, u, true);
  if (path.empty()) {
    out.push_back('/');
  } else {
    append_normalised(out, path);
  }
  // The same filtering as canonical_slow; normalise_escapes leaves every escape in
  // upper case, as the final pass over libcurl's output does.
  std::string_view rest = u.tail.query;
  bool first = true;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (param.empty() || is_tracking_param(param, tracking_params)) continue;
    out.push_back(first ? '?' : '&');
    first = false;
    append_normalised(out, param);
  }
  return true;
}

// POSTWIRE_URL_FASTPATH_CHECK=1 in the environment: every fast-path result is
// compared with libcurl's; differences go to standard error and libcurl's result
// is used (a verification mode for tests and corpora, not for production).
bool fast_path_check_enabled() {
  static const bool enabled = env_flag("POSTWIRE_URL_FASTPATH_CHECK");
  return enabled;
}

// `inputs` alternates labels and values ("base", base, "ref", ref).
void report_fast_path_mismatch(std::string_view what, std::initializer_list<std::string_view> inputs,
                               std::string_view fast, const std::optional<std::string>& slow) {
  std::string message = "url fast path mismatch (";
  message.append(what).append(")\n");
  bool label = true;
  for (std::string_view part : inputs) {
    if (label) message.append("--- ");
    message.append(part).append("\n");
    label = !label;
  }
  message.append("--- fast\n").append(fast).append("\n--- libcurl\n");
  message.append(slow ? std::string_view(*slow) : std::string_view("(nullopt)")).append("\n---\n");
  std::fputs(message.c_str(), stderr);
}

}  // namespace

std::optional<std::string> resolve_url(std::string_view base, std::string_view ref) {
  std::string fast;
  if (!resolve_fast(base, ref, fast)) return resolve_slow(base, ref);
  if (!fast_path_check_enabled()) return fast;
  std::optional<std::string> slow = resolve_slow(base, ref);
  if (!slow || *slow != fast)
    report_fast_path_mismatch("resolve_url", {"base", base, "ref", ref}, fast, slow);
  return slow;
}

const std::vector<std::string>& default_tracking_params() {
  static const std::vector<std::string> kDefault = {"utm_*", "fbclid", "gclid", "mc_cid", "mc_eid"};
  return kDefault;
}

std::optional<std::string> host_to_ascii(std::string_view host) {
  bool ascii = true;
  for (char c : host) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(host);
    for (char& c : out) c = ascii_lower(c);
    return out;
  }
  thread_local std::unique_ptr<UIDNA, IdnaDeleter> idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    return std::unique_ptr<UIDNA, IdnaDeleter>(
        uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI, &status));
  }();
  if (!idna || host.size() > 1024) return std::nullopt;
  std::string out(host.size() * 4 + 64, '\0');
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = uidna_nameToASCII_UTF8(idna.get(), host.data(), static_cast<int32_t>(host.size()),
                                           out.data(), static_cast<int32_t>(out.size()), &info, &status);
  if (U_FAILURE(status) || info.errors != 0 || n <= 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> canonical_url(std::string_view url) {
  return canonical_url(url, default_tracking_params());
}

std::optional<std::string> canonical_url(std::string_view url,
                                         const std::vector<std::string>& tracking_params) {
  std::string fast;
  if (!canonical_fast(url, tracking_params, fast)) return canonical_slow(url, tracking_params);
  if (!fast_path_check_enabled()) return fast;
  std::optional<std::string> slow = canonical_slow(url, tracking_params);
  if (!slow || *slow != fast) report_fast_path_mismatch("canonical_url", {"url", url}, fast, slow);
  return slow;
}

namespace detail {

bool resolve_url_fast(std::string_view base, std::string_view ref, std::string& out) {
  return resolve_fast(base, ref, out);
}

std::optional<std::string> resolve_url_slow(std::string_view base, std::string_view ref) {
  return resolve_slow(base, ref);
}

bool canonical_url_fast(std::string_view url, const std::vector<std::string>& tracking_params,
                        std::string& out) {
  return canonical_fast(url, tracking_params, out);
}

std::optional<std::string> canonical_url_slow(std::string_view url,
                                              const std::vector<std::string>& tracking_params) {
  return canonical_slow(url, tracking_params);
}

}  // namespace detail

bool is_dangerous_url(std::string_view url) {
  std::string scheme;
  bool started = false;
  bool colon = false;
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (!started && byte <= 0x20) continue;  // leading controls and spaces
    started = true;
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c == ':') {
      colon = true;
      break;
    }
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') return false;
    scheme.push_back(ascii_lower(c));
    if (scheme.size() > 16) return false;
  }
  static constexpr std::array<std::string_view, 5> kDangerous = {"javascript", "vbscript", "data",
                                                                 "livescript", "mocha"};
  for (std::string_view name : kDangerous) {
    if (colon && scheme == name) return true;
  }
  return false;
}

}  // namespace postwire::normalise
