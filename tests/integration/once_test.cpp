// `postwire once` end to end: an RSS 2.0 site over HTTP with wfw:commentRss
// comment feeds and an Atom feed with RFC 4685 replies over file://, published
// to a real Kafka-protocol broker (librdkafka's mock cluster in its own
// process), read back with a plain consumer and checked against the event
// contract (docs/events.md) and the JSON Schemas.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postwire/schema/ids.hpp"
#include "support/daemon.hpp"
#include "support/feeds.hpp"
#include "support/http_server.hpp"
#include "support/json_schema.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

using nlohmann::json;

constexpr const char* kRssSource = "site-rss";
constexpr const char* kAtomSource = "site-atom";
constexpr const char* kPosts = "postwire.posts";
constexpr const char* kComments = "postwire.comments";

// Comment counts per RSS post, in document order.
const std::vector<int> kRssComments = {2, 3, 2};

std::string describe(const RunResult& r) {
  return "exit=" + (r.exit_code ? std::to_string(*r.exit_code) : std::string("timeout")) + "\n--- stdout:\n" +
         r.out + "\n--- stderr:\n" + r.err;
}

class OnceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // RSS site over HTTP: three posts, each with its own comment feed.
    rss_.title = "Ticker";
    rss_.link = "http://ticker.example/";
    rss_.description = "News as it happens";
    rss_.language = "en-us";
    const std::vector<std::string> weekdays = {"Sat", "Sun", "Mon"};  // 21, 22, 23 July 2007
    for (int i = 0; i < static_cast<int>(kRssComments.size()); ++i) {
      const std::string n = std::to_string(i + 1);
      const std::string day = weekdays[static_cast<std::size_t>(i)] + ", 2" + n + " Jul 2007 ";
      RssItem item;
      item.guid = "http://ticker.example/?p=" + n;
      item.title = "Post number " + n;
      item.link = "http://ticker.example/2007/07/2" + n + "/post-" + n + "/";
      item.description = "Body of post " + n + ", with some words & an ampersand.";
      item.pub_date = day + "16:09:00 +0000";
      item.author = "Ticker desk";
      item.categories = {"Politics", "Topic " + n};
      item.comments_feed = http_.url("/comments/" + n + ".xml");
      item.comment_count = kRssComments[static_cast<std::size_t>(i)];
      rss_.items.push_back(item);

      RssChannel comments;
      comments.title = "Comments on: Post number " + n;
      comments.link = item.link;
      comments.description = "Comments";
      std::vector<std::string> order;
      for (int c = 0; c < kRssComments[static_cast<std::size_t>(i)]; ++c) {
        const std::string m = std::to_string(c + 1);
        RssItem comment;
        comment.guid = "http://ticker.example/?p=" + n + "&comment=" + m;
        comment.title = "By: Reader " + m;
        comment.link = item.link + "#comment-" + m;
        comment.description = "Comment " + m + " on post " + n + ": I have thoughts.";
        comment.pub_date = day + "17:0" + m + ":00 +0000";
        comment.author = "Reader " + m;
        comments.items.push_back(comment);
        order.push_back(comment.guid);
      }
      rss_comment_order_[item.guid] = order;
      http_.set_route("/comments/" + n + ".xml", rss_document(comments),
                      "application/rss+xml; charset=utf-8");
    }
    serve_rss();

    // Atom feed on disk: the first entry has a replies feed with a top-level
    // comment and a reply to that comment; the second has no comments.
    const std::string replies_path = (dir_ / "atom" / "replies-1.xml").string();
    AtomFeed atom;
    atom.id = "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6";
    atom.title = "World Desk";
    atom.link = "http://world.example/";
    atom.updated = "2024-03-02T10:00:00Z";
    atom.language = "en";
    AtomEntry first;
    first.id = "tag:world.example,2024:entry-1";
    first.title = "Floods in the valley";
    first.link = "http://world.example/2024/03/01/floods";
    first.updated = "2024-03-01T10:00:00Z";
    first.published = "2024-03-01T09:00:00Z";
    first.author = "World Desk";
    first.content = "The river rose overnight.";
    first.replies = file_url(replies_path);
    AtomEntry second;
    second.id = "tag:world.example,2024:entry-2";
    second.title = "Markets steady";
    second.link = "http://world.example/2024/03/02/markets";
    second.updated = "2024-03-02T10:00:00Z";
    second.author = "World Desk";
    second.content = "Nothing moved much.";
    atom.entries = {first, second};
    atom_post_ids_ = {first.id, second.id};
    write_file(dir_ / "atom" / "feed.xml", atom_document(atom));

    AtomFeed replies;
    replies.id = "tag:world.example,2024:entry-1/comments";
    replies.title = "Comments on Floods in the valley";
    replies.updated = "2024-03-01T12:00:00Z";
    AtomEntry top;
    top.id = "tag:world.example,2024:comment-1";
    top.title = "Comment by Ann";
    top.link = "http://world.example/2024/03/01/floods#c1";
    top.updated = "2024-03-01T11:00:00Z";
    top.author = "Ann";
    top.content = "Stay safe, everyone.";
    top.in_reply_to = first.id;
    AtomEntry reply;
    reply.id = "tag:world.example,2024:comment-2";
    reply.title = "Comment by Bob";
    reply.link = "http://world.example/2024/03/01/floods#c2";
    reply.updated = "2024-03-01T12:00:00Z";
    reply.author = "Bob";
    reply.content = "Thanks Ann, we are fine.";
    reply.in_reply_to = top.id;
    replies.entries = {top, reply};
    atom_comment_ids_ = {top.id, reply.id};
    write_file(replies_path, atom_document(replies));

    atom_url_ = file_url(dir_ / "atom" / "feed.xml");
    config_ = write_config(
        dir_.str(), broker_.bootstrap(),
        feed_source_yaml(kRssSource, http_.url("/feed.xml")) + feed_source_yaml(kAtomSource, atom_url_));
  }

  void serve_rss() { http_.set_route("/feed.xml", rss_document(rss_), "application/rss+xml; charset=utf-8"); }

  int expected_posts() const { return static_cast<int>(rss_.items.size() + atom_post_ids_.size()); }
  int expected_comments() const {
    int n = static_cast<int>(atom_comment_ids_.size());
    for (const int c : kRssComments) n += c;
    return n;
  }

  RunResult once() { return postwire({"once", "--config", config_.path}); }

  TempDir dir_{"postwire-once"};
  MockBroker broker_;
  HttpServer http_;
  RssChannel rss_;
  std::map<std::string, std::vector<std::string>> rss_comment_order_;  // post guid -> comment guids
  std::vector<std::string> atom_post_ids_;
  std::vector<std::string> atom_comment_ids_;
  std::string atom_url_;
  ConfigFile config_;
};

