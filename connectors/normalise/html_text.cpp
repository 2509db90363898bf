#include "normalise/html_text.hpp"

#include "normalise/env.hpp"
#include "postwire/schema/ascii_scan.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "normalise/entities.hpp"
#include "normalise/text_clean.hpp"
#include "normalise/urls.hpp"

namespace postwire::normalise {
namespace {

constexpr int kHtmlOptions = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                             HTML_PARSE_RECOVER | HTML_PARSE_NODEFDTD | HTML_PARSE_COMPACT;

struct DocDeleter {
  void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

struct HtmlCtxtDeleter {
  void operator()(htmlParserCtxt* ctxt) const noexcept { htmlFreeParserCtxt(ctxt); }
};

std::string_view name_of(const xmlChar* name) {
  return name == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(name));
}

template <std::size_t N>
bool one_of(std::string_view name, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Elements whose content is not text a reader sees, or is active content.
constexpr std::array<std::string_view, 17> kDropped = {
    "script",   "style", "iframe", "object", "embed", "form",  "meta",  "link",  "noscript",
    "template", "head",  "title",  "svg",    "math",  "audio", "video", "canvas"};

constexpr std::array<std::string_view, 37> kBlocks = {
    "p",       "div",        "li",    "h1",    "h2",      "h3",      "h4",         "h5",
    "h6",      "blockquote", "tr",    "pre",   "ul",      "ol",      "table",      "section",
    "article", "dl",         "dt",    "dd",    "hr",      "figure",  "figcaption", "header",
    "footer",  "aside",      "nav",   "main",  "address", "details", "summary",    "caption",
    "center",  "fieldset",   "thead", "tbody", "tfoot"};

constexpr std::array<std::string_view, 42> kAllowedTags = {
    "p",    "br",     "a",          "b",     "strong", "i",     "em", "u",  "s",    "blockquote", "q",
    "code", "pre",    "ul",         "ol",    "li",     "h1",    "h2", "h3", "h4",   "h5",         "h6",
    "img",  "figure", "figcaption", "table", "thead",  "tbody", "tr", "td", "th",   "span",       "div",
    "hr",   "sub",    "sup",        "abbr",  "cite",   "dl",    "dt", "dd", "tfoot"};

constexpr std::array<std::string_view, 3> kVoidTags = {"br", "hr", "img"};

bool attribute_allowed(std::string_view tag, std::string_view attr) {
  if (tag == "a") return attr == "href" || attr == "title";
  if (tag == "img") {
    return attr == "src" || attr == "alt" || attr == "title" || attr == "width" || attr == "height";
  }
  if (tag == "td" || tag == "th") return attr == "colspan" || attr == "rowspan";
  if (tag == "abbr") return attr == "title";
  return false;
}

// Numeric references to C1 controls mean Windows-1252 in practice (HTML5 section
// 13.2.5.80); so do raw C1 characters that survive a mis-declared charset.
char32_t fix_code_point(char32_t cp) {
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0xFFFD;
  if (cp >= 0x80 && cp <= 0x9F) {
    // The five bytes Windows-1252 leaves undefined keep their C1 code point.
    const char32_t mapped = windows1252_c1(static_cast<unsigned char>(cp));
    return mapped != 0 ? mapped : cp;
  }
  return cp;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// libxml2's HTML parser knows HTML 4's names only, and none without their ';'. Every
// named reference HTML 5 knows becomes a numeric one first (legacy names without
// ';' only where HTML 5 decodes them in attributes too: not before an alphanumeric
// or '='), so the parser sees references it can only get right.
std::string expand_named_references(std::string_view html) {
  std::string out;
  out.reserve(html.size() + 16);
  std::size_t i = 0;
  while (i < html.size()) {
    const std::size_t amp = html.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(html.substr(i));
      break;
    }
    out.append(html.substr(i, amp - i));
    std::size_t p = amp + 1;
    while (p < html.size() && p - amp <= 33 && is_alnum(html[p])) ++p;
    const std::string_view name = html.substr(amp + 1, p - amp - 1);
    const NamedEntity* entity = nullptr;
    std::size_t consumed = 0;
    if (!name.empty() && p < html.size() && html[p] == ';') {
      entity = find_html_entity(name);
      consumed = name.size() + 2;
    }
    if (entity == nullptr && !name.empty()) {
      entity = find_legacy_prefix(name);
      if (entity != nullptr) {
        const std::size_t after = amp + 1 + entity->name.size();
        if (after < html.size() && (is_alnum(html[after]) || html[after] == '=' || html[after] == ';')) {
          entity = nullptr;
        } else {
          consumed = entity->name.size() + 1;
        }
      }
    }
    if (entity == nullptr) {
      out.push_back('&');
      i = amp + 1;
      continue;
    }
    // Numeric references for each code point of the expansion.
    std::string_view utf8 = entity->utf8;
    std::size_t k = 0;
    while (k < utf8.size()) {
      const auto b = static_cast<unsigned char>(utf8[k]);
      char32_t cp = b;
      std::size_t n = 1;
      if (b >= 0xF0) {
        cp = b & 0x07;
        n = 4;
      } else if (b >= 0xE0) {
        cp = b & 0x0F;
        n = 3;
      } else if (b >= 0xC0) {
        cp = b & 0x1F;
        n = 2;
      }
      for (std::size_t m = 1; m < n && k + m < utf8.size(); ++m) {
        cp = (cp << 6) | (static_cast<unsigned char>(utf8[k + m]) & 0x3F);
      }
      out.append("&#").append(std::to_string(static_cast<std::uint32_t>(cp))).push_back(';');
      k += n;
    }
    i = amp + consumed;
  }
  return out;
}

DocPtr parse_fragment(std::string_view html) {
  ensure_libxml2_initialized();
  // Feeds that escape their CDATA section deliver it as text; HTML has no CDATA, so
  // the markers would otherwise show up in the output.
  std::string_view trimmed = html;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\n' || trimmed.front() == '\r' ||
                              trimmed.front() == '\t')) {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\n' || trimmed.back() == '\r' ||
                              trimmed.back() == '\t')) {
    trimmed.remove_suffix(1);
  }
  if (trimmed.starts_with("<![CDATA[") && trimmed.ends_with("]]>") && trimmed.size() >= 12) {
    html = trimmed.substr(9, trimmed.size() - 12);
  }
  // An explicit <body> keeps libxml2 from wrapping leading text in an implied <p>.
  std::string buffer = "<html><body>";
  html = html.substr(0, static_cast<std::size_t>(INT_MAX) / 2);
  if (html.find('&') != std::string_view::npos) {
    buffer.append(expand_named_references(html));
  } else {
    buffer.append(html);
  }
  std::unique_ptr<htmlParserCtxt, HtmlCtxtDeleter> ctxt(htmlNewParserCtxt());
  if (!ctxt) return nullptr;
  return DocPtr(htmlCtxtReadMemory(ctxt.get(), buffer.data(), static_cast<int>(buffer.size()), nullptr,
                                   "UTF-8", kHtmlOptions));
}

