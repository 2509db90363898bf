#include "postwire/schema/event_json.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include <ctime>

#include <nlohmann/json.hpp>
#include <random>

#include "postwire/schema/ids.hpp"
#include "postwire/schema/json_writer.hpp"
#include "postwire/schema/time.hpp"

namespace postwire {
namespace {

Event sample_post() {
  Event e;
  e.kind = EventKind::post;
  e.source = {"political-ticker", "feed", "http://example.com/feed", "Ticker"};
  e.fetched_at = 1'185'120'540'123;  // 2007-07-22T16:09:00.123Z
  e.post.native_id = "http://example.com/?p=1";
  e.post.title = "U.S. and Iran set to meet this week in Baghdad";
  e.post.content_text = "WASHINGTON (CNN) - ...";
  e.post.authors.push_back(Author{"CNN", std::nullopt, std::nullopt});
  e.post.published_at = 1'185'120'540;
  e.post.tags = {"Iran", "Iraq"};
  e.post.comment_count = 7;
  finalize_post("political-ticker", e.post);
  e.event_id = make_event_id(e);
  return e;
}

TEST(EventJson, PostHasEveryFieldInSchemaOrder) {
  const auto j = nlohmann::ordered_json::parse(to_json(sample_post()));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"schema", "event_id", "event_type", "version", "previous_content_hash",
                                      "source", "fetched_at", "quality", "post"}));
  EXPECT_EQ(j["schema"], "postwire.post/v1");
  EXPECT_EQ(j["event_type"], "created");
  EXPECT_EQ(j["version"], 1);
  EXPECT_TRUE(j["previous_content_hash"].is_null());
  EXPECT_EQ(j["fetched_at"], "2007-07-22T16:09:00.123Z");
  EXPECT_EQ(j["post"]["published_at"], "2007-07-22T16:09:00Z");
  EXPECT_TRUE(j["post"]["updated_at"].is_null());  // unknown stays null, never invented
  EXPECT_TRUE(j["post"]["url"].is_null());
  EXPECT_EQ(j["post"]["tags"], nlohmann::ordered_json::array({"Iran", "Iraq"}));
  EXPECT_EQ(j["post"]["comment_count"], 7);
  EXPECT_EQ(j["post"]["authors"][0]["name"], "CNN");
  EXPECT_TRUE(j["post"]["authors"][0]["location"].is_null());
  EXPECT_EQ(j["source"]["title"], "Ticker");
}

TEST(EventJson, CommentCarriesThreadFields) {
  Event e;
  e.kind = EventKind::comment;
  e.source = {"s", "feed", "file:///x", std::nullopt};
  e.comment.native_id = "c-5";
  e.comment.post_id = make_post_id("s", "p");
  e.comment.parent_id = make_comment_id("s", "c-4");
  e.comment.author = Author{"Rick", "Chicago Illinois", std::nullopt};
  e.comment.content_text = "Wait ...";
  finalize_comment("s", e.comment);
  e.event_id = make_event_id(e);
  const auto j = nlohmann::json::parse(to_json(e));
  EXPECT_EQ(j["schema"], "postwire.comment/v1");
  EXPECT_EQ(j["comment"]["post_id"], e.comment.post_id);
  EXPECT_EQ(j["comment"]["parent_id"], e.comment.parent_id.value());
  EXPECT_EQ(j["comment"]["author"]["location"], "Chicago Illinois");
  EXPECT_FALSE(j.contains("post"));
  EXPECT_TRUE(j["source"]["title"].is_null());
}

TEST(EventJson, InvalidUtf8IsReplacedAndFlagged) {
  Event e = sample_post();
  e.post.title = std::string("caf\xE9 \xC3\xA9");  // Latin-1 byte then valid "é"
  const std::string out = to_json(e);
  EXPECT_TRUE(is_valid_utf8(out));
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["post"]["title"], "caf\xEF\xBF\xBD \xC3\xA9");
  EXPECT_EQ(j["quality"], nlohmann::json::array({"invalid_utf8_replaced"}));
}

TEST(EventJson, InvalidUtf8AnywhereInTheItemIsFlagged) {
  Event e = sample_post();
  e.post.tags = {"ok", std::string("bad\xFF")};
  const std::string out = to_json(e);
  EXPECT_TRUE(is_valid_utf8(out));
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["quality"], nlohmann::json::array({"invalid_utf8_replaced"}));
  EXPECT_EQ(j["post"]["tags"][1], "bad\xEF\xBF\xBD");
  EXPECT_TRUE(nlohmann::json::parse(to_json(sample_post()))["quality"].empty());
}

