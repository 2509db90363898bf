#include "normalise/html_text.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <mutex>
#include <optional>

#include "normalise/entities.hpp"
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
  static constexpr std::array<char16_t, 32> kCp1252 = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0xFFFD;
  if (cp >= 0x80 && cp <= 0x9F) return kCp1252[cp - 0x80];
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

class TextBuilder {
 public:
  void text(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        pending_space_ = true;
      } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        pending_space_ = true;
        ++i;
      } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                 static_cast<unsigned char>(s[i + 1]) < 0xA0) {
        flush();  // U+0080-U+009F: the second byte is the code point
        append_utf8(out_, fix_code_point(static_cast<unsigned char>(s[i + 1])));
        ++i;
      } else {
        flush();
        out_.push_back(static_cast<char>(c));
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

void escape_into(std::string& out, std::string_view s, bool attribute) {
  for (char c : s) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        if (attribute) {
          out.append("&quot;");
        } else {
          out.push_back(c);
        }
        break;
      default:
        out.push_back(c);
    }
  }
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

void append_utf8(std::string& out, char32_t cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
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
  for (std::size_t k = 1; k < n && k < u.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(u[k]) & 0x3Fu);
  return cp;
}

std::string html_to_text(std::string_view html) {
  TextBuilder builder;
  if (html.find_first_of("<&") == std::string_view::npos) {
    builder.text(html);  // the common case for titles: no markup, no parser
    return builder.finish();
  }
  DocPtr doc = parse_fragment(html);
  if (!doc) return collapse_whitespace(html);
  int pre_depth = 0;
  walk(
      reinterpret_cast<xmlNode*>(doc.get()),
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

std::string sanitize_html(std::string_view html, std::string_view base_url) {
  if (html.find_first_of("<&>") == std::string_view::npos) return trim_ascii(std::string(html));
  DocPtr doc = parse_fragment(html);
  if (!doc) return std::string();
  std::string out;
  walk(
      reinterpret_cast<xmlNode*>(doc.get()),
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
        const char c = text[p];
        int digit = -1;
        if (c >= '0' && c <= '9') {
          digit = c - '0';
        } else if (hex && c >= 'a' && c <= 'f') {
          digit = c - 'a' + 10;
        } else if (hex && c >= 'A' && c <= 'F') {
          digit = c - 'A' + 10;
        }
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
    if (i + 1 < html.size() && (is_alnum(html[i + 1]) || html[i + 1] == '/' || html[i + 1] == '!')) return false;
  }
  static constexpr std::array<std::string_view, 12> kMarkers = {
      "&lt;/p&gt;", "&lt;p&gt;", "&lt;br", "&lt;/a&gt;", "&lt;a href", "&lt;/div&gt;",
      "&lt;img ", "&lt;/li&gt;", "&lt;/strong&gt;", "&lt;/em&gt;", "&lt;/b&gt;", "&lt;/blockquote&gt;"};
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
    } else if (c == 0xE1 && byte(i + 1) == 0x9A && byte(i + 2) == 0x80) {
      space_len = 3;  // U+1680
    } else if (c == 0xE2 && byte(i + 1) == 0x80 &&
               ((byte(i + 2) >= 0x80 && byte(i + 2) <= 0x8A) || byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9 ||
                byte(i + 2) == 0xAF)) {
      space_len = 3;  // U+2000-U+200A, U+2028, U+2029, U+202F
    } else if ((c == 0xE2 && byte(i + 1) == 0x81 && byte(i + 2) == 0x9F) ||
               (c == 0xE3 && byte(i + 1) == 0x80 && byte(i + 2) == 0x80)) {
      space_len = 3;  // U+205F, U+3000
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
