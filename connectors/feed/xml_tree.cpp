#include "feed/xml_tree.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <new>
#include <pugixml.hpp>

#include "normalise/html_text.hpp"
#include "postwire/schema/utf8.hpp"

namespace postwire::feed {

struct XmlTree::Owned {
  std::string buffer;              // pugixml: the document, parsed in place; the tree's views point here
  std::deque<std::string> joined;  // pugixml: CDATA sections libxml2 reads as one node
  xmlDoc* libxml = nullptr;        // libxml2: the document the tree's views point into

  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (libxml != nullptr) xmlFreeDoc(libxml);
  }
};

XmlTree::XmlTree() : owned_(std::make_unique<Owned>()) {}
XmlTree::XmlTree(XmlTree&&) noexcept = default;
XmlTree& XmlTree::operator=(XmlTree&&) noexcept = default;
XmlTree::~XmlTree() = default;

XmlNode* XmlTree::make(XmlKind kind) {
  // Blocks, not one vector: nodes point at each other, so they never move. Each
  // block doubles the last, so a tree wastes at most as many nodes as it uses, and
  // a node is constructed only when it is made (XmlNode is trivially destructible).
  if (blocks_.empty() || used_in_block_ == block_capacity_) {
    block_capacity_ = blocks_.empty() ? 32 : std::min<std::size_t>(block_capacity_ * 2, 8192);
    blocks_.emplace_back(static_cast<XmlNode*>(::operator new(block_capacity_ * sizeof(XmlNode))));
    used_in_block_ = 0;
  }
  auto* node = new (blocks_.back().get() + used_in_block_++) XmlNode;
  node->kind = kind;
  return node;
}

namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kXmlnsNamespace = "http://www.w3.org/2000/xmlns/";
// libxml2 stops at 256 levels without XML_PARSE_HUGE; deeper documents are its to refuse.
constexpr int kMaxDepth = 250;
// Elements with more attributes go to libxml2 (the duplicate checks here are quadratic).
constexpr std::size_t kMaxAttributes = 64;
constexpr std::size_t kMaxNameBytes = 1000;

// Appends `child` after `last` under `parent`.
void link(XmlNode* parent, XmlNode*& last, XmlNode* child, bool attribute = false) {
  child->parent = parent;
  if (last == nullptr) {
    (attribute ? parent->attributes : parent->children) = child;
  } else {
    last->next = child;
  }
  last = child;
}

// ASCII name characters: 1 may start a name, 2 may follow.
constexpr std::array<std::uint8_t, 256> kNameChars = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool start = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool more = start || (c >= '0' && c <= '9') || c == '-' || c == '.';
    t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>((start ? 1 : 0) | (more ? 2 : 0));
  }
  return t;
}();

bool is_name_char(char c) { return (kNameChars[static_cast<unsigned char>(c)] & 2) != 0; }

// An ASCII NCName: what libxml2 reads as a name part without any complaint.
bool is_ncname(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes || (kNameChars[static_cast<unsigned char>(s[0])] & 1) == 0)
    return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (!is_name_char(s[i])) return false;
  }
  return true;
}

struct QName {
  std::string_view prefix;
  std::string_view local;
};

