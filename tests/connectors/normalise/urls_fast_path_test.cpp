// The hand-written URL fast paths (urls.cpp, resolve_fast and canonical_fast) must
// give exactly what the libcurl paths give whenever they answer, and must leave
// everything they cannot reproduce to libcurl.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "normalise/urls.hpp"

namespace postwire::normalise {
namespace {

std::string show(const std::optional<std::string>& value) { return value ? "\"" + *value + "\"" : "nullopt"; }

// Whether the fast path answered; a failure when its answer differs from libcurl's.
bool check_canonical(std::string_view url, const std::vector<std::string>& tracking) {
  std::string fast;
  if (!detail::canonical_url_fast(url, tracking, fast)) return false;
  const std::optional<std::string> slow = detail::canonical_url_slow(url, tracking);
  EXPECT_TRUE(slow.has_value() && *slow == fast)
      << "canonical_url(\"" << url << "\"): fast \"" << fast << "\", libcurl " << show(slow);
  return true;
}

bool check_resolve(std::string_view base, std::string_view ref) {
  std::string fast;
  if (!detail::resolve_url_fast(base, ref, fast)) return false;
  const std::optional<std::string> slow = detail::resolve_url_slow(base, ref);
  EXPECT_TRUE(slow.has_value() && *slow == fast) << "resolve_url(\"" << base << "\", \"" << ref
                                                 << "\"): fast \"" << fast << "\", libcurl " << show(slow);
  return true;
}

// Hits: the fast path must answer these (and agree with libcurl).
const std::vector<std::string> kCanonicalHits = {
    "http://example.com",
    "http://example.com/",
    "https://example.com/a/b/c.html",
    "http://example.com:80/a",
    "https://example.com:443/a",
    "http://example.com:443/a",
    "https://example.com:80/a",
    "http://example.com:8080/a?x=1",
    "http://example.com?x=1",
    "http://example.com#top",
    "http://example.com/post/#comment-98814",
    "http://politicalticker.blogs.cnn.com/2007/07/22/us-and-iran-set-to-meet-this-week-in-baghdad/"
    "#comment-98814",
    "http://example.com/a?",
    "http://example.com/a?#",
    "http://example.com/a#",
    "http://example.com/~user/%7Euser/%7e/%41%42/%2f%2F/%c3%a9",
    "http://example.com/a?utm_source=x&a=1",
    "http://example.com/a?a=1&utm_source=x&b=2&UTM_MEDIUM=y&fbclid=1&gclid=2&mc_cid=3&mc_eid=4&c",
    "http://example.com/a?utm_source=x",
    "http://example.com/a?&&a=1&&",
    "http://example.com/a?=1&a=&b",
    "http://example.com/a?q=%7e%7E%2f%20%C3%A9&utm%5Fsource=x",
    "http://example.com/a?q=/../b&r=./c",
    "http://example.com/a?b?c#d?e/f",
    "http://example.com/a//b///c",
    "http://example.com//a",
    "http://example.com/..x/.y/z./...",
    "http://example.com/a:b@c!$&'()*+,;=",
    "http://sub-domain.example-1.co.uk/index.php?p=12",
    "http://a.1/",
    "  http://example.com/a  ",
    "\thttp://exa\nmple.com/a b\r\n",
    "http://example.com/a%20b",
    "https://example.com:65535/",
};

// Near misses: whatever the fast path does with them, it must agree with libcurl.
const std::vector<std::string> kCanonicalNearMisses = {
    "HTTP://example.com/",
    "Http://example.com/",
    "http://Example.COM/",
    "http://EXAMPLE.com:80/a",
    "http://example.com:/a",
    "http://example.com:0080/a",
    "http://example.com:0/",
    "http://example.com:65536/",
    "http://example.com:99999/",
    "http://example.com:8o/",
    "http://example.com./a",
    "http://a..b/",
    "http://.a/",
    "http://-a-.b-/",
    "http://1.2.3/",
    "http://1.2.3.4/",
    "http://0x7f.1/",
    "http://9to5mac.com/",
    "http://[::1]/a",
    "http://[::1]:80/a",
    "http://user@example.com/a",
    "http://user:pw@example.com/a",
    "http://ex%61mple.com/a",
    "http://bücher.example/a",
    "http://Bücher.example/a",
    "http://xn--bcher-kva.example/a",
    "http://my_host.example/a",
    "http://example.com/a/./b",
    "http://example.com/a/../b",
    "http://example.com/a/.",
    "http://example.com/a/..",
    "http://example.com/./a",
    "http://example.com/a/%2e%2e/b",
    "http://example.com/a/%2E/b",
    "http://example.com/a/%2ex",
    "http://example.com/a%",
    "http://example.com/a%4",
    "http://example.com/a%zz",
    "http://example.com/a?b=%",
    "http://example.com/a\\b",
    "http://example.com\\a",
    "http://example.com/a{b}|^`\"<>",
    "http://example.com/é?é#é",
    "http://example.com/a#b#c",
    "http://example.com/a\x01",
    "http://example.com/a\x7f",
    "http:/example.com/a",
    "http:example.com/a",
    "http:///a",
    "ftp://example.com/a",
    "mailto:a@example.com",
    "//example.com/a",
    "/a/b",
    "",
};

// Hits for resolve_url.
const std::vector<std::pair<std::string, std::string>> kResolveHits = {
    {"http://example.com/feed", "http://other.example/a/b?x=1#f"},
    {"", "https://other.example:8443/a"},
    {"http://example.com/feed", "http://other.example:80/a"},
    {"http://example.com/feed", "http://other.example?q"},
    {"http://example.com/feed", "http://other.example#f"},
    {"http://example.com/feed", "http://other.example/a?#"},
    {"http://example.com/feed", "http://other.example/%7e%41?%7E#%7E"},
    {"http://example.com/dir/feed.xml", "/a/b"},
    {"http://example.com/dir/feed.xml", "/"},
    {"http://example.com/dir/feed.xml", "/a?b=1#c"},
    {"http://example.com/dir/feed.xml", "a/b"},
    {"http://example.com/dir/feed.xml", "comments.xml"},
    {"http://example.com/dir/feed.xml", "comments.xml?p=2"},
    {"http://example.com/dir/", "comments.xml"},
    {"http://example.com", "comments.xml"},
    {"http://example.com?x=1", "comments.xml"},
    {"http://example.com/dir/feed.xml?x=1", "comments.xml"},
    {"http://example.com/dir/feed.xml?x=/a/b", "c"},
    {"http://example.com:8080/dir/feed.xml", "c"},
    {"http://example.com:80/dir/feed.xml", "c"},
    {"http://example.com/dir/feed.xml?x", "?q=1"},
    {"http://example.com/dir/feed.xml", "?"},
    {"http://example.com", "?q"},
    {"http://example.com/dir/feed.xml?x", ""},
    {"http://example.com/dir/feed.xml?x#f", ""},
    {"http://example.com/dir/feed.xml?x#f", "#"},
    {"http://example.com/dir/feed.xml", "#comment-12"},
    {"http://example.com/dir/feed.xml", "c#"},
    {"http://example.com/dir/feed.xml", "c?"},
    {"http://example.com/dir/feed.xml", "c//d"},
    {"http://example.com/dir/feed.xml", "..x/.y/z."},
    {"http://example.com/dir/feed.xml", "c/d:e"},
    {"http://example.com/dir/feed.xml", "c?x=/../y"},
    {"http://example.com/dir/feed.xml", "c%7E%2f"},
    {"http://example.com/dir/feed.xml", " c d \n"},
    {"http://example.com/dir//feed.xml", "c"},
};

const std::vector<std::pair<std::string, std::string>> kResolveNearMisses = {
    {"http://example.com/a/b", "../x"},
    {"http://example.com/a/b", "./x"},
    {"http://example.com/a/b", "."},
    {"http://example.com/a/b", ".."},
    {"http://example.com/a/b", "x/../y"},
    {"http://example.com/a/b", "/x/./y"},
    {"http://example.com/a/b", "//other.example/x"},
    {"http://example.com/a/b", "//other.example"},
    {"http://example.com/a/b#f/g", "c"},
    {"http://example.com/a/b#f", "?q"},
    {"http://example.com/a/b#f", "/c"},
    {"http://example.com/a/b", "#f%7E"},
    {"http://example.com/a/b", "c:d"},
    {"http://example.com/a/b", "1c:d"},
    {"http://example.com/a/b", "mailto:a@example.com"},
    {"http://example.com/a/b", "javascript:alert(1)"},
    {"http://example.com/a/b", "HTTP://other.example/"},
    {"http://example.com/a/b", "http://Other.example/"},
    {"http://example.com/a/b", "http://other.example:0080/"},
    {"http://example.com/a/b", "http://other.example/a/../b"},
    {"http://example.com/a/b", "http://1.2.3/"},
    {"http://example.com/a/b", "c\\d"},
    {"http://example.com/a/b", "é"},
    {"http://Example.com/a/b", "c"},
    {"HTTP://example.com/a/b", "c"},
    {"http://example.com/a/../b", "c"},
    {"http://example.com:/a/b", "c"},
    {"http://user@example.com/a/b", "c"},
    {"http://bücher.example/a/b", "c"},
    {"", "c"},
    {"/relative/base", "c"},
    {"mailto:a@example.com", "c"},
    {"ftp://example.com/a/b", "c"},
    {"http://example.com/a/b", "c%zz"},
    {"http://example.com/a/b", "c#d#e"},
    {"http://example.com//dir//feed.xml", "c"},
    {"http://example.com//feed.xml", "c"},
    {"http://example.com//feed.xml", "?q"},
};

TEST(UrlsFastPath, CanonicalTable) {
  std::size_t hits = 0;
  for (const std::string& url : kCanonicalHits) {
    const bool hit = check_canonical(url, default_tracking_params());
    EXPECT_TRUE(hit) << "fast path declined \"" << url << "\"";
    hits += hit ? 1 : 0;
  }
  for (const std::string& url : kCanonicalNearMisses) check_canonical(url, default_tracking_params());
  EXPECT_EQ(hits, kCanonicalHits.size());
}

TEST(UrlsFastPath, CanonicalCustomTrackingParams) {
  const std::vector<std::string> tracking = {"ref", "x_*", "", "Session"};
  for (const char* url : {"http://example.com/a?ref=1&x_a=2&X_B=3&xa=4&session=5&=6&keep=7",
                          "http://example.com/a?REF&x_&keep", "http://example.com/a?utm_source=x"}) {
    EXPECT_TRUE(check_canonical(url, tracking)) << url;
  }
}

TEST(UrlsFastPath, ResolveTable) {
  for (const auto& [base, ref] : kResolveHits) {
    EXPECT_TRUE(check_resolve(base, ref)) << "fast path declined \"" << base << "\" + \"" << ref << "\"";
  }
  for (const auto& [base, ref] : kResolveNearMisses) check_resolve(base, ref);
}

// The public functions give libcurl's answers whether or not the fast path takes them.
TEST(UrlsFastPath, PublicFunctionsAgreeWithLibcurl) {
  for (const std::string& url : kCanonicalHits) {
    EXPECT_EQ(canonical_url(url), detail::canonical_url_slow(url, default_tracking_params())) << url;
  }
  for (const std::string& url : kCanonicalNearMisses) {
    EXPECT_EQ(canonical_url(url), detail::canonical_url_slow(url, default_tracking_params())) << url;
  }
  for (const auto& [base, ref] : kResolveHits) {
    EXPECT_EQ(resolve_url(base, ref), detail::resolve_url_slow(base, ref)) << base << " + " << ref;
  }
  for (const auto& [base, ref] : kResolveNearMisses) {
    EXPECT_EQ(resolve_url(base, ref), detail::resolve_url_slow(base, ref)) << base << " + " << ref;
  }
}

// The fast paths stop well short of libcurl's length limit.
TEST(UrlsFastPath, LongInputs) {
  const std::string long_path(20000, 'a');
  std::string out;
  EXPECT_FALSE(detail::canonical_url_fast("http://example.com/" + long_path, default_tracking_params(), out));
  EXPECT_FALSE(detail::resolve_url_fast("http://example.com/", long_path, out));
  EXPECT_FALSE(detail::resolve_url_fast("http://example.com/" + long_path, "a", out));
  EXPECT_TRUE(check_canonical("http://example.com/" + long_path.substr(0, 8000), default_tracking_params()));
  EXPECT_TRUE(check_resolve("http://example.com/" + long_path.substr(0, 8000), long_path.substr(0, 8000)));
}

// Random URLs assembled from pieces: mostly ones inside the fast subset, with now
// and then one chosen for what libcurl rewrites or rejects, so that many inputs sit
// right at the boundary of the subset.
class UrlGenerator {
 public:
  explicit UrlGenerator(std::uint32_t seed) : rng_(seed) {}