// Depth-first walk without recursion (HTML trees from strangers can be arbitrarily
// deep). `enter` returns whether to descend; `leave` runs for every node entered
// with true once its children are done.
template <class Enter, class Leave>
void walk(xmlNode* root, Enter&& enter, Leave&& leave) {
  xmlNode* node = root->children;
  while (node != nullptr) {
    const bool descend = enter(node);
    if (descend && node->children != nullptr) {
      node = node->children;
      continue;
    }
    if (descend) leave(node);
    while (node->next == nullptr) {
      node = node->parent;
      if (node == nullptr || node == root) return;
      leave(node);
    }
    node = node->next;
  }
}

// Bytes TextBuilder::text looks at one by one: ASCII white space and 0xC2 (the lead
// byte of U+00A0 and of the C1 controls).
constexpr std::array<bool, 256> kTextSpecial = [] {
  std::array<bool, 256> table{};
  for (unsigned char c : {' ', '\t', '\n', '\r', '\f', '\v'}) table[c] = true;
  table[0xC2] = true;
  return table;
}();

class TextBuilder {
 public:
  void text(std::string_view s) {
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        pending_space_ = true;
        ++i;
      } else if (c == 0xC2 && i + 1 < n && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        pending_space_ = true;
        i += 2;
      } else if (c == 0xC2 && i + 1 < n && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                 static_cast<unsigned char>(s[i + 1]) < 0xA0) {
        flush();  // U+0080-U+009F: the second byte is the code point
        append_utf8(out_, fix_code_point(static_cast<unsigned char>(s[i + 1])));
        i += 2;
      } else {
        // A run of bytes kept as they are: up to the next white space or 0xC2. A
        // single ' ' between two kept bytes is what flush() would write: it stays in.
        std::size_t end = i + 1;
        while (end < n) {
          end = static_cast<std::size_t>(skip_plain_words(s.data() + end, s.data() + n, 0xC2) - s.data());
          if (end >= n) break;
          const auto d = static_cast<unsigned char>(s[end]);
          if (!kTextSpecial[d]) {
            ++end;
          } else if (d == ' ' && end + 1 < n && !kTextSpecial[static_cast<unsigned char>(s[end + 1])]) {
            end += 2;
          } else {
            break;
          }
        }
        flush();
        out_.append(s.data() + i, end - i);
        i = end;
      }
    }
  }

  // <pre> content: kept as written apart from line endings and U+00A0.
  void preformatted(std::string_view s) {
    flush();
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '\r') {
        out_.push_back('\n');
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
      } else if (static_cast<unsigned char>(c) == 0xC2 && i + 1 < s.size() &&
                 static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        out_.push_back(' ');
        ++i;
      } else {
        out_.push_back(c);
      }
    }
    pending_space_ = false;
  }

  void space() { pending_space_ = true; }
  void line_break() { pending_break_ = std::min(pending_break_ + 1, 2); }
  void block() { pending_break_ = 2; }

  std::string finish() {
    const auto is_ws = [](char c) { return c == ' ' || c == '\n' || c == '\t'; };
    std::size_t begin = 0;
    while (begin < out_.size() && is_ws(out_[begin])) ++begin;
    std::size_t end = out_.size();
    while (end > begin && is_ws(out_[end - 1])) --end;
    return out_.substr(begin, end - begin);
  }

 private:
  void flush() {
    if (pending_break_ > 0) {
      if (!out_.empty()) {
        while (!out_.empty() && out_.back() == ' ') out_.pop_back();
        int have = 0;
        for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n' && have < 2; ++it) ++have;
        if (pending_break_ > have) out_.append(static_cast<std::size_t>(pending_break_ - have), '\n');
      }
      pending_break_ = 0;
      pending_space_ = false;
    } else if (pending_space_) {
      if (!out_.empty() && out_.back() != '\n') out_.push_back(' ');
      pending_space_ = false;
    }
  }

  std::string out_;
  int pending_break_ = 0;
  bool pending_space_ = false;
};

