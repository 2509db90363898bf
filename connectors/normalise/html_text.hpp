// Turning the HTML found in feeds into plain text and into HTML that is safe to
// hand to consumers. Input is untrusted and often broken; libxml2's HTML parser
// (which recovers the way browsers roughly do) builds the tree, the rest is ours.
#pragma once

#include <string>
#include <string_view>

#include "postwire/schema/utf8.hpp"

namespace postwire::normalise {

// Plain text of an HTML fragment or document. Tags are removed; script, style and
// other non-content elements are dropped with their content, as are comments.
// Block elements (p, div, li, h1-h6, blockquote, tr, pre, lists, tables, section,
// article, ...) are separated by a blank line ("\n\n"), <br> is a line break ("\n"),
// and never more than one blank line in a row. Inside text, runs of white space
// (including newlines and U+00A0) become one space, except inside <pre>, whose text
// is kept as written. Character references are decoded, numeric references to C1
// controls read as Windows-1252 like browsers do. The result is trimmed.
std::string html_to_text(std::string_view html);

// An HTML fragment with only an allow-list of elements and attributes left:
// p br a b strong i em u s blockquote q code pre ul ol li h1-h6 img figure figcaption
// table thead tbody tr td th span div hr sub sup abbr cite dl dt dd, with a@href/title,
// img@src/alt/title/width/height, td/th@colspan/rowspan, abbr@title. Other elements
// are unwrapped (their content kept) except script, style, iframe, object, embed,
// form, meta, link, noscript, template (and head, title, svg, math, audio, video,
// canvas), which go with their content. href/src with javascript:, vbscript: or data:
// URLs are dropped; relative ones are resolved against `base_url` (kept as written
// when `base_url` is empty, dropped when they cannot be resolved).
std::string sanitize_html(std::string_view html, std::string_view base_url);

// html_to_text(html) and sanitize_html(html, base_url) together, from one parse of
// `html` (the same results as the two calls, at the cost of one).
struct TextAndHtml {
  std::string text;
  std::string html;
};
TextAndHtml html_to_text_and_sanitized(std::string_view html, std::string_view base_url);

// For tests: the hand-written fast path alone (false when the markup is outside
// its subset and libxml2 would be used) and the libxml2 path alone. Whenever the
// fast path answers, both must give the same text and HTML.
namespace detail {
bool html_fast_path(std::string_view html, std::string_view base_url, TextAndHtml& out);
TextAndHtml html_libxml2_path(std::string_view html, std::string_view base_url);
}  // namespace detail

// Decodes HTML character references (named, decimal, hex) in plain text such as a
// title that was escaped twice. Named references need their ';'; unknown ones and
// bare '&' are kept as they are.
std::string decode_entities(std::string_view text);

// Content escaped twice ("&lt;p&gt;Hello&lt;/p&gt;" where "<p>Hello</p>" was meant):
// true when `html` has no markup of its own but escaped tags of common HTML
// elements (p, br, a, div, img, li, strong, em, b, blockquote).
bool looks_double_escaped(std::string_view html);

// `html` with one level of character references decoded when looks_double_escaped,
// else unchanged.
std::string undo_double_escape(std::string_view html);

// Trims and collapses every run of white space (ASCII and Unicode spaces, U+00A0
// included) to one ASCII space: the form titles and names are kept in.
std::string collapse_whitespace(std::string_view text);

// The code point of an HTML named character reference ("eacute" -> U+00E9), 0 if
// unknown. Shared with the feed parser, which repairs undeclared entities in XML.
char32_t html_entity_code_point(std::string_view name);

// The value of `c` as a digit of a numeric character reference (decimal, or
// hexadecimal in either case when `hex`), -1 when it is not one. Shared with the
// feed parser's XML fast path.
inline int reference_digit(char c, bool hex) {
  if (c >= '0' && c <= '9') return c - '0';
  if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the UTF-8 encoding of `cp` (U+FFFD for surrogates and values past
// U+10FFFF): schema/utf8.hpp, next to the decoder.
using postwire::append_utf8;

// libxml2 must be initialised once before threads use it concurrently; every
// function here and the feed parser call this, and so may anyone else.
void ensure_libxml2_initialized();

}  // namespace postwire::normalise