  std::string absolute() {
    std::string url;
    url += either(kSchemes, kOddSchemes);
    url += either(kHosts, kOddHosts);
    url += either(kPorts, kOddPorts);
    url += path(true);
    url += query();
    url += fragment();
    return wrap(std::move(url));
  }

  std::string reference() {
    switch (below(10)) {
      case 0:
      case 1:
        return absolute();
      case 2:
        return wrap(fragment());
      case 3:
        return wrap(query() + fragment());
      case 4:
      case 5:
        return wrap(path(true) + query() + fragment());
      case 6:
        return wrap("//" + std::string(either(kHosts, kOddHosts)) + path(true) + query());
      default:
        return wrap(path(false) + query() + fragment());
    }
  }

 private:
  using Pieces = std::vector<std::string_view>;
  const Pieces kSchemes = {"http://", "https://"};
  const Pieces kOddSchemes = {"HTTP://", "Https://", "ftp://", "http:/", "http:", "//", "mailto:", ""};
  const Pieces kHosts = {"example.com", "a.b", "sub.example.co.uk", "x-y.example", "a.1", "h"};
  const Pieces kOddHosts = {"Example.COM",    "1.2.3",   "1.2.3.4",  "9to5mac.com", "0x7f.1",
                            "a..b",           "a.b.",    ".a",       "-x-.y",       "xn--bcher-kva.example",
                            "bücher.example", "h_h.com", "[::1]",    "%61.com",     "user@h.com",
                            "user:pw@h.com",  "",        "h.com\\x", "h .com"};
  const Pieces kPorts = {"", "", "", ":8080", ":80", ":443", ":65535"};
  const Pieces kOddPorts = {":", ":0", ":080", ":65536", ":99999", ":x", ":80:80"};
  const Pieces kSegments = {
      "a", "b", "post.html", "2024", "comments.xml", "x-y_z~", "%7E", "%7e", "~",  "%41", "%2f",        "%2F",
      ":", "@", "c:d",       "A",    "%20",          "%c3%a9", "..x", ".y",  "z.", "",    "!$&'()*+,;="};
  const Pieces kOddSegments = {".", "..", "%2e", "%2E", "%2e%2e", "%zz", "%",    "%4",   "a b",  "é", "\\",
                               "{", "|",  "\"",  "<",   "^",      "`",   "a\tb", "\x01", "\x7f", "#", "?"};
  const Pieces kParams = {"a=1",   "b",        "utm_source=x", "UTM_Medium=y", "fbclid=z",      "gclid",
                          "=v",    "",         "b=%7e",        "c=%2F",        "d=/../e",       "q=?",
                          "%41=1", "mc_cid=1", "v=x:/y@",      "a=b=c",        "utm%5Fsource=x"};
  const Pieces kOddParams = {"x=é", "y= ", "z=%zz", "w=a#b", "p=%", "r=\"", "s=<", "t=\\"};
  const Pieces kFragments = {"", "f", "comment-98814", "%7E", "a/b", "a?b", "top", "more-12", "c:@!"};
  const Pieces kOddFragments = {"#", "x y", "é", "%zz", "\""};