// Whether any byte of `w` is `c` (exact for the first such byte; a later byte may
// be reported falsely, which only makes the caller look closer).
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
inline std::uint64_t has_byte(std::uint64_t w, unsigned char c) {
  const std::uint64_t x = w ^ (kOnes * c);
  return (x - kOnes) & ~x & kHigh;
}

void escape_into(std::string& out, std::string_view s, bool attribute) {
  const std::size_t n = s.size();
  std::size_t start = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // Text without & < > (or ") goes by eight bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((has_byte(w, '&') | has_byte(w, '<') | has_byte(w, '>') | (attribute ? has_byte(w, '"') : 0)) != 0)
        break;
      i += 8;
    }
    if (i >= n) break;
    const char c = s[i];
    const char* replacement = nullptr;
    switch (c) {
      case '&':
        replacement = "&amp;";
        break;
      case '<':
        replacement = "&lt;";
        break;
      case '>':
        replacement = "&gt;";
        break;
      case '"':
        if (attribute) replacement = "&quot;";
        break;
      default:
        break;
    }
    if (replacement == nullptr) continue;
    out.append(s.data() + start, i - start);
    out.append(replacement);
    start = i + 1;
  }
  out.append(s.data() + start, n - start);
}

// The first of `a` or `b` in s from `from`, or npos (string_view::find_first_of
// calls memchr once per character for a two-character set).
std::size_t find_either(std::string_view s, std::size_t from, char a, char b) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] == a || s[i] == b) return i;
  }
  return std::string_view::npos;
}

std::string attribute_value(const xmlAttr* attr) {
  std::string value;
  for (const xmlNode* child = attr->children; child != nullptr; child = child->next) {
    if (child->content != nullptr) value.append(name_of(child->content));
  }
  return value;
}

std::optional<std::string> safe_url(const std::string& value, std::string_view base_url) {
  if (is_dangerous_url(value)) return std::nullopt;
  if (std::optional<std::string> resolved = resolve_url(base_url, value)) {
    if (is_dangerous_url(*resolved)) return std::nullopt;
    return resolved;
  }
  if (!base_url.empty()) return std::nullopt;
  // Nothing to resolve against: keep the reference, minus what a browser would ignore.
  std::string kept;
  for (char c : value) {
    if (c != '\t' && c != '\n' && c != '\r') kept.push_back(c);
  }
  const std::size_t begin = kept.find_first_not_of(' ');
  const std::size_t end = kept.find_last_not_of(' ');
  return begin == std::string::npos ? std::string() : kept.substr(begin, end - begin + 1);
}

