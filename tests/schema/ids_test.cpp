#include "postwire/schema/ids.hpp"

#include <gtest/gtest.h>

namespace postwire {
namespace {

TEST(Ids, PostIdIsStableAndDocumented) {
  // The rule of docs/events.md, spelled out: "p_" + 32 hex of SHA-256("post" US source US native).
  const std::string expected =
      "p_" + sha256_hex(std::string("post\x1f") + "site-a\x1f" + "guid-1").substr(0, 32);
  EXPECT_EQ(make_post_id("site-a", "guid-1"), expected);
  EXPECT_EQ(make_post_id("site-a", "guid-1"), make_post_id("site-a", "guid-1"));
  EXPECT_EQ(make_post_id("site-a", "guid-1").size(), 34U);
}

TEST(Ids, KnownValuesNeverChange) {
  // Pinned: changing these breaks every consumer's dedupe across an upgrade.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(make_post_id("s", "n"), "p_" + sha256_hex("post\x1fs\x1fn").substr(0, 32));
  EXPECT_EQ(make_comment_id("s", "n"), "c_" + sha256_hex("comment\x1fs\x1fn").substr(0, 32));
}

TEST(Ids, DifferentInputsGiveDifferentIds) {
  EXPECT_NE(make_post_id("site-a", "1"), make_post_id("site-b", "1"));
  EXPECT_NE(make_post_id("site-a", "1"), make_post_id("site-a", "2"));
  // The separator keeps ("ab","c") and ("a","bc") apart.
  EXPECT_NE(make_post_id("ab", "c"), make_post_id("a", "bc"));
  EXPECT_NE(make_post_id("s", "1").substr(2), make_comment_id("s", "1").substr(2));
}

TEST(Ids, ContentHashIgnoresWhiteSpaceLayout) {
  EXPECT_EQ(make_content_hash("Title", "a b\n\nc"), make_content_hash("  Title ", "a   b c  "));
  EXPECT_NE(make_content_hash("Title", "a b c"), make_content_hash("Title", "a b d"));
  EXPECT_NE(make_content_hash("Title A", "x"), make_content_hash("Title B", "x"));
  EXPECT_EQ(make_content_hash("t", "x").rfind("sha256:", 0), 0U);
  EXPECT_EQ(make_content_hash("t", "x").size(), 7U + 64U);
}

// Stored marks compare these hashes, so their values may never change: each
// expected value is SHA-256 of the two texts with their ASCII white-space runs
// collapsed to one space and trimmed, joined by a line feed.
TEST(Ids, ContentHashValuesAreStable) {
  struct Row {
    const char* title;
    const char* text;
    const char* sha256;
  };
  const Row rows[] = {
      {"Budget vote delayed again",
       "The council met on Tuesday evening.\n\nMembers  could not agree on the\tbudget, and the vote was "
       "moved "
       "to next week.  ",
       "29098816e660f4e3bbbfff06b8c54d97cf22fc4ba0fbdd7cbf837704db291e3d"},
      // U+00A0 is not ASCII white space: it stays.
      {"  Caf\u00e9 \u2014 open late ",
       "Ein   sch\u00f6ner\u00a0Abend\r\nmit  Freunden und\fMusik\v bis Mitternacht.",
       "a0d9c3ad9234327ee964a15e162cd65735812f95637a00131cfb0847f77ba671"},
      {"", "abcdefgh ijklmnop  qrstuvwx\nyz",
       "d0e13878b1f3719b6887b72fc02460db9ce89616974d469bfe97451d9d1c9b4f"},
      {"a b c d e f g h", "1234567 1234567  12345678\t\t123 ",
       "55aaa842657c631e106bbd7e293517c584d04aa407a04aaebfe549d266488394"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(make_content_hash(row.title, row.text), std::string("sha256:") + row.sha256) << row.text;
  }
}

TEST(Ids, FinalizeFillsIdAndHash) {
  PostData post;
  post.native_id = "guid";
  post.title = "Hello";
  post.content_text = "World";
  finalize_post("src", post);
  EXPECT_EQ(post.id, make_post_id("src", "guid"));
  EXPECT_EQ(post.content_hash, make_content_hash("Hello", "World"));

  CommentData c;
  c.native_id = "c1";
  c.post_id = post.id;
  c.content_text = "Nice";
  finalize_comment("src", c);
  EXPECT_EQ(c.id, make_comment_id("src", "c1"));
  EXPECT_EQ(c.content_hash, make_content_hash("", "Nice"));
}

TEST(Ids, EventIdDependsOnItemVersionTypeAndContent) {
  Event e;
  e.kind = EventKind::post;
  e.post.id = "p_00000000000000000000000000000001";
  e.post.content_hash = "sha256:aa";
  const auto base = make_event_id(e);
  EXPECT_EQ(base, make_event_id(e));  // replay after a crash gives the same id
  Event v2 = e;
  v2.version = 2;
  EXPECT_NE(base, make_event_id(v2));
  Event upd = e;
  upd.event_type = EventType::updated;
  EXPECT_NE(base, make_event_id(upd));
  Event other = e;
  other.post.content_hash = "sha256:bb";
  EXPECT_NE(base, make_event_id(other));
  EXPECT_EQ(base.rfind("e_", 0), 0U);
  EXPECT_EQ(base.size(), 34U);
}

}  // namespace
}  // namespace postwire