// "local" or "prefix:local" with ASCII NCNames; nullopt for anything else.
std::optional<QName> split_qname(std::string_view name) {
  const std::size_t colon = name.find(':');
  if (colon == std::string_view::npos) {
    if (!is_ncname(name)) return std::nullopt;
    return QName{{}, name};
  }
  QName q{name.substr(0, colon), name.substr(colon + 1)};
  if (!is_ncname(q.prefix) || !is_ncname(q.local)) return std::nullopt;
  return q;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Whether every byte of the document (valid UTF-8 already) is part of an XML
// character: no C0 control but tab, line feed and CR, no NUL, no U+FFFE or U+FFFF
// (EF BF BE, EF BF BF). libxml2 refuses a document with any other, wherever it is.
bool xml_characters_only(std::string_view d) {
  using Bytes = unsigned char __attribute__((vector_size(16)));
  const char* p = d.data();
  const char* const end = p + d.size();
  const auto byte_ok = [&](const char* q) {
    const auto b = static_cast<unsigned char>(*q);
    if (b < 0x20) return b == '\t' || b == '\n' || b == '\r';
    if (b != 0xEF) return true;
    return !(end - q >= 3 && static_cast<unsigned char>(q[1]) == 0xBF &&
             (static_cast<unsigned char>(q[2]) & 0xFE) == 0xBE);
  };
  // Sixteen bytes at a time: a block with no control but line feed, tab or CR and
  // no 0xEF is fine as it is.
  while (end - p >= 16) {
    Bytes v;
    std::memcpy(&v, p, 16);
    const Bytes suspect = ((v < 0x20) & (v != '\n') & (v != '\t') & (v != '\r')) | (v == 0xEF);
    std::uint64_t halves[2];
    std::memcpy(halves, &suspect, 16);
    if ((halves[0] | halves[1]) != 0) {
      for (int i = 0; i < 16; ++i) {
        if (!byte_ok(p + i)) return false;
      }
    }
    p += 16;
  }
  for (; p < end; ++p) {
    if (!byte_ok(p)) return false;
  }
  return true;
}

// What kind of character data a value is, for character_data.
enum class Run { text, attribute, verbatim };

bool is_xml_char(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

// Decodes XML's references in place (the result is never longer): the five
// predefined entities and character references to XML characters. False for
// anything else (an HTML entity, a '&' that starts no reference), which only
// libxml2 may read.
bool decode_references(char* s, std::size_t& n) {
  char* out = static_cast<char*>(std::memchr(s, '&', n));
  if (out == nullptr) return true;
  const char* in = out;
  const char* const end = s + n;
  while (in < end) {
    if (*in != '&') {
      *out++ = *in++;
      continue;
    }
    const char* const semi =
        static_cast<const char*>(std::memchr(in, ';', std::min<std::size_t>(end - in, 12)));
    if (semi == nullptr) return false;
    const std::string_view name(in + 1, static_cast<std::size_t>(semi - in - 1));
    in = semi + 1;
    if (name == "amp") {
      *out++ = '&';
    } else if (name == "lt") {
      *out++ = '<';
    } else if (name == "gt") {
      *out++ = '>';
    } else if (name == "quot") {
      *out++ = '"';
    } else if (name == "apos") {
      *out++ = '\'';
    } else if (name.size() >= 2 && name[0] == '#') {
      // Only "&#x" is hexadecimal: libxml2 refuses "&#X".
      const bool hex = name[1] == 'x';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      if (digits.empty() || digits.size() > 8) return false;
      char32_t cp = 0;
      for (const char c : digits) {
        const int d = normalise::reference_digit(c, hex);
        if (d < 0) return false;
        cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(d);
      }
      if (!is_xml_char(cp)) return false;
      // Never longer than the reference it replaces (at least four bytes).
      out += encode_utf8(cp, out);
    } else {
      return false;
    }
  }
  n = static_cast<std::size_t>(out - s);
  return true;
}

// `<?xml version="1.0" ...?>` exactly as libxml2 takes it without a word: version
// 1.0, then optionally an encoding name and standalone yes/no. Returns the length
// of the declaration, 0 when the document has none, nullopt when it has one that
// is anything else (libxml2 decides).
std::optional<std::size_t> xml_declaration(std::string_view d) {
  if (!d.starts_with("<?xml") || d.size() < 6 || !is_ws(d[5])) return std::size_t{0};
  std::size_t i = 5;
  const auto skip_ws = [&] {
    const std::size_t start = i;
    while (i < d.size() && is_ws(d[i])) ++i;
    return i > start;
  };
  // S name Eq quoted-value; the value's view in `value`.
  const auto pseudo_attribute = [&](std::string_view name, std::string_view& value) {
    const std::size_t at = i;
    if (!skip_ws() || d.substr(i, name.size()) != name) {
      i = at;
      return false;
    }
    i += name.size();
    skip_ws();
    if (i >= d.size() || d[i] != '=') return false;
    ++i;
    skip_ws();
    if (i >= d.size() || (d[i] != '"' && d[i] != '\'')) return false;
    const char quote = d[i++];
    const std::size_t close = d.find(quote, i);
    if (close == std::string_view::npos || close - i > 64) return false;
    value = d.substr(i, close - i);
    i = close + 1;
    return true;
  };
  std::string_view version;
  if (!pseudo_attribute("version", version) || version != "1.0") return std::nullopt;
  std::string_view encoding;
  if (pseudo_attribute("encoding", encoding)) {
    // EncName: [A-Za-z] ([A-Za-z0-9._] | '-')*
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (encoding.empty() || !letter(encoding.front())) return std::nullopt;
    for (const char c : encoding) {
      if (!letter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-') return std::nullopt;
    }
  }
  std::string_view standalone;
  if (pseudo_attribute("standalone", standalone) && standalone != "yes" && standalone != "no")
    return std::nullopt;
  skip_ws();
  if (d.substr(i, 2) != "?>") return std::nullopt;
  return i + 2;
}

// libxml2's line of the start tag at `lt`: it numbers an element by the line its
// start tag ends on (the parser's position when the element is created), counting
// line feeds only (a lone CR ends no line for it).
int line_of_start_tag(std::string_view d, std::size_t lt) {
  std::size_t end = lt;
  char quote = 0;
  while (end < d.size()) {
    const char c = d[end];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      break;
    }
    ++end;
  }
  return 1 + static_cast<int>(std::count(
                 d.begin(), d.begin() + static_cast<std::ptrdiff_t>(std::min(end, d.size())), '\n'));
}

}  // namespace

// What surrounds the root element (its start tag at `lt`, named `root`) is what
// libxml2 accepts there: before it, the declaration, white space, comments and
// processing instructions; after it, white space only (pugixml passes over some
// trailing text without a word, so the bytes themselves are checked; a comment
// after the root is rare enough to leave to libxml2).
bool prolog_and_epilog_ok(std::string_view d, std::size_t declaration, std::size_t lt,
                          std::string_view root) {
  std::size_t i = declaration;
  while (i < lt) {
    if (is_ws(d[i])) {
      ++i;
    } else if (d.substr(i, 4) == "<!--") {
      const std::size_t end = d.find("-->", i + 4);
      if (end == std::string_view::npos) return false;
      i = end + 3;
    } else if (d.substr(i, 2) == "<?") {
      const std::size_t end = d.find("?>", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 2;
    } else {
      return false;
    }
  }
  if (i != lt) return false;
  std::size_t end = d.size();
  while (end > lt && is_ws(d[end - 1])) --end;
  const std::string_view body = d.substr(0, end);
  if (!body.ends_with('>')) return false;
  const std::size_t last = body.rfind('<');
  if (last == lt) return body.ends_with("/>");  // <root .../>, the whole element
  std::string_view tag = body.substr(last);     // must be </root S? >
  if (!tag.starts_with("</") || tag.substr(2, root.size()) != root) return false;
  tag.remove_prefix(2 + root.size());
  tag.remove_suffix(1);
  for (const char c : tag) {
    if (!is_ws(c)) return false;
  }
  return true;
}

// Builds the tree from pugixml's DOM of a document parsed in place, checking on the
// way every rule libxml2 enforces that pugixml does not (names, namespaces,
// references, characters, comments, the prolog); any doubt ends the build.
class FastTreeBuilder {
 public:
  explicit FastTreeBuilder(XmlTree& tree) : tree_(tree) {}

  bool document(const pugi::xml_document& doc, std::string_view original, std::size_t declaration) {
    const XmlNode* root = nullptr;
    for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
      switch (n.type()) {
        case pugi::node_declaration:
          // Only the one checked by xml_declaration, at the very start.
          if (declaration == 0 || n != doc.first_child()) return false;
          break;
        case pugi::node_element: {
          if (root != nullptr) return false;  // libxml2: "Extra content at the end of the document"
          const std::ptrdiff_t name_at = n.offset_debug();
          if (name_at <= 0) return false;
          const auto lt = static_cast<std::size_t>(name_at) - 1;
          if (!prolog_and_epilog_ok(original, declaration, lt, n.name())) return false;
          root = element(n, nullptr, 0);
          if (root == nullptr) return false;
          tree_.root_line_ = line_of_start_tag(original, lt);
          break;
        }
        case pugi::node_pcdata: {
          const std::string_view text = n.value();
          if (!std::all_of(text.begin(), text.end(), is_ws)) return false;
          break;
        }
        case pugi::node_comment:
        case pugi::node_pi:
          if (!other(n)) return false;
          break;
        default:
          return false;  // DOCTYPE, or CDATA outside the root
      }
    }
    tree_.root_ = root;
    return root != nullptr;
  }

 private:
  struct Binding {
    std::string_view prefix;  // empty: the default namespace
    std::string_view uri;
  };

  // Comments and processing instructions: checked, not kept.
  bool other(const pugi::xml_node& n) {
    const std::string_view value = n.value();
    if (n.type() == pugi::node_comment) {
      return value.find("--") == std::string_view::npos && !value.ends_with('-');
    }
    const std::string_view target = n.name();
    if (target.find(':') != std::string_view::npos || !is_ncname(target)) return false;
    const bool xml = target.size() == 3 && (target[0] | 0x20) == 'x' && (target[1] | 0x20) == 'm' &&
                     (target[2] | 0x20) == 'l';
    return !xml;
  }

  std::optional<std::string_view> lookup(std::string_view prefix) const {
    const auto it = std::find_if(bindings_.rbegin(), bindings_.rend(),
                                 [prefix](const Binding& b) { return b.prefix == prefix; });
    if (it != bindings_.rend()) return it->uri;
    if (prefix.empty()) return std::string_view();
    return std::nullopt;
  }

  // A namespace name libxml2 takes without an error: it reports one for what
  // xmlParseURI cannot parse (relative references only get a warning).
  bool acceptable_uri(std::string_view uri) {
    if (std::find(checked_uris_.begin(), checked_uris_.end(), uri) != checked_uris_.end()) return true;
    if (uri == kXmlNamespace || uri == kXmlnsNamespace) return false;
    const std::string copy(uri);
    xmlURIPtr parsed = xmlParseURI(copy.c_str());
    if (parsed == nullptr) return false;
    xmlFreeURI(parsed);
    checked_uris_.push_back(uri);
    return true;
  }

  // Character data (text, CDATA or an attribute value) as libxml2 reads it, decoded
  // in place: pugixml parsed our own buffer, so its values are ours to rewrite. The
  // characters themselves were checked for the whole document (xml_characters_only).
  static std::optional<std::string_view> character_data(const char* value, Run run) {
    char* s = const_cast<char*>(value);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    std::size_t n = std::strlen(s);
    if (run == Run::verbatim || n == 0) return std::string_view(s, n);
    if (run == Run::attribute && std::string_view(s, n).find('<') != std::string_view::npos)
      return std::nullopt;
    // "]]>" is not allowed in text.
    if (run == Run::text && std::string_view(s, n).find("]]>") != std::string_view::npos) return std::nullopt;
    if (!decode_references(s, n)) return std::nullopt;
    return std::string_view(s, n);
  }

  // The element (not yet linked into `parent`), or nullptr when libxml2 decides.
  XmlNode* element(const pugi::xml_node& n, XmlNode* parent, int depth) {
    if (depth > kMaxDepth) return nullptr;
    const std::optional<QName> qname = split_qname(n.name());
    if (!qname || qname->prefix == "xml" || qname->prefix == "xmlns") return nullptr;
    const std::size_t scope = bindings_.size();

    // Attributes: namespace declarations first, since they apply to the element
    // itself. This element's are raw_[first, end).
    const std::size_t first = raw_.size();
    for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
      if (raw_.size() - first == kMaxAttributes) return nullptr;
      const std::string_view qualified = a.name();
      const std::optional<QName> an = split_qname(qualified);
      if (!an) return nullptr;
      for (std::size_t k = first; k < raw_.size(); ++k) {
        if (raw_[k].qualified == qualified) return nullptr;  // "Attribute x redefined"
      }
      const bool declaration = (an->prefix.empty() && an->local == "xmlns") || an->prefix == "xmlns";
      // libxml2 keeps a reference in a namespace name as "&#38;": not worth copying.
      if (declaration && std::strchr(a.value(), '&') != nullptr) return nullptr;
      const std::optional<std::string_view> value = character_data(a.value(), Run::attribute);
      if (!value) return nullptr;
      raw_.push_back(Raw{*an, qualified, *value, declaration});
      if (an->prefix.empty() && an->local == "xmlns") {
        if (!value->empty() && !acceptable_uri(*value)) return nullptr;
        bindings_.push_back({{}, *value});
      } else if (an->prefix == "xmlns") {
        if (value->empty() || an->local == "xml" || an->local == "xmlns" || !acceptable_uri(*value))
          return nullptr;
        bindings_.push_back({an->local, *value});
      }
    }

    XmlNode* e = tree_.make(XmlKind::element);
    e->parent = parent;
    e->name = qname->local;
    const std::optional<std::string_view> ns = lookup(qname->prefix);
    if (!ns) return nullptr;  // an undeclared prefix: libxml2 warns and keeps "p:local"
    e->ns = *ns;

    XmlNode* last_attribute = nullptr;
    const std::size_t end = raw_.size();
    for (std::size_t k = first; k < end; ++k) {
      const Raw& r = raw_[k];
      if (r.declaration) continue;
      std::string_view attribute_ns;
      if (r.name.prefix == "xml") {
        attribute_ns = kXmlNamespace;
      } else if (!r.name.prefix.empty()) {
        const std::optional<std::string_view> bound = lookup(r.name.prefix);
        if (!bound || bound->empty()) return nullptr;
        attribute_ns = *bound;
      }
      if (!attribute_ns.empty()) {
        // "Namespaced Attribute x in 'u' redefined": another prefix for the same URI.
        for (const XmlNode* b = e->attributes; b != nullptr; b = b->next) {
          if (b->name == r.name.local && b->ns == attribute_ns) return nullptr;
        }
      }
      XmlNode* a = tree_.make(XmlKind::attribute);
      a->name = r.name.local;
      a->ns = attribute_ns;
      link(e, last_attribute, a, true);
      // libxml2 gives every attribute one text child, empty for an empty value.
      XmlNode* value = tree_.make(XmlKind::text);
      value->value = r.value;
      XmlNode* none = nullptr;
      link(a, none, value);
    }

    XmlNode* last = nullptr;
    bool after_cdata = false;  // the previous pugixml node was CDATA: libxml2 joins the two
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      const pugi::xml_node_type type = c.type();
      const bool cdata = type == pugi::node_cdata;
      switch (type) {
        case pugi::node_element: {
          XmlNode* child = element(c, e, depth + 1);
          if (child == nullptr) return nullptr;
          link(e, last, child);
          break;
        }
        case pugi::node_pcdata:
        case pugi::node_cdata: {
          const std::optional<std::string_view> value =
              character_data(c.value(), cdata ? Run::verbatim : Run::text);
          if (!value) return nullptr;
          if (cdata && after_cdata && last != nullptr && last->kind == XmlKind::cdata) {
            std::string& joined = tree_.owned_->joined.emplace_back(last->value);
            joined.append(*value);
            last->value = joined;
            break;
          }
          XmlNode* t = tree_.make(cdata ? XmlKind::cdata : XmlKind::text);
          t->value = *value;
          link(e, last, t);
          break;
        }
        case pugi::node_comment:
        case pugi::node_pi:
          if (!other(c)) return nullptr;
          break;
        default:
          return nullptr;
      }
      after_cdata = cdata;
    }
    bindings_.resize(scope);
    raw_.resize(first);
    return e;
  }

  struct Raw {
    QName name;
    std::string_view qualified;
    std::string_view value;
    bool declaration = false;  // xmlns or xmlns:prefix
  };

  XmlTree& tree_;
  std::vector<Binding> bindings_;
  std::vector<Raw> raw_;  // the attributes of the elements being built, innermost last
  std::vector<std::string_view> checked_uris_;
};

