// Small, valid feed documents for tests: RSS 2.0 with wfw:commentRss comment
// feeds, and Atom 1.0 with RFC 4685 threading (link rel="replies",
// thr:in-reply-to). Text is XML-escaped; dates are RFC 822 (RSS) / RFC 3339 (Atom).
#pragma once

#include <string>
#include <vector>

namespace postwire::testing {

struct RssItem {
  std::string guid;  // also the native id postwire should use
  std::string title;
  std::string link;
  std::string description;  // plain text
  std::string pub_date;     // RFC 822, e.g. "Sun, 22 Jul 2007 16:09:00 +0000"
  std::string author;       // dc:creator; empty: none
  std::vector<std::string> categories;
  std::string comments_feed;  // wfw:commentRss; empty: none
  int comment_count = -1;     // slash:comments; -1: none
};

struct RssChannel {
  std::string title;
  std::string link;
  std::string description;
  std::string language;  // empty: none
  std::vector<RssItem> items;
};

std::string rss_document(const RssChannel& channel);

struct AtomEntry {
  std::string id;  // atom:id, the native id
  std::string title;
  std::string link;         // rel="alternate"
  std::string updated;      // RFC 3339
  std::string published;    // RFC 3339; empty: none
  std::string author;       // empty: none
  std::string content;      // plain text (type="text")
  std::string replies;      // link rel="replies" href; empty: none
  std::string in_reply_to;  // thr:in-reply-to ref; empty: none
};

struct AtomFeed {
  std::string id;
  std::string title;
  std::string link;  // rel="alternate"
  std::string updated;
  std::string language;  // xml:lang; empty: none
  std::vector<AtomEntry> entries;
};

std::string atom_document(const AtomFeed& feed);

std::string xml_escape(const std::string& text);

}  // namespace postwire::testing
