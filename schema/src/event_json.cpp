#include "postwire/schema/event_json.hpp"

#include "postwire/schema/json_writer.hpp"
#include "postwire/schema/time.hpp"

namespace postwire {
namespace {

void write_time(JsonWriter& w, const std::optional<UnixSeconds>& t) {
  if (t) {
    w.value(format_rfc3339(*t));
  } else {
    w.null();
  }
}

void write_optional(JsonWriter& w, const std::optional<double>& v) {
  if (v) {
    w.value(*v);
  } else {
    w.null();
  }
}

void write_source(JsonWriter& w, const SourceRef& source) {
  w.begin_object();
  w.key("id");
  w.value(source.id);
  w.key("type");
  w.value(source.type);
  w.key("url");
  w.value(source.url);
  w.key("title");
  w.value(source.title);
  w.end_object();
}

void write_author(JsonWriter& w, const Author& a) {
  w.begin_object();
  w.key("name");
  w.value(a.name);
  w.key("location");
  w.value(a.location);
  w.key("url");
  w.value(a.url);
  w.end_object();
}

void write_post(JsonWriter& w, const PostData& p) {
  w.begin_object();
  w.key("id");
  w.value(p.id);
  w.key("native_id");
  w.value(p.native_id);
  w.key("url");
  w.value(p.url);
  w.key("url_original");
  w.value(p.url_original);
  w.key("title");
  w.value(p.title);
  w.key("summary");
  w.value(p.summary);
  w.key("content_text");
  w.value(p.content_text);
  w.key("content_html");
  w.value(p.content_html);
  w.key("language");
  w.value(p.language);
  w.key("language_confidence");
  write_optional(w, p.language_confidence);
  w.key("authors");
  w.begin_array();
  for (const auto& a : p.authors) write_author(w, a);
  w.end_array();
  w.key("published_at");
  write_time(w, p.published_at);
  w.key("updated_at");
  write_time(w, p.updated_at);
  w.key("tags");
  w.value(p.tags);
  w.key("comment_count");
  if (p.comment_count) {
    w.value(*p.comment_count);
  } else {
    w.null();
  }
  w.key("comments_url");
  w.value(p.comments_url);
  w.key("duplicate_of");
  w.value(p.duplicate_of);
  w.key("content_hash");
  w.value(p.content_hash);
  w.end_object();
}

void write_comment(JsonWriter& w, const CommentData& c) {
  w.begin_object();
  w.key("id");
  w.value(c.id);
  w.key("native_id");
  w.value(c.native_id);
  w.key("post_id");
  w.value(c.post_id);
  w.key("parent_id");
  w.value(c.parent_id);
  w.key("url");
  w.value(c.url);
  w.key("url_original");
  w.value(c.url_original);
  w.key("author");
  write_author(w, c.author);
  w.key("content_text");
  w.value(c.content_text);
  w.key("content_html");
  w.value(c.content_html);
  w.key("language");
  w.value(c.language);
  w.key("language_confidence");
  write_optional(w, c.language_confidence);
  w.key("published_at");
  write_time(w, c.published_at);
  w.key("updated_at");
  write_time(w, c.updated_at);
  w.key("content_hash");
  w.value(c.content_hash);
  w.end_object();
}

std::size_t text_size(const std::optional<std::string>& s) { return s ? s->size() : 0; }

std::size_t author_size(const Author& a) {
  return text_size(a.name) + text_size(a.location) + text_size(a.url);
}

// An upper estimate of the serialised item: its variable-length fields plus an
// eighth for escapes, and room for the keys and fixed fields. Reserving it once
// spares the chain of doublings (and copies) a long post would otherwise cost.
std::size_t estimated_item_size(const Event& event) {
  std::size_t n = 0;
  if (event.kind == EventKind::post) {
    const PostData& p = event.post;
    n = text_size(p.url) + text_size(p.url_original) + text_size(p.title) + text_size(p.summary) +
        text_size(p.content_text) + text_size(p.content_html) + text_size(p.comments_url) +
        text_size(p.duplicate_of);
    for (const auto& a : p.authors) n += author_size(a) + 48;
    for (const auto& t : p.tags) n += t.size() + 3;
  } else {
    const CommentData& c = event.comment;
    n = text_size(c.url) + text_size(c.url_original) + text_size(c.content_text) + text_size(c.content_html) +
        text_size(c.parent_id) + author_size(c.author);
  }
  return n + n / 8 + 640;
}

}  // namespace

std::string to_json(const Event& event) {
  const std::size_t item_size = estimated_item_size(event);
  std::string out;
  out.reserve(item_size + 512 + event.source.id.size() + event.source.url.size() +
              text_size(event.source.title));
  JsonWriter w(out);
  w.begin_object();
  w.key("schema");
  w.value(event.schema_name());
  w.key("event_id");
  w.value(event.event_id);
  w.key("event_type");
  w.value(to_string(event.event_type));
  w.key("version");
  w.value(event.version);
  w.key("previous_content_hash");
  w.value(event.previous_content_hash);
  w.key("source");
  write_source(w, event.source);
  w.key("fetched_at");
  w.value(format_rfc3339_millis(event.fetched_at));
  // The body is serialised first so that its replaced sequences are counted
  // before the quality flags are written: invalid UTF-8 replaced on the way out
  // is a fact consumers should see, wherever in the event it was.
  std::string body;
  body.reserve(item_size);
  JsonWriter bw(body);
  if (event.kind == EventKind::post) {
    write_post(bw, event.post);
  } else {
    write_comment(bw, event.comment);
  }
  const auto& quality = event.kind == EventKind::post ? event.post.quality : event.comment.quality;
  w.key("quality");
  w.begin_array();
  for (const auto& flag : quality) w.value(std::string_view(flag));
  if (bw.replaced() > 0 || w.replaced() > 0) w.value("invalid_utf8_replaced");
  w.end_array();
  w.key(event.kind == EventKind::post ? "post" : "comment");
  w.raw(body);
  w.end_object();
  return out;
}

std::string to_json(const DeadLetter& d) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("schema");
  w.value("postwire.deadletter/v1");
  w.key("event_id");
  w.value(d.event_id);
  w.key("source");
  write_source(w, d.source);
  w.key("failed_at");
  w.value(format_rfc3339_millis(d.failed_at));
  w.key("reason");
  w.value(d.reason);
  w.key("message");
  w.value(d.message);
  w.key("locator");
  w.value(d.locator);
  w.key("excerpt");
  w.value(d.excerpt);
  w.end_object();
  return out;
}

}  // namespace postwire