// Checks what every published message must satisfy, whatever its kind.
void expect_cloudevents_headers(const ConsumedMessage& m, json payload, const std::string& kind) {
  SCOPED_TRACE(m.topic + "[" + std::to_string(m.partition) + "]@" + std::to_string(m.offset));
  EXPECT_EQ(m.header("ce_specversion").value_or("<missing>"), "1.0");
  EXPECT_EQ(m.header("ce_id").value_or("<missing>"), payload.value("event_id", "<no event_id>"));
  EXPECT_EQ(m.header("ce_source").value_or("<missing>"), "postwire/" + payload["source"].value("id", "?"));
  EXPECT_EQ(m.header("ce_type").value_or("<missing>"),
            "io.postwire." + kind + "." + payload.value("event_type", "<no event_type>"));
  EXPECT_EQ(m.header("ce_time").value_or("<missing>"), payload.value("fetched_at", "<no fetched_at>"));
  EXPECT_EQ(m.header("content-type").value_or("<missing>"), "application/json");
}

// event_id = "e_" + first 32 hex of SHA-256(item id US version US event_type US content_hash).
std::string expected_event_id(const std::string& item_id, long version, const std::string& type,
                              const std::string& content_hash) {
  const std::string us = "\x1f";
  return "e_" +
         sha256_hex(item_id + us + std::to_string(version) + us + type + us + content_hash).substr(0, 32);
}

std::vector<json> parse_payloads(const std::vector<ConsumedMessage>& messages) {
  std::vector<json> out;
  for (const auto& m : messages) {
    json payload = json::parse(m.value, nullptr, false);
    EXPECT_FALSE(payload.is_discarded()) << "payload is not JSON: " << m.value;
    out.push_back(payload.is_discarded() ? json::object() : payload);
  }
  return out;
}