std::string trim_ascii(std::string s) {
  const auto is_ws = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f'; };
  std::size_t begin = 0;
  while (begin < s.size() && is_ws(s[begin])) ++begin;
  std::size_t end = s.size();
  while (end > begin && is_ws(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

}  // namespace

void ensure_libxml2_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

char32_t html_entity_code_point(std::string_view name) {
  const NamedEntity* entity = find_html_entity(name);
  if (entity == nullptr) return 0;
  // First code point of the expansion (the few two-code-point names lose their
  // combining mark here; decode_entities keeps them).
  const std::string_view u = entity->utf8;
  const auto b = static_cast<unsigned char>(u[0]);
  if (b < 0x80) return b;
  char32_t cp = b >= 0xF0 ? (b & 0x07u) : b >= 0xE0 ? (b & 0x0Fu) : (b & 0x1Fu);
  const std::size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  for (std::size_t k = 1; k < n && k < u.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(u[k]) & 0x3Fu);
  return cp;
}

namespace {

std::string text_of(xmlDoc* doc) {
  TextBuilder builder;
  int pre_depth = 0;
  walk(
      reinterpret_cast<xmlNode*>(doc),
      [&](xmlNode* node) {
        if (node->type == XML_TEXT_NODE) {
          if (node->content != nullptr) {
            if (pre_depth > 0) {
              builder.preformatted(name_of(node->content));
            } else {
              builder.text(name_of(node->content));
            }
          }
          return false;
        }
        if (node->type != XML_ELEMENT_NODE) return node->type == XML_DOCUMENT_NODE;
        const std::string_view name = name_of(node->name);
        if (one_of(name, kDropped)) return false;
        if (name == "br") {
          builder.line_break();
          return false;
        }
        if (one_of(name, kBlocks)) builder.block();
        if (name == "pre") ++pre_depth;
        if (name == "td" || name == "th") builder.space();
        return true;
      },
      [&](xmlNode* node) {
        const std::string_view name = name_of(node->name);
        if (one_of(name, kBlocks)) builder.block();
        if (name == "pre") --pre_depth;
        if (name == "td" || name == "th") builder.space();
      });
  return builder.finish();
}

std::string sanitized_of(xmlDoc* doc, std::string_view base_url) {
  std::string out;
  walk(
      reinterpret_cast<xmlNode*>(doc),
      [&](xmlNode* node) {
        if (node->type == XML_TEXT_NODE) {
          if (node->content != nullptr) escape_into(out, name_of(node->content), false);
          return false;
        }
        if (node->type != XML_ELEMENT_NODE) return false;
        const std::string_view tag = name_of(node->name);
        if (one_of(tag, kDropped)) return false;
        if (!one_of(tag, kAllowedTags)) return true;  // unwrap: keep the content only
        out.push_back('<');
        out.append(tag);
        for (const xmlAttr* attr = node->properties; attr != nullptr; attr = attr->next) {
          const std::string_view attr_name = name_of(attr->name);
          if (!attribute_allowed(tag, attr_name)) continue;
          std::string value = attribute_value(attr);
          if (attr_name == "href" || attr_name == "src") {
            std::optional<std::string> url = safe_url(value, base_url);
            if (!url) continue;
            value = std::move(*url);
          }
          out.push_back(' ');
          out.append(attr_name);
          out.append("=\"");
          escape_into(out, value, true);
          out.push_back('"');
        }
        out.push_back('>');
        return !one_of(tag, kVoidTags);
      },
      [&](xmlNode* node) {
        const std::string_view tag = name_of(node->name);
        if (one_of(tag, kAllowedTags) && !one_of(tag, kVoidTags)) {
          out.append("</");
          out.append(tag);
          out.push_back('>');
        }
      });
  return trim_ascii(std::move(out));
}

std::string plain_text_fast(std::string_view html) {
  TextBuilder builder;
  builder.text(html);
  return builder.finish();
}

// ---- Fast path ---------------------------------------------------------------
// Most feed HTML is a handful of well-nested elements (p, br, a, b, i, em, strong,
// lists, blockquote, headings, img) with quoted attributes and character references.
// render_simple reads exactly that subset itself and renders text and sanitised HTML
// the way the libxml2 tree walks above do; on anything else (an element outside the
// subset, a nesting libxml2 would repair by auto-closing, an unclosed element, a
// reference libxml2 reads differently, a control character, ...) it returns false
// and the caller parses with libxml2. The rules mirror libxml2 2.9's HTML parser:
// names are lower-cased; white-space text is kept (keepBlanks); references are
// decoded in text and attribute values; '&' followed by no name is a literal '&'.

enum class Kind : std::uint8_t {
  phrasing,        // a b i ...: text and phrasing only
  block_phrasing,  // p h1-h6: text and phrasing only
  flow,            // blockquote div: anything but li
  list,            // ul ol: li and white space only
  list_item,       // li: anything but li
  void_phrasing,   // br img
  void_block,      // hr
};

struct SimpleTag {
  std::string_view name;
  Kind kind;
};

constexpr std::array<SimpleTag, 29> kSimpleTags = {{
    {"p", Kind::block_phrasing},  {"br", Kind::void_phrasing},  {"a", Kind::phrasing},
    {"b", Kind::phrasing},        {"strong", Kind::phrasing},   {"i", Kind::phrasing},
    {"em", Kind::phrasing},       {"u", Kind::phrasing},        {"s", Kind::phrasing},
    {"code", Kind::phrasing},     {"span", Kind::phrasing},     {"sub", Kind::phrasing},
    {"sup", Kind::phrasing},      {"cite", Kind::phrasing},     {"abbr", Kind::phrasing},
    {"q", Kind::phrasing},        {"blockquote", Kind::flow},   {"div", Kind::flow},
    {"ul", Kind::list},           {"ol", Kind::list},           {"li", Kind::list_item},
    {"h1", Kind::block_phrasing}, {"h2", Kind::block_phrasing}, {"h3", Kind::block_phrasing},
    {"h4", Kind::block_phrasing}, {"h5", Kind::block_phrasing}, {"h6", Kind::block_phrasing},
    {"img", Kind::void_phrasing}, {"hr", Kind::void_block},
}};

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }
// Characters libxml2's HTML name readers accept after the first one.
bool is_name_char(char c) { return is_alnum(c) || c == ':' || c == '-' || c == '_' || c == '.'; }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Valid UTF-8 without the characters libxml2 would reject or rewrite (C0 controls
// other than tab and line feed, CR, U+FFFE, U+FFFF).
bool plain_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n') return false;
      if (c == 0x7F) return false;
      ++i;
      continue;
    }
    std::size_t bad = 0;
    char32_t cp = 0;
    const std::size_t len = utf8_sequence_at(s, i, bad, cp);
    if (len == 0 || cp == 0xFFFE || cp == 0xFFFF) return false;
    i += len;
  }
  return true;
}

