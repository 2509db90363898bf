// The read-only XML tree the feed reader walks (feed_parser.cpp, XmlReader).
//
// Two parsers can build one. pugixml builds it for the common case: a well-formed
// document with no DTD, whose every construct is one whose libxml2 reading is
// certain (XmlTree::parse_well_formed). libxml2 builds it for everything else:
// DTDs and their entities, namespace errors it reports as warnings, and the
// recovery of broken documents (read_with_libxml2). For any document the first
// accepts, both give the same tree, node for node and byte for byte (the tests
// parse every fixture both ways, and the fuzz target checks it on every input), so
// which parser read a document never shows in an event or a source fingerprint.
// pugixml is about ten times faster than libxml2's DOM on feed XML
// (docs/dependencies.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postwire::feed {

enum class XmlKind : std::uint8_t { element, attribute, text, cdata, entity_ref };

// What libxml2 knew of the entity an entity reference names (only the libxml2
// builder makes references: a document with a DTD or an undeclared entity never
// takes the pugixml path).
enum class XmlEntity : std::uint8_t {
  undeclared,  // no declaration (the unread DTD of RSS 0.91 usually meant HTML's)
  internal,    // an internal general entity: `value` is its replacement text
  other,       // declared otherwise (external, parameter): never read
};

// Libxml2's reading of a document, reduced to what the feed reader looks at:
// elements with their local name and namespace URI, attributes, text, CDATA and
// entity references. Comments and processing instructions are not kept, but they
// still split the text around them into two nodes, as in libxml2.
struct XmlNode {
  XmlKind kind = XmlKind::element;
  XmlEntity entity = XmlEntity::undeclared;  // entity_ref only
  const XmlNode* parent = nullptr;           // element or attribute that holds this node
  const XmlNode* next = nullptr;             // next sibling; for an attribute, the next attribute
  const XmlNode* children = nullptr;         // element: content; attribute: its value (text, entity_ref)
  const XmlNode* attributes = nullptr;       // element only, in document order; no xmlns declarations
  // element, attribute: local name ("p:local" when libxml2 could not resolve the
  // prefix); entity_ref: the entity's name.
  std::string_view name;
  std::string_view ns;     // element, attribute: namespace URI; empty for none
  std::string_view value;  // text, cdata: content; entity_ref: replacement text (internal entities)
};

enum class LibxmlMode;
struct LibxmlRead;

class XmlTree {
 public:
  // The tree pugixml reads from `document` (UTF-8, no leading white space), or
  // nullopt when the document is not certain to be read by libxml2 exactly as
  // pugixml would: not well-formed, a DOCTYPE, an entity other than XML's five, a
  // namespace libxml2 would complain about, names outside ASCII, an XML 1.1
  // declaration, more than kFastPathMaxBytes, nesting deeper than libxml2 allows,
  // and the like. Nullopt is not an error: libxml2 then decides.
  static std::optional<XmlTree> parse_well_formed(std::string_view document);

  XmlTree(XmlTree&&) noexcept;
  XmlTree& operator=(XmlTree&&) noexcept;
  XmlTree(const XmlTree&) = delete;
  XmlTree& operator=(const XmlTree&) = delete;
  ~XmlTree();

  const XmlNode* root() const { return root_; }
  // Line of the root element's start tag, counted as libxml2 counts (1-based).
  int root_line() const { return root_line_; }

  // Documents above this size always go to libxml2, whose limits on text nodes
  // (10,000,000 bytes without XML_PARSE_HUGE) then apply as they always did.
  static constexpr std::size_t kFastPathMaxBytes = std::size_t{9} * 1000 * 1000;

 private:
  XmlTree();
  XmlNode* make(XmlKind kind);

  struct Owned;  // the parser's memory the views point into
  std::unique_ptr<Owned> owned_;
  struct BlockDeleter {
    void operator()(XmlNode* block) const noexcept { ::operator delete(block); }
  };
  std::vector<std::unique_ptr<XmlNode, BlockDeleter>> blocks_;
  std::size_t used_in_block_ = 0;
  std::size_t block_capacity_ = 0;
  const XmlNode* root_ = nullptr;
  int root_line_ = 0;

  friend class FastTreeBuilder;
  friend class LibxmlTreeBuilder;
  friend LibxmlRead read_with_libxml2(std::string_view document, LibxmlMode mode);
};

enum class LibxmlMode {
  strict,   // a document with a fatal error gives no tree
  recover,  // XML_PARSE_RECOVER: libxml2 repairs what it can
};

struct LibxmlRead {
  std::optional<XmlTree> tree;  // nullopt: libxml2 built no document
  bool errors = false;          // libxml2 reported errors (warnings do not count)
  std::string first_error;      // the first of them: "message (line N)"
};

// libxml2's reading of `document` (UTF-8; any encoding declaration is ignored),
// with network access, DTD loading and entity substitution off.
LibxmlRead read_with_libxml2(std::string_view document, LibxmlMode mode);

// Every node of both trees equal (kind, entity, name, namespace, value, structure):
// for the tests and the fuzz target. Returns the first difference, or nullopt.
std::optional<std::string> first_difference(const XmlTree& a, const XmlTree& b);

}  // namespace postwire::feed
