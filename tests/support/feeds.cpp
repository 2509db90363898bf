#include "support/feeds.hpp"

namespace postwire::testing {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string element(const std::string& name, const std::string& text) {
  return "<" + name + ">" + xml_escape(text) + "</" + name + ">";
}

}  // namespace

std::string rss_document(const RssChannel& channel) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml +=
      "<rss version=\"2.0\" xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\" "
      "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
      "xmlns:slash=\"http://purl.org/rss/1.0/modules/slash/\">\n";
  xml += "<channel>\n";
  xml += "  " + element("title", channel.title) + "\n";
  xml += "  " + element("link", channel.link) + "\n";
  xml += "  " + element("description", channel.description) + "\n";
  if (!channel.language.empty()) xml += "  " + element("language", channel.language) + "\n";
  for (const auto& item : channel.items) {
    xml += "  <item>\n";
    xml += "    " + element("title", item.title) + "\n";
    if (!item.link.empty()) xml += "    " + element("link", item.link) + "\n";
    xml += "    <guid isPermaLink=\"false\">" + xml_escape(item.guid) + "</guid>\n";
    if (!item.pub_date.empty()) xml += "    " + element("pubDate", item.pub_date) + "\n";
    if (!item.author.empty()) xml += "    " + element("dc:creator", item.author) + "\n";
    for (const auto& category : item.categories) xml += "    " + element("category", category) + "\n";
    if (!item.description.empty()) xml += "    " + element("description", item.description) + "\n";
    if (!item.comments_feed.empty()) xml += "    " + element("wfw:commentRss", item.comments_feed) + "\n";
    if (item.comment_count >= 0) {
      xml += "    " + element("slash:comments", std::to_string(item.comment_count)) + "\n";
    }
    xml += "  </item>\n";
  }
  xml += "</channel>\n</rss>\n";
  return xml;
}

std::string atom_document(const AtomFeed& feed) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += R"(<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0")";
  if (!feed.language.empty()) xml += " xml:lang=\"" + xml_escape(feed.language) + "\"";
  xml += ">\n";
  xml += "  " + element("id", feed.id) + "\n";
  xml += "  <title type=\"text\">" + xml_escape(feed.title) + "</title>\n";
  if (!feed.link.empty()) xml += R"(  <link rel="alternate" href=")" + xml_escape(feed.link) + "\"/>\n";
  xml += "  " + element("updated", feed.updated) + "\n";
  for (const auto& entry : feed.entries) {
    xml += "  <entry>\n";
    xml += "    " + element("id", entry.id) + "\n";
    xml += "    <title type=\"text\">" + xml_escape(entry.title) + "</title>\n";
    if (!entry.link.empty()) xml += R"(    <link rel="alternate" href=")" + xml_escape(entry.link) + "\"/>\n";
    xml += "    " + element("updated", entry.updated) + "\n";
    if (!entry.published.empty()) xml += "    " + element("published", entry.published) + "\n";
    if (!entry.author.empty()) xml += "    <author>" + element("name", entry.author) + "</author>\n";
    if (!entry.replies.empty()) {
      xml += R"(    <link rel="replies" type="application/atom+xml" href=")" + xml_escape(entry.replies) +
             "\"/>\n";
    }
    if (!entry.in_reply_to.empty()) {
      xml += "    <thr:in-reply-to ref=\"" + xml_escape(entry.in_reply_to) + "\"/>\n";
    }
    if (!entry.content.empty())
      xml += "    <content type=\"text\">" + xml_escape(entry.content) + "</content>\n";
    xml += "  </entry>\n";
  }
  xml += "</feed>\n";
  return xml;
}

}  // namespace postwire::testing