std::vector<std::string> values_of(const std::vector<ConsumedMessage>& messages) {
  std::vector<std::string> values;
  values.reserve(messages.size());
  for (const auto& m : messages) values.push_back(m.value);
  return values;
}

TEST_F(OnceTest, PublishesPostsAndCommentsPerTheEventContract) {
  const RunResult r = once();
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto summary = parse_once_summary(r.out);
  ASSERT_TRUE(summary) << "no JSON summary line on stdout\n" << describe(r);
  EXPECT_EQ(summary->sources, 2);
  EXPECT_EQ(summary->published, expected_posts() + expected_comments()) << describe(r);
  EXPECT_EQ(summary->duplicates, 0);
  EXPECT_EQ(summary->errors, 0);
  EXPECT_EQ(summary->dead_lettered, 0);
  // stdout is exactly the one summary object, with exactly these keys.
  std::string line = r.out;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  EXPECT_EQ(line.find('\n'), std::string::npos) << "more than one line on stdout:\n" << r.out;
  json summary_json = json::parse(line, nullptr, false);
  ASSERT_TRUE(summary_json.is_object()) << r.out;
  std::set<std::string> keys;
  for (const auto& item : summary_json.items()) keys.insert(item.key());
  EXPECT_EQ(keys, (std::set<std::string>{"sources", "published", "duplicates", "unchanged", "errors",
                                         "dead_lettered"}))
      << r.out;

  const auto posts = consume_all(broker_.bootstrap(), kPosts);
  const auto comments = consume_all(broker_.bootstrap(), kComments);
  ASSERT_EQ(static_cast<int>(posts.size()), expected_posts());
  ASSERT_EQ(static_cast<int>(comments.size()), expected_comments());
  EXPECT_TRUE(consume_all(broker_.bootstrap(), "postwire.deadletter").empty());

  // Every payload validates against its schema.
  EXPECT_EQ(validate_events(values_of(posts), schema_path("post.v1.schema.json")), "");
  EXPECT_EQ(validate_events(values_of(comments), schema_path("comment.v1.schema.json")), "");

  // Posts: key = post.id = make_post_id(source, native id); created, version 1.
  std::map<std::string, std::string> post_id_by_native;  // "<source>|<native id>" -> post id
  std::set<std::string> event_ids;
  const auto post_payloads = parse_payloads(posts);
  for (std::size_t i = 0; i < posts.size(); ++i) {
    json p = post_payloads[i];  // a copy: operator[] on a missing key must not be UB
    SCOPED_TRACE(posts[i].value);
    ASSERT_TRUE(p.contains("post") && p["post"].is_object());
    const std::string source = p["source"].value("id", "");
    const std::string native = p["post"].value("native_id", "");
    const std::string id = p["post"].value("id", "");
    EXPECT_EQ(posts[i].key, id);
    EXPECT_EQ(id, make_post_id(source, native));
    EXPECT_EQ(p.value("schema", ""), "postwire.post/v1");
    EXPECT_EQ(p.value("event_type", ""), "created");
    EXPECT_EQ(p.value("version", 0), 1);
    EXPECT_TRUE(p["previous_content_hash"].is_null());
    EXPECT_EQ(p.value("event_id", ""),
              expected_event_id(id, 1, "created", p["post"].value("content_hash", "")));
    EXPECT_TRUE(event_ids.insert(p.value("event_id", "")).second) << "duplicate event_id";
    EXPECT_EQ(p["source"].value("type", ""), "feed");
    expect_cloudevents_headers(posts[i], p, "post");
    post_id_by_native[source + "|" + native] = id;
    if (source == kRssSource) {
      EXPECT_EQ(p["source"].value("url", ""), http_.url("/feed.xml"));
      EXPECT_EQ(p["source"]["title"], "Ticker");
    } else {
      EXPECT_EQ(source, kAtomSource);
      EXPECT_EQ(p["source"].value("url", ""), atom_url_);
      EXPECT_EQ(p["source"]["title"], "World Desk");
    }
  }
  // Exactly the posts of the two documents, by native id.
  for (const auto& item : rss_.items) {
    EXPECT_EQ(post_id_by_native.count(std::string(kRssSource) + "|" + item.guid), 1u) << item.guid;
  }
  for (const auto& native : atom_post_ids_) {
    EXPECT_EQ(post_id_by_native.count(std::string(kAtomSource) + "|" + native), 1u) << native;
  }
  // The RSS items carry their comment feed and stated count.
  for (std::size_t i = 0; i < posts.size(); ++i) {
    json p = post_payloads[i];
    if (p["source"].value("id", "") != kRssSource) continue;
    const std::string guid = p["post"].value("native_id", "");
    for (const auto& item : rss_.items) {
      if (item.guid != guid) continue;
      EXPECT_EQ(p["post"]["comments_url"], item.comments_feed);
      EXPECT_EQ(p["post"]["comment_count"], item.comment_count);
      EXPECT_EQ(p["post"]["title"], item.title);
      EXPECT_EQ(p["post"]["url"], item.link);
      EXPECT_EQ(p["post"]["published_at"], "2007-07-2" + guid.substr(guid.size() - 1) + "T16:09:00Z");
    }
  }

  // Comments: key = comment.post_id; one post's comments share a partition and
  // follow document order in it.
  const auto comment_payloads = parse_payloads(comments);
  std::map<std::string, std::vector<std::string>> natives_by_post;  // in (partition, offset) order
  std::map<std::string, std::set<int>> partitions_by_post;
  std::map<std::string, json> comment_by_native;
  for (std::size_t i = 0; i < comments.size(); ++i) {
    json c = comment_payloads[i];
    SCOPED_TRACE(comments[i].value);
    ASSERT_TRUE(c.contains("comment") && c["comment"].is_object());
    const std::string source = c["source"].value("id", "");
    const std::string native = c["comment"].value("native_id", "");
    const std::string post_id = c["comment"].value("post_id", "");
    const std::string id = c["comment"].value("id", "");
    EXPECT_EQ(comments[i].key, post_id);
    EXPECT_EQ(id, make_comment_id(source, native));
    EXPECT_EQ(c.value("schema", ""), "postwire.comment/v1");
    EXPECT_EQ(c.value("event_type", ""), "created");
    EXPECT_EQ(c.value("version", 0), 1);
    EXPECT_EQ(c.value("event_id", ""),
              expected_event_id(id, 1, "created", c["comment"].value("content_hash", "")));
    EXPECT_TRUE(event_ids.insert(c.value("event_id", "")).second) << "duplicate event_id";
    expect_cloudevents_headers(comments[i], c, "comment");
    natives_by_post[post_id].push_back(native);
    partitions_by_post[post_id].insert(comments[i].partition);
    comment_by_native[native] = c;
  }
  for (const auto& item : rss_.items) {
    const std::string post_id = post_id_by_native[std::string(kRssSource) + "|" + item.guid];
    SCOPED_TRACE("comments of " + item.guid);
    EXPECT_EQ(partitions_by_post[post_id].size(), 1u) << "a thread must stay in one partition";
    EXPECT_EQ(natives_by_post[post_id], rss_comment_order_[item.guid]) << "comments out of document order";
  }
  const std::string atom_post = post_id_by_native[std::string(kAtomSource) + "|" + atom_post_ids_[0]];
  EXPECT_EQ(partitions_by_post[atom_post].size(), 1u);
  EXPECT_EQ(natives_by_post[atom_post], atom_comment_ids_);

  // Threading: a reply to the post is top level; a reply to a comment names it.
  ASSERT_EQ(comment_by_native.count(atom_comment_ids_[0]), 1u);
  ASSERT_EQ(comment_by_native.count(atom_comment_ids_[1]), 1u);
  EXPECT_TRUE(comment_by_native[atom_comment_ids_[0]]["comment"]["parent_id"].is_null());
  EXPECT_EQ(comment_by_native[atom_comment_ids_[1]]["comment"]["parent_id"],
            make_comment_id(kAtomSource, atom_comment_ids_[0]));
  EXPECT_EQ(comment_by_native[atom_comment_ids_[1]]["comment"]["author"]["name"], "Bob");
  // RSS comments carry their author and text.
  const std::string first_comment = rss_comment_order_[rss_.items[0].guid][0];
  ASSERT_EQ(comment_by_native.count(first_comment), 1u);
  EXPECT_EQ(comment_by_native[first_comment]["comment"]["author"]["name"], "Reader 1");
  EXPECT_EQ(comment_by_native[first_comment]["comment"]["content_text"],
            "Comment 1 on post 1: I have thoughts.");
  EXPECT_EQ(comment_by_native[first_comment]["comment"]["published_at"], "2007-07-21T17:01:00Z");
}