std::optional<XmlTree> XmlTree::parse_well_formed(std::string_view document) {
  if (document.size() > kFastPathMaxBytes) return std::nullopt;
  // NUL among them: pugixml would take it for the end of the document.
  if (!xml_characters_only(document)) return std::nullopt;
  const std::optional<std::size_t> declaration = xml_declaration(document);
  if (!declaration) return std::nullopt;
  XmlTree tree;
  tree.owned_->buffer.assign(document);
  std::string& buffer = tree.owned_->buffer;
  pugi::xml_document doc;
  // No parse_escapes: references are decoded (and vetted) by the builder, so that an
  // entity pugixml would leave as text goes to libxml2 instead.
  constexpr unsigned kOptions = pugi::parse_cdata | pugi::parse_comments | pugi::parse_pi |
                                pugi::parse_declaration | pugi::parse_doctype | pugi::parse_ws_pcdata |
                                pugi::parse_eol | pugi::parse_wconv_attribute | pugi::parse_fragment;
  const pugi::xml_parse_result result =
      doc.load_buffer_inplace(buffer.data(), buffer.size(), kOptions, pugi::encoding_utf8);
  if (!result) return std::nullopt;
  FastTreeBuilder builder(tree);
  if (!builder.document(doc, document, *declaration)) return std::nullopt;
  return tree;
}