// A code point a numeric reference may stand for on the fast path (what libxml2
// accepts as is; C1 controls, CR and NUL go to libxml2).
bool plain_code_point(char32_t cp) {
  return cp == '\t' || cp == '\n' || (cp >= 0x20 && cp < 0x7F) || (cp >= 0xA0 && cp < 0xD800) ||
         (cp >= 0xE000 && cp < 0xFFFE) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

enum class RefResult { decoded, literal_amp, unsupported };

// At s[pos] == '&': decodes one reference into `out`, advancing pos; `attribute`
// selects libxml2's attribute-value rules for a '&' that starts no known reference.
RefResult read_reference(std::string_view s, std::size_t& pos, std::string& out, bool attribute) {
  const std::size_t amp = pos;
  std::size_t p = amp + 1;
  if (p < s.size() && s[p] == '#') {
    ++p;
    const bool hex = p < s.size() && (s[p] == 'x' || s[p] == 'X');
    if (hex) ++p;
    const std::size_t digits = p;
    char32_t cp = 0;
    while (p < s.size() && p - digits < 8) {
      const int d = reference_digit(s[p], hex);
      if (d < 0) break;
      cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(d);
      ++p;
    }
    if (p == digits || p >= s.size() || s[p] != ';' || !plain_code_point(cp)) return RefResult::unsupported;
    append_utf8(out, cp);
    pos = p + 1;
    return RefResult::decoded;
  }
  // Named: the same scan as expand_named_references.
  while (p < s.size() && p - amp <= 33 && is_alnum(s[p])) ++p;
  const std::string_view name = s.substr(amp + 1, p - amp - 1);
  if (!name.empty() && p < s.size() && s[p] == ';') {
    if (const NamedEntity* entity = find_html_entity(name); entity != nullptr) {
      out.append(entity->utf8);
      pos = p + 1;
      return RefResult::decoded;
    }
  }
  if (!name.empty() && find_legacy_prefix(name) != nullptr) return RefResult::unsupported;
  // libxml2 now reads '&' + a name.
  std::size_t q = amp + 1;
  if (q >= s.size()) {
    out.push_back('&');
    pos = q;
    return RefResult::literal_amp;
  }
  const char first = s[q];
  if (static_cast<unsigned char>(first) >= 0x80) return RefResult::unsupported;
  if (!(is_ascii_letter(first) || first == '_' || first == ':')) {
    out.push_back('&');  // no name: a literal '&'
    pos = q;
    return RefResult::literal_amp;
  }
  if (!attribute) return RefResult::unsupported;
  while (q < s.size() && is_name_char(s[q])) ++q;
  if (q < s.size() && (s[q] == ';' || static_cast<unsigned char>(s[q]) >= 0x80))
    return RefResult::unsupported;
  out.append(s.substr(amp, q - amp));  // "&name" as written
  pos = q;
  return RefResult::literal_amp;
}

class SimpleRenderer {
 public:
  SimpleRenderer(std::string_view base_url, std::string* html_out) : base_url_(base_url), html_(html_out) {}

  bool run(std::string_view s, std::string* text_out) {
    if (!plain_utf8(s)) return false;
    std::size_t pos = 0;
    const std::size_t n = s.size();
    while (pos < n) {
      const char c = s[pos];
      if (c == '<') {
        if (!flush_text()) return false;
        if (pos + 1 >= n) return false;
        const char next = s[pos + 1];
        if (is_ascii_letter(next)) {
          if (!start_tag(s, pos)) return false;
        } else if (next == '/') {
          if (!end_tag(s, pos)) return false;
        } else if (next == '!') {
          if (!comment(s, pos)) return false;
        } else {
          return false;
        }
      } else if (c == '&') {
        if (read_reference(s, pos, run_, false) == RefResult::unsupported) return false;
      } else {
        const std::size_t stop = find_either(s, pos, '<', '&');
        const std::size_t end = stop == std::string_view::npos ? n : stop;
        run_.append(s.substr(pos, end - pos));
        pos = end;
      }
    }
    if (!flush_text()) return false;
    if (depth_ != 0) return false;  // unclosed elements: libxml2 decides
    if (text_out != nullptr) *text_out = text_.finish();
    return true;
  }

 private:
  struct Open {
    const SimpleTag* tag;
  };

  Kind parent_kind() const { return depth_ == 0 ? Kind::flow : stack_[depth_ - 1]->kind; }

  bool flush_text() {
    if (run_.empty()) return true;
    if (parent_kind() == Kind::list) {
      for (char c : run_) {
        if (!is_blank(c)) return false;
      }
    }
    text_.text(run_);
    if (html_ != nullptr) escape_into(*html_, run_, false);
    run_.clear();
    return true;
  }

  static const SimpleTag* lookup(std::string_view lowered) {
    for (const SimpleTag& t : kSimpleTags) {
      if (t.name == lowered) return &t;
    }
    return nullptr;
  }

  // Reads a tag name at s[pos] (ASCII letters and digits), lower-cased into `name_`.
  bool read_tag_name(std::string_view s, std::size_t& pos) {
    name_.clear();
    while (pos < s.size() && is_alnum(s[pos]) && name_.size() < 16) name_.push_back(ascii_lower(s[pos++]));
    if (pos >= s.size()) return false;
    const char c = s[pos];
    return is_blank(c) || c == '>' || c == '/';
  }

  bool allowed_in_parent(const SimpleTag& tag) const {
    const Kind parent = parent_kind();
    switch (tag.kind) {
      case Kind::phrasing:
      case Kind::void_phrasing:
        if (parent == Kind::list) return false;
        if (tag.name == "a") {
          for (int i = 0; i < depth_; ++i) {
            if (stack_[i]->name == "a") return false;
          }
        }
        return true;
      case Kind::list_item:
        return parent == Kind::list;
      case Kind::block_phrasing:
      case Kind::flow:
      case Kind::list:
      case Kind::void_block:
        return parent == Kind::flow || parent == Kind::list_item;
    }
    return false;
  }

  bool start_tag(std::string_view s, std::size_t& pos) {
    std::size_t p = pos + 1;
    if (!read_tag_name(s, p)) return false;
    const SimpleTag* tag = lookup(name_);
    if (tag == nullptr || !allowed_in_parent(*tag)) return false;
    const bool is_void = tag->kind == Kind::void_phrasing || tag->kind == Kind::void_block;
    if (html_ != nullptr) {
      html_->push_back('<');
      html_->append(tag->name);
    }
    seen_attrs_.clear();
    bool self_closed = false;
    while (true) {
      const std::size_t before = p;
      while (p < s.size() && is_blank(s[p])) ++p;
      if (p >= s.size()) return false;
      if (s[p] == '>') {
        ++p;
        break;
      }
      if (s[p] == '/') {
        if (p + 1 < s.size() && s[p + 1] == '>' && is_void) {
          p += 2;
          self_closed = true;
          break;
        }
        return false;
      }
      if (p == before) return false;  // attributes must be separated by white space
      // Attribute name: libxml2 lower-cases it.
      const char first = s[p];
      if (!(is_ascii_letter(first) || first == '_' || first == ':' || first == '.')) return false;
      attr_name_.clear();
      while (p < s.size() && is_name_char(s[p]) && attr_name_.size() < 64)
        attr_name_.push_back(ascii_lower(s[p++]));
      if (p >= s.size() || (static_cast<unsigned char>(s[p]) >= 0x80) || is_name_char(s[p])) return false;
      while (p < s.size() && is_blank(s[p])) ++p;
      if (p >= s.size() || s[p] != '=') return false;  // no value: libxml2 decides
      ++p;
      while (p < s.size() && is_blank(s[p])) ++p;
      if (p >= s.size() || (s[p] != '"' && s[p] != '\'')) return false;
      const char quote = s[p++];
      value_.clear();
      while (true) {
        if (p >= s.size()) return false;
        const char c = s[p];
        if (c == quote) {
          ++p;
          break;
        }
        if (c == '&') {
          if (read_reference(s, p, value_, true) == RefResult::unsupported) return false;
        } else {
          value_.push_back(c);
          ++p;
        }
      }
      // A repeated attribute: libxml2 keeps the first; leave that to it. (The
      // check is quadratic: tags with many attributes go to libxml2 as well.)
      if (seen_attrs_.size() >= 32) return false;
      for (const std::string& seen : seen_attrs_) {
        if (seen == attr_name_) return false;
      }
      seen_attrs_.push_back(attr_name_);
      if (html_ != nullptr && attribute_allowed(tag->name, attr_name_)) {
        if (attr_name_ == "href" || attr_name_ == "src") {
          std::optional<std::string> url = safe_url(value_, base_url_);
          if (!url) continue;
          value_ = std::move(*url);
        }
        html_->push_back(' ');
        html_->append(attr_name_);
        html_->append("=\"");
        escape_into(*html_, value_, true);
        html_->push_back('"');
      }
    }
    (void)self_closed;
    if (html_ != nullptr) html_->push_back('>');
    pos = p;
    // Text: the same as the tree walk's enter (and leave, for void elements).
    if (tag->name == "br") {
      text_.line_break();
      return true;
    }
    const bool block = one_of(tag->name, kBlocks);
    if (block) text_.block();
    if (is_void) {
      if (block) text_.block();
      return true;
    }
    if (depth_ >= static_cast<int>(stack_.size())) return false;
    stack_[depth_++] = tag;
    return true;
  }

  bool end_tag(std::string_view s, std::size_t& pos) {
    std::size_t p = pos + 2;
    if (p >= s.size() || !is_ascii_letter(s[p])) return false;
    if (!read_tag_name(s, p)) return false;
    while (p < s.size() && is_blank(s[p])) ++p;
    if (p >= s.size() || s[p] != '>') return false;
    if (depth_ == 0 || stack_[depth_ - 1]->name != name_) return false;  // mismatch: libxml2 repairs
    const SimpleTag* tag = stack_[--depth_];
    if (html_ != nullptr) {
      html_->append("</");
      html_->append(tag->name);
      html_->push_back('>');
    }
    if (one_of(tag->name, kBlocks)) text_.block();
    pos = p + 1;
    return true;
  }

  // "<!-- ... -->" with nothing libxml2 reads in a special way.
  static bool comment(std::string_view s, std::size_t& pos) {
    if (s.substr(pos, 4) != "<!--") return false;
    const std::size_t end = s.find("-->", pos + 4);
    if (end == std::string_view::npos) return false;
    const std::string_view body = s.substr(pos + 4, end - pos - 4);
    if (body.starts_with(">") || body.starts_with("->") || body.find("--") != std::string_view::npos ||
        body.ends_with("-")) {
      return false;
    }
    pos = end + 3;
    return true;
  }

  std::string_view base_url_;
  std::string* html_;
  TextBuilder text_;
  std::string run_;
  std::string name_;
  std::string attr_name_;
  std::string value_;
  std::vector<std::string> seen_attrs_;
  std::array<const SimpleTag*, 64> stack_{};
  int depth_ = 0;
};

// Text (and, with html_out, sanitised HTML) of `html` without libxml2, or false
// when the markup is outside the simple subset. Outputs are untouched on false.
bool render_simple(std::string_view html, std::string_view base_url, std::string* text_out,
                   std::string* html_out) {
  std::string html_buffer;
  SimpleRenderer renderer(base_url, html_out != nullptr ? &html_buffer : nullptr);
  std::string text;
  if (!renderer.run(html, &text)) return false;
  *text_out = std::move(text);
  if (html_out != nullptr) *html_out = trim_ascii(std::move(html_buffer));
  return true;
}

// POSTWIRE_HTML_FASTPATH_CHECK=1 in the environment: every fast-path result is
// compared with libxml2's; differences go to standard error and libxml2's result
// is used (a verification mode for tests and corpora, not for production).
bool fast_path_check_enabled() {
  static const bool enabled = env_flag("POSTWIRE_HTML_FASTPATH_CHECK");
  return enabled;
}

void report_fast_path_mismatch(std::string_view what, std::string_view input, std::string_view fast,
                               std::string_view slow) {
  std::fprintf(stderr,
               "html fast path mismatch (%.*s)\n--- input\n%.*s\n--- fast\n%.*s\n--- libxml2\n%.*s\n---\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(input.size()), input.data(),
               static_cast<int>(fast.size()), fast.data(), static_cast<int>(slow.size()), slow.data());
}

}  // namespace

