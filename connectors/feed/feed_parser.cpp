#include "feed/feed_parser.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_set>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "feed/xml_tree.hpp"
#include "normalise/charset.hpp"
#include "normalise/dates.hpp"
#include "normalise/env.hpp"
#include "normalise/html_text.hpp"
#include "normalise/language.hpp"
#include "normalise/text_clean.hpp"
#include "normalise/urls.hpp"
#include "postwire/schema/ascii_scan.hpp"
#include "postwire/schema/ids.hpp"
#include "postwire/schema/utf8.hpp"

namespace postwire::feed {
namespace {

namespace nz = postwire::normalise;

// Text that declared entities may add to one document, in bytes. One level of
// expansion only (see XmlReader::append_entity), so this bounds the quadratic blowup.
constexpr std::size_t kEntityBudget = 1 << 20;
constexpr int kMaxTextDepth = 64;
constexpr int kMaxJsonDepth = 256;

struct Ns {
  std::string_view uri;
  std::string_view prefix;  // the conventional one, for feeds that forget to declare it
};
constexpr Ns kContent{"http://purl.org/rss/1.0/modules/content/", "content"};
constexpr Ns kDc{"http://purl.org/dc/elements/1.1/", "dc"};
constexpr Ns kDcTerms{"http://purl.org/dc/terms/", "dcterms"};
constexpr Ns kWfw{"http://wellformedweb.org/CommentAPI/", "wfw"};
constexpr Ns kSlash{"http://purl.org/rss/1.0/modules/slash/", "slash"};
constexpr Ns kThr{"http://purl.org/syndication/thread/1.0", "thr"};
constexpr Ns kAtom{"http://www.w3.org/2005/Atom", "atom"};
constexpr std::string_view kAtom03Uri = "http://purl.org/atom/ns#";
constexpr std::string_view kRdfUri = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
constexpr std::string_view kXhtmlUri = "http://www.w3.org/1999/xhtml";
constexpr std::string_view kXmlUri = "http://www.w3.org/XML/1998/namespace";
// Namespaces plain RSS elements may carry: none (0.9x/2.0), RSS 1.0, RSS 0.90, and
// the short-lived "RSS 2.0 namespace".
constexpr std::array<std::string_view, 4> kRssUris = {"", "http://purl.org/rss/1.0/",
                                                      "http://my.netscape.com/rdf/simple/0.9/",
                                                      "http://backend.userland.com/rss2"};

constexpr std::array<std::string_view, 14> kVoidElements = {"area",  "base",   "br",    "col",  "embed",
                                                            "hr",    "img",    "input", "link", "meta",
                                                            "param", "source", "track", "wbr"};

// ---------------------------------------------------------------------------
// Small string helpers.

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> non_empty(std::string s) {
  if (s.empty()) return std::nullopt;
  return s;
}

void add_unique(std::vector<std::string>& list, std::string value) {
  if (value.empty()) return;
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

void add_author(std::vector<Author>& list, Author author) {
  if (!author.name && !author.url) return;
  if (std::find(list.begin(), list.end(), author) == list.end()) list.push_back(std::move(author));
}

// Plain text kept readable: entities decoded, spaces collapsed inside lines, lines
// trimmed, at most one blank line in a row (the shape html_to_text produces).
std::string tidy_plain(std::string_view text) {
  const std::string decoded = nz::decode_entities(text);
  std::string out;
  int blank_lines = 0;
  std::size_t pos = 0;
  while (pos <= decoded.size()) {
    std::size_t end = decoded.find_first_of("\r\n", pos);
    if (end == std::string::npos) end = decoded.size();
    const std::string line = nz::collapse_whitespace(std::string_view(decoded).substr(pos, end - pos));
    if (line.empty()) {
      ++blank_lines;
    } else {
      if (!out.empty()) out.append(blank_lines > 0 ? "\n\n" : "\n");
      out.append(line);
      blank_lines = 0;
    }
    if (end == decoded.size()) break;
    pos = end + ((decoded[end] == '\r' && end + 1 < decoded.size() && decoded[end + 1] == '\n') ? 2 : 1);
  }
  return out;
}

std::optional<std::int64_t> parse_count(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool is_email(std::string_view s) {
  const std::size_t at = s.find('@');
  return at != std::string_view::npos && at > 0 && s.find('.', at) != std::string_view::npos &&
         s.find_first_of(" \t<>()") == std::string_view::npos &&
         s.find('@', at + 1) == std::string_view::npos;
}

// RSS <author> is "email (Name)" by the spec and "Name <email>" or just a name in
// practice; the name is what we keep.
Author rss_author(std::string_view raw) {
  const std::string s = nz::collapse_whitespace(nz::decode_entities(raw));
  Author author;
  const std::size_t open = s.find('(');
  if (!s.empty() && s.back() == ')' && open != std::string::npos) {
    std::string name = nz::collapse_whitespace(std::string_view(s).substr(open + 1, s.size() - open - 2));
    if (!name.empty()) {
      author.name = std::move(name);
      return author;
    }
  }
  const std::size_t lt = s.find('<');
  if (!s.empty() && s.back() == '>' && lt != std::string::npos && lt > 0) {
    author.name = nz::collapse_whitespace(std::string_view(s).substr(0, lt));
    return author;
  }
  if (is_email(s)) {
    author.url = "mailto:" + s;  // an address alone is not a name
    return author;
  }
  if (!s.empty()) author.name = s;
  return author;
}

// A text construct: either plain text or HTML source.
struct Text {
  bool html = false;
  std::string value;
};

std::optional<std::string> title_text(const Text& t) {
  return non_empty(
      nz::collapse_whitespace(t.html ? nz::html_to_text(t.value) : nz::decode_entities(t.value)));
}

// The HTML a text construct stands for: one more level of references decoded when
// it was escaped twice (docs/normalisation.md), else the value itself.
std::string_view html_source(const Text& t, std::string& undone) {
  if (nz::looks_double_escaped(t.value)) {
    undone = nz::undo_double_escape(t.value);
    return undone;
  }
  return t.value;
}

std::optional<std::string> body_text(const Text& t) {
  if (!t.html) return non_empty(tidy_plain(t.value));
  std::string undone;
  return non_empty(nz::html_to_text(html_source(t, undone)));
}

// content_text and content_html of a body, from one HTML parse; `summary` (when
// the body is also the summary) gets the same text.
void set_body(FeedEntry& entry, const Text& body, std::string_view base,
              std::optional<std::string>* summary = nullptr) {
  if (!body.html) {
    entry.content_text = non_empty(tidy_plain(body.value));
    entry.content_html = std::nullopt;
  } else {
    std::string undone;
    nz::TextAndHtml both = nz::html_to_text_and_sanitized(html_source(body, undone), base);
    entry.content_text = non_empty(std::move(both.text));
    entry.content_html = non_empty(std::move(both.html));
  }
  if (summary != nullptr) *summary = entry.content_text;
}

// How dates of the document being parsed are read; set by parse_feed for the
// duration of one parse on this thread.
thread_local nz::DateContext t_dates;

void apply_date(FeedEntry& entry, std::optional<UnixSeconds>& target, std::string_view text) {
  nz::ParsedDate parsed = nz::parse_date(text, t_dates);
  target = parsed.value;
  for (std::string& flag : parsed.flags) add_unique(entry.quality, std::move(flag));
}

// Per entry, whether its native_id is the source's own id (not a fallback); kept
// beside ParsedFeed::entries while one document is parsed on this thread.
thread_local std::vector<char>* t_source_ids = nullptr;
thread_local const std::vector<std::string>* t_tracking = nullptr;

// Canonical link and native id fallbacks, in the order the event contract documents.
void finish_entry(FeedEntry& entry, std::string_view raw_link, std::string_view date_text) {
  if (entry.url) {
    std::optional<std::string> canonical =
        nz::canonical_url(*entry.url, t_tracking != nullptr ? *t_tracking : nz::default_tracking_params());
    // A fragment that names the item within its page ("#comment-98814", "#c123")
    // is its identity, not a position: kept. Position anchors ("#top", "#more-12",
    // "#respond") go.
    const std::size_t hash = entry.url->find('#');
    if (canonical && hash != std::string::npos) {
      const std::string_view fragment = std::string_view(*entry.url).substr(hash + 1);
      if (fragment.find_first_of("0123456789") != std::string_view::npos && !fragment.starts_with("more")) {
        canonical->append("#").append(fragment);
      }
    }
    if (canonical && *canonical != *entry.url) {
      entry.url_original = std::move(entry.url);
      entry.url = std::move(canonical);
    }
  }
  entry.native_id = std::string(trim(entry.native_id));
  if (t_source_ids != nullptr) t_source_ids->push_back(entry.native_id.empty() ? 0 : 1);
  if (entry.native_id.empty()) entry.native_id = entry.url ? *entry.url : std::string(trim(raw_link));
  if (entry.native_id.empty()) {
    std::string material = entry.title.value_or("");
    material.push_back('\x1f');
    material.append(trim(date_text));
    entry.native_id = "urn:postwire:hash:" + sha256_hex(material).substr(0, 32);
  }
}

// A link fit for an event: absolute and not a script.
std::optional<std::string> resolve_link(std::string_view base, std::string_view ref) {
  if (trim(ref).empty()) return std::nullopt;
  std::optional<std::string> url = nz::resolve_url(base, ref);
  if (!url || nz::is_dangerous_url(*url)) return std::nullopt;
  return url;
}

class ItemCounter {
 public:
  ItemCounter(std::size_t max_items, ParsedFeed& feed) : max_(max_items), feed_(feed) {}
  // Whether the next item fits under the cap.
  bool take() { return ++seen_ <= max_; }
  void report() {
    if (seen_ > max_) {
      feed_.warnings.push_back("items_truncated: kept " + std::to_string(max_) + " of " +
                               std::to_string(seen_));
    }
  }

 private:
  std::size_t max_;
  std::size_t seen_ = 0;
  ParsedFeed& feed_;
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':';
}

// A byte that is not UTF-8 in a UTF-8 feed is nearly always Windows-1252 pasted
// into a UTF-8 template (curly quotes from a word processor).
void append_windows1252(std::string& out, unsigned char b) {
  // The five bytes Windows-1252 leaves undefined keep their C1 code point.
  const char32_t cp = nz::windows1252_c1(b);
  nz::append_utf8(out, cp != 0 ? cp : char32_t{b});
}

// Second chance for ill-formed documents: HTML named entities (undeclared in XML)
// become numeric references, a '&' that starts no reference becomes "&amp;", and,
// when the document is meant to be UTF-8, bytes that are not UTF-8 are read as
// Windows-1252. CDATA sections and comments are kept apart from that last repair.
std::string repair_xml(std::string_view in, bool fix_utf8) {
  std::string out;
  out.reserve(in.size() + in.size() / 32);
  std::size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    if (fix_utf8 && static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t n = utf8_sequence_length(in, i);
      if (n == 0) {
        append_windows1252(out, static_cast<unsigned char>(c));
        ++i;
      } else {
        out.append(in.substr(i, n));
        i += n;
      }
      continue;
    }
    if (c == '<' && (in.compare(i, 9, "<![CDATA[") == 0 || in.compare(i, 4, "<!--") == 0)) {
      const bool cdata = in[i + 2] == '[';
      const std::size_t end = in.find(cdata ? "]]>" : "-->", i);
      const std::size_t stop = end == std::string_view::npos ? in.size() : end + 3;
      for (std::size_t k = i; k < stop;) {
        const std::size_t n = fix_utf8 ? utf8_sequence_length(in, k) : 1;
        if (n == 0) {
          append_windows1252(out, static_cast<unsigned char>(in[k]));
          ++k;
        } else {
          out.append(in.substr(k, n));
          k += n;
        }
      }
      i = stop;
      continue;
    }
    if (c != '&') {
      out.push_back(c);
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    if (j < in.size() && in[j] == '#') {
      ++j;
      const bool hex = j < in.size() && (in[j] == 'x' || in[j] == 'X');
      if (hex) ++j;
      const std::size_t digits = j;
      const auto digit = [hex](char d) {
        return (d >= '0' && d <= '9') || (hex && ((d >= 'a' && d <= 'f') || (d >= 'A' && d <= 'F')));
      };
      while (j < in.size() && digit(in[j])) ++j;
      if (j > digits && j < in.size() && in[j] == ';') {
        out.append(in.substr(i, j + 1 - i));
        i = j + 1;
      } else {
        out.append("&amp;");
        ++i;
      }
      continue;
    }
    while (j < in.size() && j - i <= 64 && is_name_char(in[j])) ++j;
    if (j > i + 1 && j < in.size() && in[j] == ';') {
      const std::string_view name = in.substr(i + 1, j - i - 1);
      const bool predefined =
          name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos";
      const char32_t cp = predefined ? 0 : nz::html_entity_code_point(name);
      if (cp != 0) {
        out.append("&#").append(std::to_string(static_cast<std::uint32_t>(cp))).push_back(';');
      } else {
        out.append(in.substr(i, j + 1 - i));  // predefined, or perhaps declared in the DTD
      }
      i = j + 1;
      continue;
    }
    out.append("&amp;");
    ++i;
  }
  return out;
}

// ---------------------------------------------------------------------------
// XML feeds.

class XmlReader {
 public:
  XmlReader(const ParseOptions& options, ParsedFeed& feed) : options_(options), feed_(feed) {}

  // False when there is neither a channel nor an item: not RSS we can use.
  bool read_rss(const XmlNode* root);
  void read_atom(const XmlNode* root);

 private:
  static bool is_element(const XmlNode* n) { return n->kind == XmlKind::element; }

  static bool is(const XmlNode* n, const Ns& ns, std::string_view local) {
    if (!is_element(n)) return false;
    if (n->ns.empty()) {  // an undeclared prefix leaves "dc:creator" as the name
      const std::string_view name = n->name;
      return name.size() == ns.prefix.size() + 1 + local.size() && name.starts_with(ns.prefix) &&
             name[ns.prefix.size()] == ':' && name.ends_with(local);
    }
    return n->name == local && n->ns == ns.uri;
  }

  static bool is_rss(const XmlNode* n, std::string_view local) {
    return is_element(n) && n->name == local &&
           std::any_of(kRssUris.begin(), kRssUris.end(), [n](std::string_view uri) { return n->ns == uri; });
  }

  static bool is_atom(const XmlNode* n, std::string_view local) {
    return is_element(n) && n->name == local && (n->ns == kAtom.uri || n->ns == kAtom03Uri);
  }

  // Atom elements of a document whose root is an un-namespaced <feed>.
  bool is_atom_or_plain(const XmlNode* n, std::string_view local) const {
    return is_atom(n, local) || (plain_atom_ && is_element(n) && n->ns.empty() && n->name == local);
  }

  void append_entity(std::string& out, const XmlNode* ref) {
    if (ref->entity == XmlEntity::internal) {
      const std::string_view content = ref->value;
      // One level only: content with further references or markup is dropped, which
      // is what defeats "billion laughs"; the budget bounds repeated large entities.
      if (content.find_first_of("&<") == std::string_view::npos && content.size() <= entity_budget_) {
        entity_budget_ -= content.size();
        out.append(content);
      }
      return;
    }
    if (ref->entity == XmlEntity::other) return;  // external entities are never read
    // Undeclared: the DTD (RSS 0.91's, usually) was not loaded; it meant HTML's.
    if (const char32_t cp = nz::html_entity_code_point(ref->name); cp != 0) nz::append_utf8(out, cp);
  }

  void append_text(std::string& out, const XmlNode* parent, int depth) {
    for (const XmlNode* child = parent->children; child != nullptr; child = child->next) {
      switch (child->kind) {
        case XmlKind::text:
        case XmlKind::cdata:
          out.append(child->value);
          break;
        case XmlKind::entity_ref:
          append_entity(out, child);
          break;
        case XmlKind::element:
          if (depth < kMaxTextDepth) append_text(out, child, depth + 1);
          break;
        case XmlKind::attribute:
          break;
      }
    }
  }

  std::string text(const XmlNode* n) {
    std::string out;
    append_text(out, n, 0);
    return out;
  }

  std::optional<std::string> attr(const XmlNode* n, std::string_view name, std::string_view ns = {}) {
    for (const XmlNode* a = n->attributes; a != nullptr; a = a->next) {
      if (a->name == name && a->ns == ns) return attribute_value(a);
    }
    return std::nullopt;
  }

  // The value of attribute node `a`, its references expanded.
  std::string attribute_value(const XmlNode* a) {
    std::string value;
    for (const XmlNode* child = a->children; child != nullptr; child = child->next) {
      if (child->kind == XmlKind::text) value.append(child->value);
      if (child->kind == XmlKind::entity_ref) append_entity(value, child);
    }
    return value;
  }

  static void escape_into(std::string& out, std::string_view s, bool attribute) {
    for (char c : s) {
      if (c == '&') {
        out.append("&amp;");
      } else if (c == '<') {
        out.append("&lt;");
      } else if (c == '>') {
        out.append("&gt;");
      } else if (c == '"' && attribute) {
        out.append("&quot;");
      } else {
        out.push_back(c);
      }
    }
  }

  // Inline XHTML (or markup a sloppy feed left unescaped) as HTML source, with local
  // names so "xhtml:p" reads as "p".
  void serialize_html(std::string& out, const XmlNode* parent, int depth) {
    for (const XmlNode* child = parent->children; child != nullptr; child = child->next) {
      switch (child->kind) {
        case XmlKind::text:
        case XmlKind::cdata:
          escape_into(out, child->value, false);
          break;
        case XmlKind::entity_ref: {
          std::string expanded;
          append_entity(expanded, child);
          escape_into(out, expanded, false);
          break;
        }
        case XmlKind::element: {
          if (depth >= kMaxTextDepth) break;
          const std::string_view name = child->name;
          out.push_back('<');
          out.append(name);
          for (const XmlNode* a = child->attributes; a != nullptr; a = a->next) {
            out.push_back(' ');
            out.append(a->name);
            out.append("=\"");
            escape_into(out, attribute_value(a), true);
            out.push_back('"');
          }
          out.push_back('>');
          if (child->children == nullptr &&
              std::find(kVoidElements.begin(), kVoidElements.end(), name) != kVoidElements.end()) {
            break;
          }
          serialize_html(out, child, depth + 1);
          out.append("</").append(name).push_back('>');
          break;
        }
        case XmlKind::attribute:
          break;
      }
    }
  }

  static bool has_element_child(const XmlNode* n) {
    for (const XmlNode* child = n->children; child != nullptr; child = child->next) {
      if (is_element(child)) return true;
    }
    return false;
  }

  // A field that holds HTML: escaped or CDATA text normally, real elements when
  // the feed did not escape its markup.
  Text html_field(const XmlNode* n) {
    Text t{true, {}};
    if (has_element_child(n)) {
      serialize_html(t.value, n, 0);
    } else {
      t.value = text(n);
    }
    return t;
  }

  // Atom 1.0 text constructs (type text|html|xhtml or a MIME type) and Atom 0.3
  // content (type MIME + mode xml|escaped|base64).
  std::optional<Text> atom_text(const XmlNode* n) {
    if (attr(n, "src")) return std::nullopt;  // out-of-line content
    const std::string type = lower(trim(attr(n, "type").value_or("")));
    const std::string mode = lower(trim(attr(n, "mode").value_or("")));
    if (type == "xhtml" || type == "application/xhtml+xml" || mode == "xml" ||
        (type == "text/html" && mode.empty() && has_element_child(n))) {
      const XmlNode* container = n;
      for (const XmlNode* child = n->children; child != nullptr; child = child->next) {
        if (is_element(child) && child->name == "div" && (child->ns == kXhtmlUri || child->ns.empty())) {
          container = child;
          break;
        }
      }
      Text t{true, {}};
      serialize_html(t.value, container, 0);
      return t;
    }
    if (mode == "base64") return std::nullopt;
    if (type == "html" || type == "text/html") return html_field(n);
    if (type.empty() || type == "text" || type.starts_with("text/")) return Text{false, text(n)};
    return std::nullopt;  // images, audio, other media: no text for us
  }

  std::string base_for(const XmlNode* n) {
    std::vector<std::string> bases;
    for (const XmlNode* p = n; p != nullptr && is_element(p); p = p->parent) {
      if (std::optional<std::string> base = attr(p, "base", kXmlUri)) bases.push_back(std::move(*base));
    }
    // Outermost first: each xml:base is resolved against the one around it.
    std::reverse(bases.begin(), bases.end());
    std::string base = options_.base_url;
    for (const std::string& b : bases) {
      if (std::optional<std::string> resolved = nz::resolve_url(base, b)) base = std::move(*resolved);
    }
    return base;
  }

  std::optional<std::string> link_of(const XmlNode* context, std::string_view ref) {
    return resolve_link(base_for(context), ref);
  }

  Author atom_person(const XmlNode* person) {
    Author author;
    std::optional<std::string> email;
    for (const XmlNode* c = person->children; c != nullptr; c = c->next) {
      if (!is_element(c)) continue;
      const std::string_view name = c->name;
      if (name == "name" && !author.name) {
        author.name = non_empty(nz::collapse_whitespace(nz::decode_entities(text(c))));
      } else if ((name == "uri" || name == "url") && !author.url) {
        author.url = link_of(c, text(c));
      } else if (name == "email" && !email) {
        email = std::string(trim(text(c)));
      }
    }
    if (!author.url && email && is_email(*email)) author.url = "mailto:" + *email;
    return author;
  }

  // An item's source fingerprint (0: none) and whether it is an unchanged item
  // kept for its identity only (ParseOptions::keep_unchanged).
  struct ItemFingerprint {
    std::uint64_t value = 0;
    bool unchanged = false;
  };

  void read_rss_item(const XmlNode* item, const std::string& base, ItemFingerprint fingerprint);
  void read_atom_entry(const XmlNode* entry, const std::vector<Author>& feed_authors, const std::string& base,
                       ItemFingerprint fingerprint);

  // Reads the items (up to max_items) with `read(item, base URL, fingerprint)`,
  // except those found unchanged.
  template <class Read>
  void read_items(const std::vector<const XmlNode*>& items, bool atom, Read&& read) {
    ItemCounter counter(options_.max_items, feed_);
    // Each item's own id, read once: it decides whether skipping is allowed at all
    // and whether an item's fingerprint includes the base URL.
    std::vector<std::string> ids;
    if (options_.fingerprint_items) {
      ids.reserve(items.size());
      for (const XmlNode* item : items) ids.push_back(source_id_text(item, atom));
      begin_fingerprints(ids);
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!counter.take()) continue;
      std::string base = base_for(items[i]);
      const std::optional<ItemFingerprint> fingerprint =
          options_.fingerprint_items ? fingerprint_item(items[i], base, ids[i].empty()) : ItemFingerprint{};
      if (fingerprint) read(items[i], base, *fingerprint);
    }
    counter.report();
  }

  // --- Source fingerprints (ParseOptions::fingerprint_items) ---

  // What the document around the items adds to their outcome: only what can change
  // an item's id or content hash counts (dates, languages and authors cannot, and a
  // duplicate publishes nothing). Call after the feed-level elements are read.
  // Skipping is allowed only when no two items share a source id: finalize_entries
  // then decides each item's id from the item alone.
  void begin_fingerprints(const std::vector<std::string>& ids) {
    std::string& m = scratch_;
    m.clear();
    m.append(to_string(options_.id_from));
    for (const auto& t : options_.tracking_params) {
      m.push_back('\0');
      m.append(t);
    }
    m.push_back('\0');
    m.append(plain_atom_ ? "plain" : "ns");
    document_seed_ = XXH3_64bits_withSeed(m.data(), m.size(), options_.fingerprint_seed);
    skip_allowed_ = options_.unchanged != nullptr && !options_.unchanged->empty();
    if (!skip_allowed_) return;
    std::unordered_set<std::string_view> seen;
    for (const std::string& id : ids) {
      if (!id.empty() && !seen.insert(id).second) {
        skip_allowed_ = false;
        return;
      }
    }
  }

  // guid (or rdf:about) / atom:id, trimmed; empty when the item has none.
  std::string source_id_text(const XmlNode* item, bool atom) {
    for (const XmlNode* c = item->children; c != nullptr; c = c->next) {
      if (atom ? is_atom_or_plain(c, "id") : is_rss(c, "guid")) return std::string(trim(text(c)));
    }
    return atom ? std::string() : std::string(trim(attr(item, "about", kRdfUri).value_or("")));
  }

  // The item's fingerprint, or nullopt when it is unchanged and skipped.
  // `without_own_id`: the item has no guid / atom:id (source_id_text is empty).
  std::optional<ItemFingerprint> fingerprint_item(const XmlNode* item, std::string_view base,
                                                  bool without_own_id) {
    std::string& m = scratch_;
    m.clear();
    // The base URL only matters when the id comes from the (resolved) link.
    if (options_.id_from == IdFrom::link || without_own_id) m.append(base);
    m.push_back('\0');
    if (!serialize_element(m, item, 0)) return ItemFingerprint{};
    std::uint64_t fp = XXH3_64bits_withSeed(m.data(), m.size(), document_seed_);
    if (fp == 0) fp = 1;  // 0 means "none"
    if (skip_allowed_ && options_.unchanged->count(fp) != 0) {
      if (options_.keep_unchanged) return ItemFingerprint{fp, true};  // read for its identity only
      feed_.unchanged.push_back(fp);
      return std::nullopt;
    }
    return ItemFingerprint{fp, false};
  }

  // Comment counts (slash:comments, thr:total, thr:count and thr:updated on a
  // replies link) change with every new comment but never an item's id or
  // content hash: they are left out of fingerprints, so that a post whose only
  // change is its count is still recognised as unchanged.
  static bool is_comment_count(const XmlNode* node) {
    if (node->kind == XmlKind::attribute) {
      return node->ns == kThr.uri && (node->name == "count" || node->name == "updated");
    }
    return is(node, kSlash, "comments") || is(node, kThr, "total");
  }

  // The element as read: its name, namespace and attributes, then its content
  // (text, CDATA with placeholders expanded, entity references with their
  // replacement text, child elements), comment counts left out. Length-prefixed
  // so that no two different trees serialise alike. False when it is nested
  // deeper than the text reader goes.
  bool serialize_element(std::string& m, const XmlNode* element, int depth) {
    const auto add = [&m](char tag, std::string_view v) {
      const auto n = static_cast<std::uint32_t>(v.size());
      std::array<char, 1 + sizeof n> head{tag};
      std::memcpy(head.data() + 1, &n, sizeof n);
      m.append(head.data(), head.size());
      m.append(v);
    };
    const auto add_entity = [&](const XmlNode* ref) {
      add('&', ref->name);
      if (ref->entity == XmlEntity::internal) add('=', ref->value);
    };
    add('<', element->name);
    add(':', element->ns);
    for (const XmlNode* a = element->attributes; a != nullptr; a = a->next) {
      if (is_comment_count(a)) continue;
      add('@', a->name);
      add(':', a->ns);
      for (const XmlNode* v = a->children; v != nullptr; v = v->next) {
        if (v->kind == XmlKind::text) add('"', v->value);
        if (v->kind == XmlKind::entity_ref) add_entity(v);
      }
    }
    for (const XmlNode* c = element->children; c != nullptr; c = c->next) {
      switch (c->kind) {
        case XmlKind::element:
          if (is_comment_count(c)) break;
          if (depth >= kMaxTextDepth || !serialize_element(m, c, depth + 1)) return false;
          break;
        case XmlKind::text:
          add('t', c->value);
          break;
        case XmlKind::cdata:
          add('c', c->value);
          break;
        case XmlKind::entity_ref:
          add_entity(c);
          break;
        case XmlKind::attribute:
          break;
      }
    }
    m.push_back('>');
    return true;
  }

  // xml:lang in force at `n` (its own or an ancestor's), normalised.
  static std::optional<std::string> xml_lang(const XmlNode* n) {
    for (const XmlNode* p = n; p != nullptr && is_element(p); p = p->parent) {
      for (const XmlNode* a = p->attributes; a != nullptr; a = a->next) {
        if (a->name == "lang" && a->ns == kXmlUri && a->children != nullptr &&
            a->children->kind == XmlKind::text) {
          return nz::normalise_language_tag(a->children->value);
        }
      }
    }
    return std::nullopt;
  }

  static void declare_language(FeedEntry& entry, std::optional<std::string> tag) {
    if (entry.language || !tag) return;
    entry.language = std::move(tag);
    entry.language_confidence = 1.0;
  }

  // The page's own date (lastBuildDate, channel pubDate, feed updated): what
  // relative item dates count back from.
  static void set_reference(std::string_view text) {
    if (t_dates.reference) return;
    nz::DateContext plain;
    plain.timezone = t_dates.timezone;
    const nz::ParsedDate parsed = nz::parse_date(text, plain);
    t_dates.reference = parsed.value;
  }

  const ParseOptions& options_;
  ParsedFeed& feed_;
  std::uint64_t document_seed_ = 0;
  bool skip_allowed_ = false;
  std::string scratch_;
  std::size_t entity_budget_ = kEntityBudget;
  bool plain_atom_ = false;
};

bool XmlReader::read_rss(const XmlNode* root) {
  const XmlNode* channel = nullptr;
  for (const XmlNode* c = root->children; c != nullptr; c = c->next) {
    if (is_rss(c, "channel")) {
      channel = c;
      break;
    }
  }
  if (channel != nullptr) {
    for (const XmlNode* c = channel->children; c != nullptr; c = c->next) {
      if (is_rss(c, "title") && !feed_.title) {
        feed_.title = title_text(html_field(c));
      } else if (is_rss(c, "link") && !feed_.url) {
        feed_.url = link_of(c, text(c));
      } else if ((is_rss(c, "language") || is(c, kDc, "language")) && !feed_.language) {
        feed_.language = nz::normalise_language_tag(text(c));
      } else if (is_rss(c, "lastBuildDate") || is_rss(c, "pubDate") || is(c, kDc, "date")) {
        set_reference(text(c));
      }
    }
  }
  if (!feed_.language) feed_.language = xml_lang(channel != nullptr ? channel : root);
  // RSS 2.0 nests items in the channel; RSS 1.0 (and some broken 2.0) makes them
  // siblings of it.
  std::vector<const XmlNode*> items;
  for (const XmlNode* parent : {channel, root}) {
    if (parent == nullptr) continue;
    for (const XmlNode* c = parent->children; c != nullptr; c = c->next) {
      if (is_rss(c, "item")) items.push_back(c);
    }
  }
  read_items(items, false, [this](const XmlNode* item, const std::string& base, ItemFingerprint fingerprint) {
    read_rss_item(item, base, fingerprint);
  });
  return channel != nullptr || !items.empty();
}

void XmlReader::read_rss_item(const XmlNode* item, const std::string& base, ItemFingerprint fingerprint) {
  FeedEntry entry;
  entry.source_fingerprint = fingerprint.value;
  entry.unchanged = fingerprint.unchanged;
  std::string link_text;
  std::string guid_text;
  bool guid_is_permalink = true;
  std::optional<std::string> pub_date;
  std::optional<std::string> dc_date;
  std::optional<std::string> updated;
  std::optional<Text> description;
  std::optional<Text> encoded;
  std::optional<std::string> atom_alternate;
  std::optional<std::int64_t> slash_count;
  std::optional<std::int64_t> thr_total;
  std::optional<std::int64_t> replies_count;
  std::optional<std::string> replies_url;
  bool replies_is_feed = false;

  for (const XmlNode* c = item->children; c != nullptr; c = c->next) {
    if (!is_element(c)) continue;
    if (is_rss(c, "title")) {
      if (!entry.title) entry.title = title_text(html_field(c));
    } else if (is_rss(c, "link")) {
      if (link_text.empty()) link_text = std::string(trim(text(c)));
    } else if (is_rss(c, "guid")) {
      guid_text = std::string(trim(text(c)));
      guid_is_permalink = lower(trim(attr(c, "isPermaLink").value_or("true"))) != "false";
    } else if (is_rss(c, "description")) {
      if (!description) description = html_field(c);
    } else if (is_rss(c, "pubDate")) {
      if (!pub_date) pub_date = text(c);
    } else if (is_rss(c, "author")) {
      add_author(entry.authors, rss_author(text(c)));
    } else if (is_rss(c, "category") || is(c, kDc, "subject")) {
      add_unique(entry.tags, nz::collapse_whitespace(nz::decode_entities(text(c))));
    } else if (is(c, kContent, "encoded")) {
      if (!encoded) encoded = html_field(c);
    } else if (is(c, kDc, "creator")) {
      Author author;
      author.name = non_empty(nz::collapse_whitespace(nz::decode_entities(text(c))));
      add_author(entry.authors, std::move(author));
    } else if (is(c, kDc, "date")) {
      if (!dc_date) dc_date = text(c);
    } else if (is(c, kDc, "language")) {
      declare_language(entry, nz::normalise_language_tag(text(c)));
    } else if (is(c, kDcTerms, "modified") || is_atom(c, "updated")) {
      if (!updated) updated = text(c);
    } else if (is(c, kSlash, "comments")) {
      if (!slash_count) slash_count = parse_count(text(c));
    } else if (is(c, kWfw, "commentRss") || is(c, kWfw, "commentRSS")) {
      if (!entry.comments_url) entry.comments_url = resolve_link(base, text(c));
    } else if (is(c, kThr, "total")) {
      if (!thr_total) thr_total = parse_count(text(c));
    } else if (is(c, kThr, "in-reply-to")) {
      if (!entry.in_reply_to) entry.in_reply_to = non_empty(std::string(trim(attr(c, "ref").value_or(""))));
    } else if (is_atom(c, "link")) {
      const std::string rel = lower(trim(attr(c, "rel").value_or("alternate")));
      const std::string type = lower(attr(c, "type").value_or(""));
      if (rel == "alternate" && !atom_alternate) {
        atom_alternate = link_of(c, attr(c, "href").value_or(""));
      } else if (rel == "replies") {
        const bool feedish = type.find("xml") != std::string::npos ||
                             type.find("atom") != std::string::npos || type.find("rss") != std::string::npos;
        if (!replies_url || (feedish && !replies_is_feed)) {
          if (std::optional<std::string> href = link_of(c, attr(c, "href").value_or(""))) {
            replies_url = std::move(href);
            replies_is_feed = feedish;
            replies_count = parse_count(attr(c, "count", kThr.uri).value_or(""));
          }
        }
      }
    }
  }

  declare_language(entry, xml_lang(item));
  if (guid_text.empty()) guid_text = std::string(trim(attr(item, "about", kRdfUri).value_or("")));
  entry.native_id = guid_text;
  entry.url = resolve_link(base, link_text);
  if (!entry.url && guid_is_permalink &&
      (guid_text.starts_with("http://") || guid_text.starts_with("https://"))) {
    entry.url = resolve_link(base, guid_text);
  }
  if (!entry.url) entry.url = atom_alternate;

  if (entry.unchanged) {
    // Body and summary are what makes an item costly, and an unchanged one
    // publishes nothing.
  } else if (encoded) {
    if (description) entry.summary = body_text(*description);
    set_body(entry, *encoded, base);
  } else if (description) {
    set_body(entry, *description, base, &entry.summary);
  }

  const std::optional<std::string>& published_text = pub_date ? pub_date : dc_date;
  if (published_text) apply_date(entry, entry.published_at, *published_text);
  if (updated) apply_date(entry, entry.updated_at, *updated);

  entry.comment_count = slash_count ? slash_count : thr_total ? thr_total : replies_count;
  if (!entry.comments_url) entry.comments_url = replies_url;

  finish_entry(entry, link_text, published_text.value_or(updated.value_or("")));
  feed_.entries.push_back(std::move(entry));
}

void XmlReader::read_atom(const XmlNode* root) {
  plain_atom_ = root->ns.empty();
  std::vector<Author> feed_authors;
  std::optional<std::string> any_link;
  for (const XmlNode* c = root->children; c != nullptr; c = c->next) {
    if (is_atom_or_plain(c, "title")) {
      if (!feed_.title) {
        if (std::optional<Text> t = atom_text(c)) feed_.title = title_text(*t);
      }
    } else if (is_atom_or_plain(c, "link")) {
      const std::string rel = lower(trim(attr(c, "rel").value_or("alternate")));
      if (rel == "alternate") {
        const std::string type = lower(attr(c, "type").value_or("text/html"));
        std::optional<std::string> href = link_of(c, attr(c, "href").value_or(""));
        if (!any_link) any_link = href;
        if (!feed_.url && type.find("html") != std::string::npos) feed_.url = href;
      }
    } else if (is_atom_or_plain(c, "author")) {
      add_author(feed_authors, atom_person(c));
    } else if (is_atom_or_plain(c, "updated") || is_atom_or_plain(c, "modified")) {
      set_reference(text(c));
    }
  }
  if (!feed_.url) feed_.url = any_link;
  feed_.language = xml_lang(root);

  std::vector<const XmlNode*> entries;
  for (const XmlNode* c = root->children; c != nullptr; c = c->next) {
    if (is_atom_or_plain(c, "entry")) entries.push_back(c);
  }
  read_items(entries, true, [&](const XmlNode* entry, const std::string& base, ItemFingerprint fingerprint) {
    read_atom_entry(entry, feed_authors, base, fingerprint);
  });
}

void XmlReader::read_atom_entry(const XmlNode* node, const std::vector<Author>& feed_authors,
                                const std::string& base, ItemFingerprint fingerprint) {
  FeedEntry entry;
  entry.source_fingerprint = fingerprint.value;
  entry.unchanged = fingerprint.unchanged;
  std::string first_href;
  std::optional<std::string> alternate;
  bool alternate_is_html = false;
  std::optional<std::string> published;
  std::optional<std::string> issued;
  std::optional<std::string> created;
  std::optional<std::string> updated;
  std::optional<Text> summary;
  std::optional<Text> content;
  std::string content_base;
  std::optional<std::string> content_lang;
  std::optional<std::int64_t> slash_count;
  std::optional<std::int64_t> thr_total;
  std::optional<std::int64_t> replies_count;
  std::optional<std::string> replies_url;
  bool replies_is_feed = false;

  for (const XmlNode* c = node->children; c != nullptr; c = c->next) {
    if (!is_element(c)) continue;
    if (is_atom_or_plain(c, "id")) {
      if (entry.native_id.empty()) entry.native_id = std::string(trim(text(c)));
    } else if (is_atom_or_plain(c, "title")) {
      if (!entry.title) {
        if (std::optional<Text> t = atom_text(c)) entry.title = title_text(*t);
      }
    } else if (is_atom_or_plain(c, "link")) {
      const std::string rel = lower(trim(attr(c, "rel").value_or("alternate")));
      const std::string type = lower(attr(c, "type").value_or(""));
      const std::string href = attr(c, "href").value_or("");
      if (rel == "alternate") {
        if (first_href.empty()) first_href = std::string(trim(href));
        const bool html = type.empty() || type.find("html") != std::string::npos;
        if (!alternate || (html && !alternate_is_html)) {
          if (std::optional<std::string> url = link_of(c, href)) {
            alternate = std::move(url);
            alternate_is_html = html;
          }
        }
      } else if (rel == "replies") {
        const bool feedish = type.find("xml") != std::string::npos ||
                             type.find("atom") != std::string::npos || type.find("rss") != std::string::npos;
        if (!replies_url || (feedish && !replies_is_feed)) {
          if (std::optional<std::string> url = link_of(c, href)) {
            replies_url = std::move(url);
            replies_is_feed = feedish;
            replies_count = parse_count(attr(c, "count", kThr.uri).value_or(""));
          }
        }
      }
    } else if (is_atom_or_plain(c, "summary")) {
      if (!summary) summary = atom_text(c);
    } else if (is_atom_or_plain(c, "content")) {
      if (!content) {
        content = atom_text(c);
        content_base = base_for(c);
        content_lang = xml_lang(c);
      }
    } else if (is_atom_or_plain(c, "author") || is_atom_or_plain(c, "contributor")) {
      add_author(entry.authors, atom_person(c));
    } else if (is_atom_or_plain(c, "published")) {
      if (!published) published = text(c);
    } else if (is_atom_or_plain(c, "issued")) {
      if (!issued) issued = text(c);
    } else if (is_atom_or_plain(c, "created")) {
      if (!created) created = text(c);
    } else if (is_atom_or_plain(c, "updated") || is_atom_or_plain(c, "modified")) {
      if (!updated) updated = text(c);
    } else if (is_atom_or_plain(c, "category")) {
      std::string term = std::string(trim(attr(c, "term").value_or("")));
      if (term.empty()) term = attr(c, "label").value_or("");
      add_unique(entry.tags, nz::collapse_whitespace(nz::decode_entities(term)));
    } else if (is(c, kThr, "total")) {
      if (!thr_total) thr_total = parse_count(text(c));
    } else if (is(c, kThr, "in-reply-to")) {
      if (!entry.in_reply_to) entry.in_reply_to = non_empty(std::string(trim(attr(c, "ref").value_or(""))));
    } else if (is(c, kSlash, "comments")) {
      if (!slash_count) slash_count = parse_count(text(c));
    } else if (is(c, kWfw, "commentRss") || is(c, kWfw, "commentRSS")) {
      if (!entry.comments_url) entry.comments_url = resolve_link(base, text(c));
    }
  }

  entry.url = alternate;
  if (entry.unchanged) {
    // As for RSS items: nothing of the body is worked out.
  } else if (content) {
    if (summary) entry.summary = body_text(*summary);
    set_body(entry, *content, content_base);
    if (content_lang) declare_language(entry, content_lang);
  } else if (summary) {
    set_body(entry, *summary, base, &entry.summary);
  }
  declare_language(entry, xml_lang(node));
  if (entry.authors.empty()) entry.authors = feed_authors;

  const std::optional<std::string>& published_text = published ? published : issued ? issued : created;
  if (published_text) apply_date(entry, entry.published_at, *published_text);
  if (updated) apply_date(entry, entry.updated_at, *updated);

  entry.comment_count = slash_count ? slash_count : thr_total ? thr_total : replies_count;
  if (!entry.comments_url) entry.comments_url = replies_url;

  finish_entry(entry, first_href, published_text.value_or(updated.value_or("")));
  feed_.entries.push_back(std::move(entry));
}

// POSTWIRE_XML_FASTPATH_CHECK=1 in the environment: every document pugixml reads is
// read by libxml2 too and the trees compared; differences go to standard error and
// libxml2's tree is used (a verification mode for tests and corpora, not production).
bool xml_fast_path_check_enabled() {
  static const bool enabled = nz::env_flag("POSTWIRE_XML_FASTPATH_CHECK");
  return enabled;
}

// The document's tree: pugixml's when it reads the document the way libxml2 would,
// else libxml2's strict reading, else libxml2's recovery of a repaired copy.
Result<XmlTree> read_tree(std::string_view body, ParsedFeed& feed, std::string& recovered_from) {
  std::optional<XmlTree> fast = XmlTree::parse_well_formed(body);
  if (fast && !xml_fast_path_check_enabled()) return std::move(*fast);
  LibxmlRead strict = read_with_libxml2(body, LibxmlMode::strict);
  if (fast) {
    std::optional<std::string> difference;
    if (!strict.tree || strict.errors) {
      difference = "libxml2 did not read it cleanly: " + strict.first_error;
    } else {
      difference = first_difference(*fast, *strict.tree);
    }
    if (!difference) return std::move(*fast);
    std::fprintf(stderr, "xml fast path mismatch: %s\n--- input\n%.*s\n---\n", difference->c_str(),
                 static_cast<int>(body.size()), body.data());
  }
  if (strict.tree) {
    // Well-formed, with errors that do not stop the parser (an undeclared namespace
    // prefix, an entity the unread DTD would have declared): usable as is.
    if (strict.errors) feed.warnings.push_back("xml_warning: " + strict.first_error);
    return std::move(*strict.tree);
  }
  LibxmlRead recovered = read_with_libxml2(repair_xml(body, false), LibxmlMode::recover);
  const std::string& reason = strict.errors ? strict.first_error : recovered.first_error;
  if (!recovered.tree || recovered.tree->root() == nullptr) {
    return make_error(Errc::parse, "not well-formed XML and not recoverable: " +
                                       (reason.empty() ? std::string("no root element") : reason));
  }
  recovered_from = reason;
  feed.warnings.push_back("xml_recovered: " + reason);
  return std::move(*recovered.tree);
}

Result<ParsedFeed> parse_xml(std::string_view body, const ParseOptions& options) {
  // Leading white space before the XML declaration is fatal to an XML parser and
  // common from PHP; nothing before the root element matters, so drop it.
  while (!body.empty() && is_ws(body.front())) body.remove_prefix(1);

  ParsedFeed feed;
  std::string recovered_from;
  Result<XmlTree> tree = read_tree(body, feed, recovered_from);
  if (!tree) return std::move(tree).error();

  const XmlNode* root = tree->root();
  if (root == nullptr) return make_error(Errc::parse, "XML document has no root element");
  const std::string_view name = root->name;
  const std::string_view ns = root->ns;
  FeedFormat detected = FeedFormat::auto_detect;
  if (name == "rss" || (name == "RDF" && (ns == kRdfUri || ns.empty()))) {
    detected = FeedFormat::rss;
  } else if (name == "feed" && (ns == kAtom.uri || ns == kAtom03Uri || ns.empty())) {
    detected = FeedFormat::atom;
  } else {
    std::string message = "not a feed: root element <" + std::string(name) + ">";
    if (!ns.empty()) message += " in namespace " + std::string(ns);
    message += " (line " + std::to_string(tree->root_line()) + ")";
    if (lower(name) == "html") message += "; the document is a web page, not a feed";
    return make_error(Errc::parse, std::move(message));
  }
  if (options.format != FeedFormat::auto_detect && options.format != detected) {
    return make_error(Errc::parse, std::string("expected ") + to_string(options.format) +
                                       " but the document is " + to_string(detected) + " (root element <" +
                                       std::string(name) + ">)");
  }
  feed.format = detected;
  XmlReader reader(options, feed);
  if (detected == FeedFormat::rss) {
    if (!reader.read_rss(root)) {
      std::string message = "RSS document without <channel> or <item>";
      if (!recovered_from.empty()) message += "; the XML was broken: " + recovered_from;
      return make_error(Errc::parse, std::move(message));
    }
  } else {
    reader.read_atom(root);
  }
  return feed;
}

// ---------------------------------------------------------------------------
// JSON Feed.

// nlohmann's parser is iterative but its destructor and our walk are not; a cheap
// pre-scan keeps hostile nesting out.
bool json_depth_ok(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::optional<std::string> json_string(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Author json_author(const nlohmann::json& value, std::string_view base) {
  Author author;
  if (value.is_string()) {  // not in the spec, but some 1.0 feeds write "author": "Name"
    author.name = non_empty(nz::collapse_whitespace(nz::decode_entities(value.get<std::string>())));
    return author;
  }
  if (!value.is_object()) return author;
  if (std::optional<std::string> name = json_string(value, "name")) {
    author.name = non_empty(nz::collapse_whitespace(nz::decode_entities(*name)));
  }
  if (std::optional<std::string> url = json_string(value, "url")) author.url = resolve_link(base, *url);
  return author;
}

std::vector<Author> json_authors(const nlohmann::json& object, std::string_view base) {
  std::vector<Author> authors;
  if (const auto it = object.find("authors"); it != object.end() && it->is_array()) {
    for (const nlohmann::json& a : *it) add_author(authors, json_author(a, base));
  }
  if (const auto it = object.find("author"); it != object.end()) add_author(authors, json_author(*it, base));
  return authors;
}

FeedEntry json_entry(const nlohmann::json& item, std::string_view base,
                     const std::vector<Author>& feed_authors) {
  FeedEntry entry;
  if (const auto it = item.find("id"); it != item.end()) {
    if (it->is_string()) {
      entry.native_id = it->get<std::string>();
    } else if (it->is_number()) {
      entry.native_id = it->dump();  // 1.0 feeds sometimes use numbers
    }
  }
  std::string raw_link = json_string(item, "url").value_or("");
  entry.url = resolve_link(base, raw_link);
  if (!entry.url) entry.url = resolve_link(base, json_string(item, "external_url").value_or(""));
  if (std::optional<std::string> title = json_string(item, "title"))
    entry.title = title_text(Text{false, *title});
  std::optional<Text> summary;
  if (std::optional<std::string> s = json_string(item, "summary")) summary = Text{false, *s};
  if (std::optional<std::string> html = json_string(item, "content_html")) {
    if (summary) entry.summary = body_text(*summary);
    set_body(entry, Text{true, *html}, base);
  } else if (std::optional<std::string> plain = json_string(item, "content_text")) {
    if (summary) entry.summary = body_text(*summary);
    set_body(entry, Text{false, *plain}, base);
  } else if (summary) {
    set_body(entry, *summary, base, &entry.summary);
  }
  if (std::optional<std::string> language = json_string(item, "language")) {
    entry.language = nz::normalise_language_tag(*language);
    if (entry.language) entry.language_confidence = 1.0;
  }
  entry.authors = json_authors(item, base);
  if (entry.authors.empty()) entry.authors = feed_authors;
  const std::optional<std::string> published = json_string(item, "date_published");
  const std::optional<std::string> modified = json_string(item, "date_modified");
  if (published) apply_date(entry, entry.published_at, *published);
  if (modified) apply_date(entry, entry.updated_at, *modified);
  if (const auto it = item.find("tags"); it != item.end() && it->is_array()) {
    for (const nlohmann::json& tag : *it) {
      if (tag.is_string()) add_unique(entry.tags, nz::collapse_whitespace(tag.get<std::string>()));
    }
  }
  if (std::optional<std::string> comments = json_string(item, "_comments_url")) {
    entry.comments_url = resolve_link(base, *comments);
  }
  finish_entry(entry, raw_link, published.value_or(modified.value_or("")));
  return entry;
}

Result<ParsedFeed> parse_json(std::string_view body, const ParseOptions& options) {
  if (!json_depth_ok(body)) return make_error(Errc::parse, "JSON nested too deeply to be a feed");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/true,
                                /*ignore_comments=*/false);
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::parse, std::string("invalid JSON: ") + e.what());
  }
  if (!doc.is_object()) return make_error(Errc::parse, "not a JSON Feed: the top level is not an object");
  const std::optional<std::string> version = json_string(doc, "version");
  const auto items = doc.find("items");
  const bool has_items = items != doc.end() && items->is_array();
  const bool jsonfeed_version = version && (version->starts_with("https://jsonfeed.org/version/") ||
                                            version->starts_with("http://jsonfeed.org/version/"));
  if (!jsonfeed_version && !has_items) {
    return make_error(Errc::parse, "not a JSON Feed: no jsonfeed.org version and no items array");
  }
  if (options.format != FeedFormat::auto_detect && options.format != FeedFormat::jsonfeed) {
    return make_error(Errc::parse, std::string("expected ") + to_string(options.format) +
                                       " but the document is a JSON Feed");
  }

  ParsedFeed feed;
  feed.format = FeedFormat::jsonfeed;
  const std::string& base = options.base_url;
  if (std::optional<std::string> title = json_string(doc, "title"))
    feed.title = title_text(Text{false, *title});
  if (std::optional<std::string> home = json_string(doc, "home_page_url"))
    feed.url = resolve_link(base, *home);
  if (std::optional<std::string> language = json_string(doc, "language")) {
    feed.language = nz::normalise_language_tag(*language);
  }
  if (has_items) {
    const std::vector<Author> feed_authors = json_authors(doc, base);
    ItemCounter counter(options.max_items, feed);
    for (const nlohmann::json& item : *items) {
      if (!item.is_object()) {
        feed.warnings.emplace_back("item_skipped: a JSON Feed item is not an object");
        continue;
      }
      if (counter.take()) feed.entries.push_back(json_entry(item, base, feed_authors));
    }
    counter.report();
  }
  return feed;
}

// Sets the per-thread state one parse needs and restores it afterwards.
class ParseScope {
 public:
  explicit ParseScope(const ParseOptions& options)
      : previous_dates_(t_dates), previous_ids_(t_source_ids), previous_tracking_(t_tracking) {
    t_dates = nz::DateContext{};
    if (options.timezone) t_dates.timezone = *options.timezone;
    t_dates.now = options.now;
    t_source_ids = &source_ids;
    t_tracking = options.tracking_params.empty() ? &nz::default_tracking_params() : &options.tracking_params;
  }
  ~ParseScope() {
    t_dates = previous_dates_;
    t_source_ids = previous_ids_;
    t_tracking = previous_tracking_;
  }
  ParseScope(const ParseScope&) = delete;
  ParseScope& operator=(const ParseScope&) = delete;