// ---------------------------------------------------------------------------
// libxml2

namespace {

std::string_view sv(const xmlChar* s) {
  return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}

}  // namespace

class LibxmlTreeBuilder {
 public:
  explicit LibxmlTreeBuilder(XmlTree& tree) : tree_(tree) {}

  XmlNode* element(const xmlNode* n, XmlNode* parent) {
    XmlNode* e = tree_.make(XmlKind::element);
    e->parent = parent;
    e->name = sv(n->name);
    e->ns = n->ns == nullptr ? std::string_view() : sv(n->ns->href);
    XmlNode* last_attribute = nullptr;
    for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      XmlNode* attribute = tree_.make(XmlKind::attribute);
      attribute->name = sv(a->name);
      attribute->ns = a->ns == nullptr ? std::string_view() : sv(a->ns->href);
      link(e, last_attribute, attribute, true);
      XmlNode* last_piece = nullptr;
      for (const xmlNode* v = a->children; v != nullptr; v = v->next) {
        if (XmlNode* piece = content(v, attribute)) link(attribute, last_piece, piece);
      }
    }
    XmlNode* last = nullptr;
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (XmlNode* child = content(c, e)) link(e, last, child);
    }
    return e;
  }

 private:
  XmlNode* content(const xmlNode* c, XmlNode* parent) {
    switch (c->type) {
      case XML_ELEMENT_NODE:
        return element(c, parent);
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE: {
        XmlNode* t = tree_.make(c->type == XML_TEXT_NODE ? XmlKind::text : XmlKind::cdata);
        t->value = sv(c->content);
        return t;
      }
      case XML_ENTITY_REF_NODE: {
        XmlNode* r = tree_.make(XmlKind::entity_ref);
        r->name = sv(c->name);
        // For an entity reference node, libxml2 keeps the declaration in `children`.
        const auto* entity = reinterpret_cast<const xmlEntity*>(c->children);
        if (entity != nullptr && entity->type == XML_ENTITY_DECL) {
          const bool internal = entity->etype == XML_INTERNAL_GENERAL_ENTITY && entity->content != nullptr;
          r->entity = internal ? XmlEntity::internal : XmlEntity::other;
          if (internal) r->value = sv(entity->content);
        } else if (entity != nullptr) {
          r->entity = XmlEntity::other;
        }
        return r;
      }
      default:
        return nullptr;  // comments, processing instructions: not read
    }
  }

  XmlTree& tree_;
};