std::string html_to_text(std::string_view html) {
  // The common case for titles: no markup, no parser.
  if (find_either(html, 0, '<', '&') == std::string_view::npos) return plain_text_fast(html);
  std::string fast;
  const bool have_fast = render_simple(html, {}, &fast, nullptr);
  if (have_fast && !fast_path_check_enabled()) return fast;
  DocPtr doc = parse_fragment(html);
  std::string slow = doc ? text_of(doc.get()) : collapse_whitespace(html);
  if (have_fast && fast != slow) report_fast_path_mismatch("text", html, fast, slow);
  return slow;
}

std::string sanitize_html(std::string_view html, std::string_view base_url) {
  if (html.find_first_of("<&>") == std::string_view::npos) return trim_ascii(std::string(html));
  return html_to_text_and_sanitized(html, base_url).html;
}

TextAndHtml html_to_text_and_sanitized(std::string_view html, std::string_view base_url) {
  TextAndHtml result;
  const bool text_needs_parse = find_either(html, 0, '<', '&') != std::string_view::npos;
  const bool html_needs_parse = text_needs_parse || html.find('>') != std::string_view::npos;
  if (!html_needs_parse) {
    result.text = plain_text_fast(html);
    result.html = trim_ascii(std::string(html));
    return result;
  }
  TextAndHtml fast;
  const bool have_fast = render_simple(html, base_url, &fast.text, &fast.html);
  if (have_fast && !fast_path_check_enabled()) return fast;
  DocPtr doc = parse_fragment(html);
  if (text_needs_parse) {
    result.text = doc ? text_of(doc.get()) : collapse_whitespace(html);
  } else {
    result.text = plain_text_fast(html);
  }
  if (doc) result.html = sanitized_of(doc.get(), base_url);
  if (have_fast && fast.text != result.text) report_fast_path_mismatch("text", html, fast.text, result.text);
  if (have_fast && fast.html != result.html) report_fast_path_mismatch("html", html, fast.html, result.html);
  return result;
}