  std::vector<char> source_ids;

 private:
  nz::DateContext previous_dates_;
  std::vector<char>* previous_ids_;
  const std::vector<std::string>* previous_tracking_;
};

void clean_field(std::string& field, bool& replaced) {
  if (nz::is_clean_text(field)) return;
  nz::CleanResult r;
  field = nz::clean_text(field, r);
  replaced = replaced || r.replaced;
}

void clean_field(std::optional<std::string>& field, bool& replaced) {
  if (field) clean_field(*field, replaced);
}

// Ids (docs/normalisation.md), text hygiene, language, document-level flags.
void finalize_entries(ParsedFeed& feed, const ParseOptions& options, const std::vector<char>& source_ids,
                      bool mislabeled) {
  bool unused = false;
  clean_field(feed.title, unused);
  // Ids reused across items: the same source id for items with different links.
  std::vector<char> reused(feed.entries.size(), 0);
  if (options.id_from == IdFrom::auto_detect) {
    std::map<std::string_view, std::size_t> first;
    for (std::size_t i = 0; i < feed.entries.size(); ++i) {
      if (i >= source_ids.size() || source_ids[i] == 0) continue;
      const auto [it, inserted] = first.emplace(feed.entries[i].native_id, i);
      if (inserted) continue;
      const FeedEntry& a = feed.entries[it->second];
      const FeedEntry& b = feed.entries[i];
      if (a.url != b.url) {
        reused[it->second] = 1;
        reused[i] = 1;
      }
    }
  }
  // Items without a declared language, and the text each is detected from.
  std::vector<std::size_t> undeclared;
  std::vector<std::string> samples;
  for (std::size_t i = 0; i < feed.entries.size(); ++i) {
    FeedEntry& e = feed.entries[i];
    if ((reused[i] != 0 || options.id_from == IdFrom::link) && e.url) {
      if (reused[i] != 0) add_unique(e.quality, "id_reused");
      e.native_id = *e.url;
    }
    bool replaced = false;
    clean_field(e.native_id, replaced);
    clean_field(e.title, replaced);
    clean_field(e.summary, replaced);
    clean_field(e.content_text, replaced);
    clean_field(e.content_html, replaced);
    for (Author& a : e.authors) {
      clean_field(a.name, replaced);
      clean_field(a.location, replaced);
      if (a.name && a.name->empty()) a.name.reset();
    }
    std::vector<std::string> tags;
    for (std::string& tag : e.tags) {
      clean_field(tag, replaced);
      add_unique(tags, std::move(tag));
    }
    e.tags = std::move(tags);
    if (e.title && e.title->empty()) e.title.reset();
    if (e.summary && e.summary->empty()) e.summary.reset();
    if (e.content_text && e.content_text->empty()) e.content_text.reset();
    if (e.content_html && e.content_html->empty()) e.content_html.reset();
    if (replaced) add_unique(e.quality, std::string(nz::kInvalidUtf8));
    if (mislabeled) add_unique(e.quality, std::string(nz::kCharsetMislabeled));

    if (!e.language && feed.language) {
      e.language = feed.language;
      e.language_confidence = 1.0;
    }
    if (!e.language && options.language) {
      e.language = options.language;
      e.language_confidence = 1.0;
    }
    if (!e.language && !e.unchanged) {
      // Title, line feed, body: only the prefix detection reads is copied.
      constexpr std::size_t kSampleBytes = nz::kMaxDetectBytes + 1;
      std::string sample;
      const std::optional<std::string>& body = e.content_text ? e.content_text : e.summary;
      if (e.title) sample.assign(*e.title, 0, kSampleBytes);
      if (body && sample.size() < kSampleBytes) {
        sample.push_back('\n');
        sample.append(*body, 0, kSampleBytes - sample.size());
      }
      undeclared.push_back(i);
      samples.push_back(std::move(sample));
    }
  }
  // Detected per item, read together so that a document that agrees with itself
  // is read from each item's first bytes only (detect_languages).
  nz::DocumentLanguages detected = nz::detect_languages(samples);
  for (std::size_t k = 0; k < undeclared.size(); ++k) {
    if (std::optional<nz::Language>& language = detected.languages[k]) {
      FeedEntry& e = feed.entries[undeclared[k]];
      e.language = std::move(language->tag);
      e.language_confidence = language->confidence;
    }
  }
}

}  // namespace

const char* to_string(IdFrom id_from) {
  switch (id_from) {
    case IdFrom::auto_detect:
      return "auto";
    case IdFrom::guid:
      return "guid";
    case IdFrom::link:
      return "link";
  }
  return "auto";
}

std::optional<IdFrom> parse_id_from(std::string_view name) {
  for (IdFrom f : {IdFrom::auto_detect, IdFrom::guid, IdFrom::link}) {
    if (name == to_string(f)) return f;
  }
  return std::nullopt;
}

const char* to_string(FeedFormat format) {
  switch (format) {
    case FeedFormat::auto_detect:
      return "auto";
    case FeedFormat::rss:
      return "rss";
    case FeedFormat::atom:
      return "atom";
    case FeedFormat::jsonfeed:
      return "jsonfeed";
  }
  return "auto";
}

std::optional<FeedFormat> parse_format(std::string_view name) {
  for (FeedFormat f : {FeedFormat::auto_detect, FeedFormat::rss, FeedFormat::atom, FeedFormat::jsonfeed}) {
    if (name == to_string(f)) return f;
  }
  return std::nullopt;
}

Result<ParsedFeed> parse_feed(std::string_view body, const ParseOptions& options) {
  if (body.size() > kMaxFeedBytes) {
    return make_error(Errc::too_large, "document is " + std::to_string(body.size()) +
                                           " bytes; the limit is " + std::to_string(kMaxFeedBytes));
  }
  try {
    nz::DecodedDocument decoded = nz::decode_document(
        body, options.content_type ? std::optional<std::string_view>(*options.content_type) : std::nullopt);
    const std::string_view text = decoded.utf8(body);
    std::size_t start = 0;
    while (start < text.size() && is_ws(text[start])) ++start;
    if (start == text.size()) return make_error(Errc::parse, "empty document");
    const char first = text[start];

    ParseScope scope(options);
    Result<ParsedFeed> parsed = [&]() -> Result<ParsedFeed> {
      if (options.format == FeedFormat::jsonfeed ||
          (options.format == FeedFormat::auto_detect && first == '{')) {
        return parse_json(text.substr(start), options);
      }
      if (first == '{' || first == '[') {
        return make_error(Errc::parse, std::string("expected ") + to_string(options.format) +
                                           " but the document looks like JSON");
      }
      return parse_xml(text, options);
    }();
    if (!parsed) return parsed;
    parsed->charset = decoded.charset;
    if (decoded.mislabeled) {
      parsed->warnings.push_back("charset_mislabeled: read as " + decoded.charset + " (label from " +
                                 decoded.from + " did not fit)");
    }
    if (decoded.replaced) {
      parsed->warnings.push_back("invalid_bytes: bytes not valid in " + decoded.charset + " became U+FFFD");
    }
    finalize_entries(*parsed, options, scope.source_ids, decoded.mislabeled);
    return parsed;
  } catch (const std::bad_alloc&) {
    return make_error(Errc::too_large, "out of memory while parsing the document");
  } catch (const std::exception& e) {
    return make_error(Errc::parse, std::string("unexpected failure while parsing: ") + e.what());
  }
}

}  // namespace postwire::feed