namespace {

// Never XML_PARSE_NOENT (entity substitution is how XXE and billion laughs get in),
// never DTDLOAD/DTDATTR/DTDVALID (they fetch or apply the DTD), never HUGE (it lifts
// the depth and size limits that protect us). NONET also covers XInclude and catalogs.
// The bytes are UTF-8 already (normalise/charset), so the document's own encoding
// declaration is ignored (IGNORE_ENC).
constexpr int kStrictOptions =
    XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_COMPACT | XML_PARSE_IGNORE_ENC;

// The read running on this thread. libxml2 calls the handler synchronously from
// inside xmlCtxtReadMemory, so a thread_local is exact.
thread_local LibxmlRead* t_read = nullptr;

void collect_error(void* /*user_data*/, xmlErrorPtr error) {
  if (t_read == nullptr || error == nullptr || error->level == XML_ERR_WARNING || t_read->errors) return;
  t_read->errors = true;
  // One line: libxml2 splits some messages ("...indicate encoding !\nBytes: ...").
  const std::string message =
      normalise::collapse_whitespace(error->message == nullptr ? "unknown error" : error->message);
  t_read->first_error = message + " (line " + std::to_string(error->line) + ")";
}

}  // namespace

LibxmlRead read_with_libxml2(std::string_view document, LibxmlMode mode) {
  normalise::ensure_libxml2_initialized();
  LibxmlRead read;
  const int options = kStrictOptions | (mode == LibxmlMode::recover ? XML_PARSE_RECOVER : 0);
  std::unique_ptr<xmlParserCtxt, void (*)(xmlParserCtxtPtr)> ctxt(xmlNewParserCtxt(), xmlFreeParserCtxt);
  if (!ctxt || ctxt->sax == nullptr) return read;
  // The structured handler wins over the generic one that prints to stderr.
  ctxt->sax->serror = &collect_error;
  LibxmlRead* const previous = t_read;
  t_read = &read;
  xmlDoc* doc = xmlCtxtReadMemory(ctxt.get(), document.data(), static_cast<int>(document.size()), nullptr,
                                  "UTF-8", options);
  t_read = previous;
  if (doc == nullptr) return read;
  XmlTree tree;
  tree.owned_->libxml = doc;
  if (const xmlNode* root = xmlDocGetRootElement(doc); root != nullptr) {
    LibxmlTreeBuilder builder(tree);
    tree.root_ = builder.element(root, nullptr);
    tree.root_line_ = static_cast<int>(xmlGetLineNo(root));
  }
  read.tree = std::move(tree);
  return read;
}