namespace detail {

bool html_fast_path(std::string_view html, std::string_view base_url, TextAndHtml& out) {
  return render_simple(html, base_url, &out.text, &out.html);
}

TextAndHtml html_libxml2_path(std::string_view html, std::string_view base_url) {
  TextAndHtml result;
  DocPtr doc = parse_fragment(html);
  result.text = doc ? text_of(doc.get()) : collapse_whitespace(html);
  if (doc) result.html = sanitized_of(doc.get(), base_url);
  return result;
}

}  // namespace detail

std::string decode_entities(std::string_view text) {
  if (text.find('&') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t amp = text.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, amp - i));
    i = amp + 1;
    if (i < text.size() && text[i] == '#') {
      std::size_t p = i + 1;
      const bool hex = p < text.size() && (text[p] == 'x' || text[p] == 'X');
      if (hex) ++p;
      const std::size_t digits_begin = p;
      char32_t cp = 0;
      while (p < text.size()) {
        const int digit = reference_digit(text[p], hex);
        if (digit < 0) break;
        cp = std::min<char32_t>(cp * (hex ? 16 : 10) + static_cast<char32_t>(digit), 0x110000);
        ++p;
      }
      if (p == digits_begin) {
        out.push_back('&');
        continue;
      }
      if (p < text.size() && text[p] == ';') ++p;
      append_utf8(out, fix_code_point(cp));
      i = p;
      continue;
    }
    std::size_t p = i;
    while (p < text.size() && p - i <= 32 &&
           ((text[p] >= 'a' && text[p] <= 'z') || (text[p] >= 'A' && text[p] <= 'Z') ||
            (text[p] >= '0' && text[p] <= '9'))) {
      ++p;
    }
    if (p < text.size() && text[p] == ';' && p > i) {
      if (const NamedEntity* entity = find_html_entity(text.substr(i, p - i)); entity != nullptr) {
        out.append(entity->utf8);
        i = p + 1;
        continue;
      }
    }
    out.push_back('&');
  }
  return out;
}