  std::size_t below(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

  std::string_view either(const Pieces& usual, const Pieces& odd) {
    const Pieces& from = below(8) == 0 ? odd : usual;
    return from[below(from.size())];
  }

  std::string path(bool absolute) {
    std::string out;
    const std::size_t segments = below(5);
    for (std::size_t i = 0; i < segments; ++i) {
      if (absolute || i > 0) out.push_back('/');
      out += either(kSegments, kOddSegments);
    }
    if (absolute && below(4) == 0) out.push_back('/');
    if (!absolute && out.empty()) out = either(kSegments, kOddSegments);
    return out;
  }

  std::string query() {
    if (below(2) == 0) return {};
    std::string out = "?";
    const std::size_t params = below(4);
    for (std::size_t i = 0; i < params; ++i) {
      if (i > 0) out.push_back('&');
      out += either(kParams, kOddParams);
    }
    return out;
  }

  std::string fragment() {
    if (below(3) != 0) return {};
    return "#" + std::string(either(kFragments, kOddFragments));
  }

  std::string wrap(std::string s) {
    switch (below(12)) {
      case 0:
        return " " + s + "\n";
      case 1:
        return "\t" + s;
      case 2:
        if (!s.empty()) s.insert(below(s.size()), "\n");
        return s;
      default:
        return s;
    }
  }

  std::mt19937 rng_;
};

TEST(UrlsFastPath, RandomCanonicalAgreesWithLibcurl) {
  UrlGenerator gen(20240611);
  const std::vector<std::string> custom = {"a", "b*", "UTM_SOURCE"};
  std::size_t hits = 0;
  constexpr std::size_t kCases = 25000;
  for (std::size_t i = 0; i < kCases && !HasFailure(); ++i) {
    const std::string url = gen.absolute();
    hits += check_canonical(url, i % 5 == 0 ? custom : default_tracking_params()) ? 1 : 0;
  }
  // The generator is meant to exercise both sides of the fast path's boundary.
  EXPECT_GT(hits, kCases / 10);
  EXPECT_LT(hits, kCases * 9 / 10);
}

TEST(UrlsFastPath, RandomResolveAgreesWithLibcurl) {
  UrlGenerator gen(7);
  std::size_t hits = 0;
  constexpr std::size_t kCases = 25000;
  for (std::size_t i = 0; i < kCases && !HasFailure(); ++i) {
    const std::string base = gen.absolute();
    const std::string ref = gen.reference();
    hits += check_resolve(base, ref) ? 1 : 0;
  }
  EXPECT_GT(hits, kCases / 10);
  EXPECT_LT(hits, kCases * 9 / 10);
}

}  // namespace
}  // namespace postwire::normalise