// ---------------------------------------------------------------------------

namespace {

std::optional<std::string> compare(const XmlNode* a, const XmlNode* b, const std::string& path) {
  for (int index = 0; a != nullptr || b != nullptr; ++index, a = a->next, b = b->next) {
    const std::string here = path + "/" + std::to_string(index);
    if (a == nullptr || b == nullptr) return here + ": a node on one side only";
    if (a->kind != b->kind || a->entity != b->entity) return here + ": kinds differ";
    if (a->name != b->name)
      return here + ": names differ: '" + std::string(a->name) + "' '" + std::string(b->name) + "'";
    if (a->ns != b->ns)
      return here + ": namespaces differ: '" + std::string(a->ns) + "' '" + std::string(b->ns) + "'";
    if (a->value != b->value) {
      return here + ": values differ: '" + std::string(a->value) + "' '" + std::string(b->value) + "'";
    }
    if (auto d = compare(a->attributes, b->attributes, here + "@")) return d;
    if (auto d = compare(a->children, b->children, here)) return d;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> first_difference(const XmlTree& a, const XmlTree& b) {
  if (a.root_line() != b.root_line()) {
    return "root lines differ: " + std::to_string(a.root_line()) + " " + std::to_string(b.root_line());
  }
  return compare(a.root(), b.root(), "");
}

}  // namespace postwire::feed