TEST(EventJson, ControlCharactersAreEscaped) {
  Event e = sample_post();
  e.post.content_text = std::string(
      "a\x01"
      "b\"c\\d\n",
      8);
  const auto j = nlohmann::json::parse(to_json(e));
  EXPECT_EQ(j["post"]["content_text"], std::string("a\x01"
                                                   "b\"c\\d\n",
                                                   8));
}

TEST(EventJson, DeadLetterFollowsItsSchema) {
  DeadLetter d{"e_0123456789abcdef0123456789abcdef",
               {"s", "feed", "http://x/feed", std::nullopt},
               1'185'120'540'123,
               "comment_feed_parse",
               "not a feed",
               "http://x/1/feed",
               "<<<garbage"};
  const auto j = nlohmann::ordered_json::parse(to_json(d));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"schema", "event_id", "source", "failed_at", "reason", "message",
                                            "locator", "excerpt"}));
  EXPECT_EQ(j["schema"], "postwire.deadletter/v1");
  EXPECT_EQ(j["failed_at"], "2007-07-22T16:09:00.123Z");
  EXPECT_EQ(j["excerpt"], "<<<garbage");
  EXPECT_TRUE(j["source"]["title"].is_null());
}

TEST(JsonWriter, EscapesRoundTripAtEveryOffset) {
  // The plain-run scan reads eight bytes at a time: put every character that
  // needs care at every position around those words and parse the result back.
  std::mt19937 rng(3);
  const std::string specials = std::string("\"\\\n\r\t\x01\x1f\x7f", 8) + "\xC3\xA9" + "\xE2\x82\xAC";
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) {
      if (rng() % 6 == 0) {
        const std::size_t k = rng() % 10;  // one of the specials, multi-byte ones whole
        if (k < 8) {
          text.push_back(specials[k]);
        } else if (k == 8) {
          text += "\xC3\xA9";
        } else {
          text += "\xE2\x82\xAC";
        }
      } else {
        text.push_back(static_cast<char>(' ' + rng() % 95));
      }
    }
    std::string out;
    EXPECT_EQ(append_json_string(out, text), 0U);
    const auto parsed = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << out;
    ASSERT_EQ(parsed.get<std::string>(), text) << out;
  }
}

TEST(JsonWriter, SeparatesAndNestsExactly) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a");
  w.begin_array();
  w.end_array();
  w.key("b");
  w.begin_object();
  w.end_object();
  w.key("list");
  w.begin_array();
  w.value(std::int64_t{1});
  w.begin_object();
  w.key("x");
  w.null();
  w.key("y");
  w.begin_array();
  w.value("z");
  w.value(true);
  w.end_array();
  w.end_object();
  w.value("two");
  w.end_array();
  w.key("needs \"escaping\"\n");
  w.value(0.5);
  w.end_object();
  EXPECT_EQ(out, R"({"a":[],"b":{},"list":[1,{"x":null,"y":["z",true]},"two"],"needs \"escaping\"\n":0.5})");
}

TEST(JsonWriter, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
}

TEST(Time, FormatsAndRoundTripsCivilDates) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(unix_from_civil(2007, 7, 22, 16, 9, 0)), "2007-07-22T16:09:00Z");
  EXPECT_EQ(format_rfc3339(unix_from_civil(2000, 2, 29, 23, 59, 59)), "2000-02-29T23:59:59Z");
  EXPECT_EQ(format_rfc3339(unix_from_civil(1969, 12, 31, 23, 59, 59)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Time, FormatsEveryYearAsTheCLibraryDoes) {
  // Years 1..9999 are written digit by digit; compare with gmtime_r + strftime.
  std::mt19937_64 rng(7);
  const std::int64_t first = unix_from_civil(1, 1, 1, 0, 0, 0);
  const std::int64_t last = unix_from_civil(9999, 12, 31, 23, 59, 59);
  for (int i = 0; i < 200000; ++i) {
    const std::int64_t t =
        first + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(last - first));
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char want[96];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ASSERT_EQ(format_rfc3339(t), want) << t;
    const auto ms = static_cast<int>(rng() % 1000);
    char want_ms[96];
    std::snprintf(want_ms, sizeof want_ms, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    ASSERT_EQ(format_rfc3339_millis(t * 1000 + ms), want_ms) << t;
  }
  // Outside four digits the slow path still answers.
  EXPECT_EQ(format_rfc3339(unix_from_civil(10000, 1, 1, 0, 0, 0)), "10000-01-01T00:00:00Z");
}

}  // namespace
}  // namespace postwire
