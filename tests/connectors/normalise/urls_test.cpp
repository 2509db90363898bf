#include "normalise/urls.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postwire::normalise {
namespace {

struct ResolveRow {
  const char* base;
  const char* ref;
  const char* expected;  // nullptr: nullopt
};

// The first block is RFC 3986 section 5.4 (normal and abnormal examples); libcurl
// normalises "//g" to "http://g/", which is the same URL.
const ResolveRow kResolveRows[] = {
    {"http://a/b/c/d;p?q", "g", "http://a/b/c/g"},
    {"http://a/b/c/d;p?q", "./g", "http://a/b/c/g"},
    {"http://a/b/c/d;p?q", "g/", "http://a/b/c/g/"},
    {"http://a/b/c/d;p?q", "/g", "http://a/g"},
    {"http://a/b/c/d;p?q", "//g", "http://g/"},
    {"http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y"},
    {"http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y"},
    {"http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s"},
    {"http://a/b/c/d;p?q", "g#s", "http://a/b/c/g#s"},
    {"http://a/b/c/d;p?q", "g?y#s", "http://a/b/c/g?y#s"},
    {"http://a/b/c/d;p?q", ";x", "http://a/b/c/;x"},
    {"http://a/b/c/d;p?q", "g;x?y#s", "http://a/b/c/g;x?y#s"},
    {"http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q"},
    {"http://a/b/c/d;p?q", ".", "http://a/b/c/"},
    {"http://a/b/c/d;p?q", "..", "http://a/b/"},
    {"http://a/b/c/d;p?q", "../g", "http://a/b/g"},
    {"http://a/b/c/d;p?q", "../..", "http://a/"},
    {"http://a/b/c/d;p?q", "../../g", "http://a/g"},
    {"http://a/b/c/d;p?q", "../../../g", "http://a/g"},
    {"http://a/b/c/d;p?q", "/./g", "http://a/g"},
    {"http://a/b/c/d;p?q", "/../g", "http://a/g"},
    {"http://a/b/c/d;p?q", "g.", "http://a/b/c/g."},
    {"http://a/b/c/d;p?q", "..g", "http://a/b/c/..g"},
    {"http://a/b/c/d;p?q", "./../g", "http://a/b/g"},
    {"http://a/b/c/d;p?q", "g/./h", "http://a/b/c/g/h"},
    {"http://a/b/c/d;p?q", "g/../h", "http://a/b/c/h"},
    {"http://a/b/c/d;p?q", "g?y/./x", "http://a/b/c/g?y/./x"},
    {"http://a/b/c/d;p?q", "g#s/../x", "http://a/b/c/g#s/../x"},
    {"http://a/b/c/d;p?q#f", "#s", "http://a/b/c/d;p?q#s"},
    {"http://a/b/c/d;p?q#f", "", "http://a/b/c/d;p?q"},
    // Absolute references.
    {"http://a/b/c/d;p?q", "g:h", "g:h"},
    {"http://a/b/", "https://other.example/x/../y", "https://other.example/y"},
    {"", "https://example.com/feed", "https://example.com/feed"},
    {"http://a/b/", "mailto:someone@example.com", "mailto:someone@example.com"},
    {"http://a/b/", "javascript:alert(1)", "javascript:alert(1)"},  // callers check is_dangerous_url
    // What feeds really do.
    {"https://blog.example/feed.xml", "  /2007/07/post.html\n ", "https://blog.example/2007/07/post.html"},
    {"https://blog.example/feed.xml", "https://blog.example/a\n/b", "https://blog.example/a/b"},
    {"https://blog.example/feed.xml", "images/a b.png", "https://blog.example/images/a%20b.png"},
    {"https://blog.example/feed.xml", "https://blog.example/my file.mp3",
     "https://blog.example/my%20file.mp3"},
    {"https://blog.example/dir/feed.xml", "//cdn.example/x.js", "https://cdn.example/x.js"},
    {"file:///srv/feeds/a.xml", "img/x.png", "file:///srv/feeds/img/x.png"},
    {"file:///srv/feeds/a.xml", "/etc/x", "file:///etc/x"},
    // Nothing to resolve against, or garbage.
    {"", "/relative", nullptr},
    {"not a url", "/relative", nullptr},
    {"mailto:x@example.com", "g", nullptr},
    {"http://a/b/", "http://exa mple.com/", nullptr},
    {"http://a/b/", "http://", nullptr},
    {"http://a/b/", "x:", nullptr},
};

class ResolveUrlTable : public ::testing::TestWithParam<ResolveRow> {};

TEST_P(ResolveUrlTable, Resolves) {
  const ResolveRow& row = GetParam();
  const std::optional<std::string> got = resolve_url(row.base, row.ref);
  if (row.expected == nullptr) {
    EXPECT_FALSE(got.has_value()) << *got;
  } else {
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, row.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, ResolveUrlTable, ::testing::ValuesIn(kResolveRows),
                         [](const ::testing::TestParamInfo<ResolveRow>& row_info) {
                           return std::to_string(row_info.index);
                         });

struct CanonicalRow {
  const char* input;
  const char* expected;  // nullptr: nullopt
};

const CanonicalRow kCanonicalRows[] = {
    {"http://example.com/a", "http://example.com/a"},
    {"HTTP://Example.COM/Path", "http://example.com/Path"},  // the path keeps its case
    {"http://example.com", "http://example.com/"},
    {"http://example.com:80/a", "http://example.com/a"},
    {"https://example.com:443/a", "https://example.com/a"},
    {"http://example.com:443/a", "http://example.com:443/a"},
    {"https://example.com:8443/a", "https://example.com:8443/a"},
    {"http://example.com/a#section", "http://example.com/a"},
    {"http://example.com/a/./b/../c", "http://example.com/a/c"},
    {"http://example.com/a?utm_source=rss&utm_medium=feed", "http://example.com/a"},
    {"http://example.com/a?id=7&utm_campaign=x&page=2", "http://example.com/a?id=7&page=2"},
    {"http://example.com/a?fbclid=abc&b=1", "http://example.com/a?b=1"},
    {"http://example.com/a?gclid=1&mc_cid=2&mc_eid=3", "http://example.com/a"},
    {"http://example.com/a?UTM_Source=x&q=1", "http://example.com/a?q=1"},
    {"http://example.com/a?z=1&a=2", "http://example.com/a?z=1&a=2"},  // order kept
    {"http://example.com/a?utm=1", "http://example.com/a?utm=1"},      // not a utm_ parameter
    {"http://example.com/a?", "http://example.com/a"},
    {"http://example.com/%7euser/%2f", "http://example.com/~user/%2F"},
    {"http://example.com/%7Euser/%2F?q=%41%2F", "http://example.com/~user/%2F?q=A%2F"},
    {"http://example.com/a b", "http://example.com/a%20b"},
    {"  https://example.com/a \n", "https://example.com/a"},
    {"http://user@Example.com/", "http://user@example.com/"},
    {"http://[::1]:80/x", "http://[::1]/x"},
    {"file:///srv/feed.xml", "file:///srv/feed.xml"},
    {"", nullptr},
    {"   ", nullptr},
    {"example.com/a", nullptr},
    {"/relative/path", nullptr},
    {"not a url", nullptr},
    {"javascript:alert(1)", nullptr},
    {"mailto:x@example.com", nullptr},
    {"http://", nullptr},
    {"http://exa mple.com/", nullptr},
    {"http://example.com:99999/", nullptr},
};

class CanonicalUrlTable : public ::testing::TestWithParam<CanonicalRow> {};

TEST_P(CanonicalUrlTable, Canonicalises) {
  const CanonicalRow& row = GetParam();
  const std::optional<std::string> got = canonical_url(row.input);
  if (row.expected == nullptr) {
    EXPECT_FALSE(got.has_value()) << *got;
  } else {
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, row.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, CanonicalUrlTable, ::testing::ValuesIn(kCanonicalRows),
                         [](const ::testing::TestParamInfo<CanonicalRow>& row_info) {
                           return std::to_string(row_info.index);
                         });

TEST(CanonicalUrl, IsIdempotent) {
  for (const CanonicalRow& row : kCanonicalRows) {
    if (row.expected == nullptr) continue;
    EXPECT_EQ(canonical_url(row.expected), std::optional<std::string>(row.expected)) << row.input;
  }
}

TEST(IsDangerousUrl, Schemes) {
  EXPECT_TRUE(is_dangerous_url("javascript:alert(1)"));
  EXPECT_TRUE(is_dangerous_url("  JavaScript:alert(1)"));
  EXPECT_TRUE(is_dangerous_url("java\tscript:alert(1)"));
  EXPECT_TRUE(is_dangerous_url("\x01javascript:alert(1)"));
  EXPECT_TRUE(is_dangerous_url("vbscript:msgbox"));
  EXPECT_TRUE(is_dangerous_url("data:text/html;base64,PHNjcmlwdD4="));
  EXPECT_FALSE(is_dangerous_url("https://example.com/javascript:"));
  EXPECT_FALSE(is_dangerous_url("/javascript:x"));
  EXPECT_FALSE(is_dangerous_url("javascript"));
  EXPECT_FALSE(is_dangerous_url("mailto:x@example.com"));
  EXPECT_FALSE(is_dangerous_url(""));
}

}  // namespace
}  // namespace postwire::normalise
