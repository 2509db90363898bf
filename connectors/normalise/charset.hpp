// Finding a document's character encoding and turning it into UTF-8, the way
// browsers and feed parsers do (WHATWG Encoding, RFC 7303), with recovery for the
// classic mislabels.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postwire::normalise {

// Quality flag: the declared charset did not fit the bytes; they were read as the
// charset that did (UTF-8 labelled ISO-8859-1, Windows-1252 labelled UTF-8, ...).
inline constexpr std::string_view kCharsetMislabeled = "charset_mislabeled";

struct DecodedDocument {
  // UTF-8; invalid input sequences replaced with U+FFFD. Empty when `unchanged`:
  // the input already was valid UTF-8 and is used as it is (see utf8()).
  std::string text;
  bool unchanged = false;
  std::size_t skip = 0;  // with `unchanged`: bytes of BOM to skip in the input
  // The document as UTF-8: `text`, or the input bytes themselves when unchanged.
  std::string_view utf8(std::string_view input) const {
    return unchanged ? input.substr(skip) : std::string_view(text);
  }
  std::string charset;      // the encoding used to read the bytes, e.g. "utf-8", "windows-1252"
  std::string from;         // where it came from: bom, http, declaration, meta, sniffed, default
  bool mislabeled = false;  // the declared charset did not fit and another one was used
  bool replaced = false;    // some bytes were invalid and became U+FFFD
};

// Picks the charset in this order: byte order mark; the HTTP Content-Type charset;
// the XML declaration's encoding (or, for an HTML document, <meta charset> /
// <meta http-equiv=Content-Type>); UTF-16 without BOM recognised by its zero
// bytes; else UTF-8. Labels are read as WHATWG does: ISO-8859-1, US-ASCII and
// Latin-1 mean Windows-1252. A document labelled UTF-8 that is not UTF-8 and has no
// multi-byte UTF-8 sequence at all is read as Windows-1252; one labelled with a
// single-byte charset whose non-ASCII bytes are all well-formed UTF-8 is read as
// UTF-8; both set `mislabeled`. An unknown label is treated as no label.
DecodedDocument decode_document(std::string_view bytes, std::optional<std::string_view> content_type);

// The charset parameter of a Content-Type header value, unquoted; nullopt if none.
std::optional<std::string> charset_from_content_type(std::string_view content_type);

// The canonical name of a charset label ("latin1" -> "windows-1252", "UTF8" ->
// "utf-8"); other labels come back lower-cased.
std::string canonical_charset(std::string_view label);

}  // namespace postwire::normalise