bool looks_double_escaped(std::string_view html) {
  // Real markup present: the escapes are text the author meant to show.
  for (std::size_t i = html.find('<'); i != std::string_view::npos; i = html.find('<', i + 1)) {
    if (i + 1 < html.size() && (is_alnum(html[i + 1]) || html[i + 1] == '/' || html[i + 1] == '!'))
      return false;
  }
  // Every marker starts with "&lt;" (any case): without one, nothing to lower-case.
  bool has_lt = false;
  for (std::size_t i = html.find('&'); i != std::string_view::npos; i = html.find('&', i + 1)) {
    if (i + 3 < html.size() && (html[i + 1] | 0x20) == 'l' && (html[i + 2] | 0x20) == 't' &&
        html[i + 3] == ';') {
      has_lt = true;
      break;
    }
  }
  if (!has_lt) return false;
  static constexpr std::array<std::string_view, 12> kMarkers = {
      "&lt;/p&gt;", "&lt;p&gt;",   "&lt;br",          "&lt;/a&gt;",  "&lt;a href", "&lt;/div&gt;",
      "&lt;img ",   "&lt;/li&gt;", "&lt;/strong&gt;", "&lt;/em&gt;", "&lt;/b&gt;", "&lt;/blockquote&gt;"};
  std::string lowered;
  lowered.reserve(html.size());
  for (char c : html) lowered.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  for (std::string_view marker : kMarkers) {
    if (lowered.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::string undo_double_escape(std::string_view html) {
  if (html.find("&lt;") == std::string_view::npos || !looks_double_escaped(html)) return std::string(html);
  return decode_entities(html);
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending = false;
  const auto byte = [&](std::size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u; };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned c = byte(i);
    std::size_t space_len = 0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space_len = 1;
    } else if (c == 0xC2 && byte(i + 1) == 0xA0) {
      space_len = 2;  // U+00A0
    } else if ((c == 0xE1 && byte(i + 1) == 0x9A && byte(i + 2) == 0x80) ||
               (c == 0xE2 && byte(i + 1) == 0x80 &&
                ((byte(i + 2) >= 0x80 && byte(i + 2) <= 0x8A) || byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9 ||
                 byte(i + 2) == 0xAF)) ||
               (c == 0xE2 && byte(i + 1) == 0x81 && byte(i + 2) == 0x9F) ||
               (c == 0xE3 && byte(i + 1) == 0x80 && byte(i + 2) == 0x80)) {
      space_len = 3;  // U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000
    }
    if (space_len > 0) {
      pending = true;
      i += space_len;
      continue;
    }
    if (pending && !out.empty()) out.push_back(' ');
    pending = false;
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

}  // namespace postwire::normalise