TEST_F(OnceTest, SecondRunOnTheSameStatePublishesNothing) {
  const RunResult first = once();
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  const auto first_summary = parse_once_summary(first.out);
  ASSERT_TRUE(first_summary) << describe(first);
  ASSERT_EQ(first_summary->published, expected_posts() + expected_comments()) << describe(first);

  const RunResult second = once();
  ASSERT_EQ(second.exit_code, 0) << describe(second);
  const auto summary = parse_once_summary(second.out);
  ASSERT_TRUE(summary) << describe(second);
  EXPECT_EQ(summary->published, 0) << describe(second);
  EXPECT_EQ(summary->duplicates, first_summary->published) << describe(second);
  EXPECT_EQ(summary->errors, 0);
  EXPECT_EQ(summary->dead_lettered, 0);

  EXPECT_EQ(static_cast<int>(consume_all(broker_.bootstrap(), kPosts).size()), expected_posts());
  EXPECT_EQ(static_cast<int>(consume_all(broker_.bootstrap(), kComments).size()), expected_comments());
}

TEST_F(OnceTest, ChangedTitleIsPublishedAsOneUpdatedEvent) {
  const RunResult first = once();
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  const auto before = consume_all(broker_.bootstrap(), kPosts);
  ASSERT_EQ(static_cast<int>(before.size()), expected_posts());

  // Edit the second RSS item's title.
  const std::string guid = rss_.items[1].guid;
  const std::string post_id = make_post_id(kRssSource, guid);
  json original;
  for (const auto& m : before) {
    if (m.key == post_id) original = json::parse(m.value);
  }
  ASSERT_TRUE(original.is_object()) << "no post event keyed " << post_id;
  rss_.items[1].title = "Post number 2 (corrected)";
  serve_rss();

  const RunResult third = once();
  ASSERT_EQ(third.exit_code, 0) << describe(third);
  const auto summary = parse_once_summary(third.out);
  ASSERT_TRUE(summary) << describe(third);
  EXPECT_EQ(summary->published, 1) << describe(third);
  EXPECT_EQ(summary->duplicates, expected_posts() + expected_comments() - 1) << describe(third);
  EXPECT_EQ(summary->errors, 0);

  const auto after = consume_all(broker_.bootstrap(), kPosts);
  ASSERT_EQ(static_cast<int>(after.size()), expected_posts() + 1);
  EXPECT_EQ(static_cast<int>(consume_all(broker_.bootstrap(), kComments).size()), expected_comments());

  std::vector<ConsumedMessage> versions;
  for (const auto& m : after) {
    if (m.key == post_id) versions.push_back(m);
  }
  ASSERT_EQ(versions.size(), 2u) << "expected the original and one update keyed " << post_id;
  EXPECT_EQ(versions[0].partition, versions[1].partition);
  EXPECT_LT(versions[0].offset, versions[1].offset);
  json updated = json::parse(versions[1].value);
  SCOPED_TRACE(versions[1].value);
  EXPECT_EQ(updated.value("event_type", ""), "updated");
  EXPECT_EQ(updated.value("version", 0), 2);
  EXPECT_EQ(updated["previous_content_hash"], original["post"]["content_hash"]);
  EXPECT_NE(updated["post"]["content_hash"], original["post"]["content_hash"]);
  EXPECT_EQ(updated["post"]["id"], post_id);
  EXPECT_EQ(updated["post"]["title"], "Post number 2 (corrected)");
  EXPECT_EQ(updated.value("event_id", ""),
            expected_event_id(post_id, 2, "updated", updated["post"].value("content_hash", "")));
  EXPECT_EQ(versions[1].header("ce_type").value_or("<missing>"), "io.postwire.post.updated");
  EXPECT_EQ(validate_events({versions[1].value}, schema_path("post.v1.schema.json")), "");
}

}  // namespace
}  // namespace postwire::testing
