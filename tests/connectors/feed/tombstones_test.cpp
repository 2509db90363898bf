#include "feed/tombstones.hpp"

#include <gtest/gtest.h>

namespace postwire::feed {
namespace {

TEST(Tombstones, ReadsRfc6721DeletedEntries) {
  const auto found = find_tombstones(R"(<feed xmlns="http://www.w3.org/2005/Atom"
      xmlns:at="http://purl.org/atompub/tombstones/1.0"><title>x</title>
    <at:deleted-entry ref="urn:a:1" when="2007-07-23T09:30:00-04:00"/>
    <at:deleted-entry ref="urn:a:2"/>
    <at:deleted-entry/>
    <deleted-entry ref="not-in-the-namespace"/></feed>)");
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[0].ref, "urn:a:1");
  EXPECT_EQ(found[0].when, 1185197400);  // 13:30 UTC
  EXPECT_EQ(found[1].ref, "urn:a:2");
  EXPECT_FALSE(found[1].when);
}

TEST(Tombstones, NothingToFindIsCheap) {
  EXPECT_TRUE(find_tombstones("<rss><channel/></rss>").empty());
  EXPECT_TRUE(find_tombstones("deleted-entry but not XML <<<").empty());
}

TEST(Tombstones, NoExternalEntitiesOrNetwork) {
  const auto found = find_tombstones(R"(<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:at="http://purl.org/atompub/tombstones/1.0">
  <at:deleted-entry ref="&x;"/></feed>)");
  for (const auto& t : found) EXPECT_EQ(t.ref.find("root:"), std::string::npos);
}

}  // namespace
}  // namespace postwire::feed
