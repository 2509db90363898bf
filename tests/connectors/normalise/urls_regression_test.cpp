// Regressions found by the feed fuzzer.
#include <gtest/gtest.h>

#include "normalise/text_clean.hpp"
#include "normalise/urls.hpp"

namespace postwire::normalise {
namespace {

TEST(UrlRegression, PercentEscapedHostBytesNeverComeBackAsInvalidUtf8) {
  // libcurl decodes "%CC" in a host name to the raw byte 0xCC.
  const auto resolved = resolve_url("http://bCC%CCCCase.example/root/", "post.html");
  if (resolved) {
    EXPECT_TRUE(is_valid_utf8(*resolved)) << *resolved;
  }
  const auto canonical = canonical_url("http://bCC%CCCCase.example/root/post.html");
  if (canonical) {
    EXPECT_TRUE(is_valid_utf8(*canonical)) << *canonical;
  }
  // A host with a valid escaped UTF-8 sequence is still an IDN, not an error.
  EXPECT_TRUE(resolve_url("http://xn--bcher-kva.example/", "a.html"));
}

}  // namespace
}  // namespace postwire::normalise
