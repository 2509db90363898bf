#include "normalise/charset.hpp"

#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "normalise/html_text.hpp"
#include "normalise/text_clean.hpp"

namespace postwire::normalise {
namespace {

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// The value of `name="..."` (or '...' or unquoted) inside `text`, case-insensitive name.
std::optional<std::string> pseudo_attribute(std::string_view text, std::string_view name) {
  const std::string lowered = lower(text);
  std::size_t at = 0;
  while ((at = lowered.find(name, at)) != std::string::npos) {
    std::size_t p = at + name.size();
    at = p;
    while (p < text.size() && is_space(text[p])) ++p;
    if (p >= text.size() || text[p] != '=') continue;
    ++p;
    while (p < text.size() && is_space(text[p])) ++p;
    if (p >= text.size()) return std::nullopt;
    std::size_t end = 0;
    if (text[p] == '"' || text[p] == '\'') {
      end = text.find(text[p], p + 1);
      if (end == std::string_view::npos) return std::nullopt;
      ++p;
    } else {
      end = p;
      while (end < text.size() && !is_space(text[end]) && text[end] != ';' && text[end] != '>' &&
             text[end] != '"' && text[end] != '\'' && text[end] != '/') {
        ++end;
      }
    }
    std::string value(text.substr(p, end - p));
    if (value.empty() || value.size() > 40) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

// XML declaration encoding, or for HTML a <meta> charset in the first KiB.
std::optional<std::string> declared_charset(std::string_view bytes, std::string& from) {
  std::string_view head = bytes.substr(0, 1024);
  std::size_t start = 0;
  while (start < head.size() && is_space(head[start])) ++start;
  head.remove_prefix(start);
  if (head.starts_with("<?xml")) {
    const std::size_t end = head.find("?>");
    if (end != std::string_view::npos) {
      from = "declaration";
      return pseudo_attribute(head.substr(5, end - 5), "encoding");
    }
    return std::nullopt;
  }
  const std::string lowered = lower(head);
  std::size_t at = 0;
  while ((at = lowered.find("<meta", at)) != std::string::npos) {
    const std::size_t end = lowered.find('>', at);
    if (end == std::string::npos) break;
    const std::string_view tag = head.substr(at, end - at);
    if (std::optional<std::string> cs = pseudo_attribute(tag, "charset")) {
      from = "meta";
      return cs;
    }
    at = end;
  }
  return std::nullopt;
}

// WHATWG-style single-byte labels that all mean Windows-1252.
bool is_1252_label(std::string_view l) {
  return l == "iso-8859-1" || l == "iso8859-1" || l == "iso_8859-1" || l == "latin1" || l == "l1" ||
         l == "us-ascii" || l == "ascii" || l == "cp1252" || l == "windows-1252" || l == "x-cp1252" ||
         l == "cp819" || l == "ibm819" || l == "iso-ir-100" || l == "csisolatin1" || l == "iso_8859-1:1987" ||
         l == "ansi_x3.4-1968";
}

struct Scan {
  bool ascii = true;           // no byte >= 0x80
  bool valid_utf8 = true;      // all sequences well-formed
  bool has_multibyte = false;  // at least one well-formed multi-byte sequence
};

Scan scan_utf8(std::string_view s) {
  Scan out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      i = skip_ascii8(s, i + 1);
      continue;
    }
    out.ascii = false;
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out.valid_utf8 = false;
      ++i;
      continue;
    }
    out.has_multibyte = true;
    i += n;
  }
  return out;
}

std::string decode_1252(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out.push_back(c);
    } else {
      const char32_t cp = windows1252_c1(b);
      append_utf8(out, cp == 0 ? char32_t{b} : cp);  // undefined ones pass through as C1 (cleaned later)
    }
  }
  return out;
}

struct ConverterDeleter {
  void operator()(UConverter* c) const noexcept { ucnv_close(c); }
};

// Any other charset through ICU; nullopt when ICU does not know the label.
std::optional<std::string> decode_icu(std::string_view bytes, const std::string& charset, bool& replaced) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UConverter, ConverterDeleter> conv(ucnv_open(charset.c_str(), &status));
  if (U_FAILURE(status) || !conv) return std::nullopt;
  // Substitute U+FFFD for illegal and unassigned sequences.
  status = U_ZERO_ERROR;
  ucnv_setToUCallBack(conv.get(), UCNV_TO_U_CALLBACK_SUBSTITUTE, nullptr, nullptr, nullptr, &status);
  std::vector<UChar> utf16(bytes.size() * 2 + 16);
  status = U_ZERO_ERROR;
  const int32_t n = ucnv_toUChars(conv.get(), utf16.data(), static_cast<int32_t>(utf16.size()), bytes.data(),
                                  static_cast<int32_t>(bytes.size()), &status);
  if (U_FAILURE(status)) return std::nullopt;
  std::string out;
  out.reserve(static_cast<std::size_t>(n) + static_cast<std::size_t>(n) / 2);
  for (int32_t i = 0; i < n; ++i) {
    char32_t cp = utf16[static_cast<std::size_t>(i)];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n) {
      const char32_t low = utf16[static_cast<std::size_t>(i) + 1];
      if (low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        ++i;
      }
    }
    if (cp == 0xFFFD || cp == 0x1A) {  // ICU's substitutes
      replaced = true;
      cp = 0xFFFD;
    }
    append_utf8(out, cp);
  }
  return out;
}

// UTF-16 without a BOM: "<" or "{" next to a zero byte.
std::optional<std::string> sniff_utf16(std::string_view bytes) {
  if (bytes.size() < 4) return std::nullopt;
  if (bytes[0] != '\0' && bytes[1] == '\0' && bytes[2] != '\0' && bytes[3] == '\0') return "utf-16le";
  if (bytes[0] == '\0' && bytes[1] != '\0' && bytes[2] == '\0' && bytes[3] != '\0') return "utf-16be";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> charset_from_content_type(std::string_view content_type) {
  if (std::optional<std::string> value = pseudo_attribute(content_type, "charset")) return value;
  return std::nullopt;
}

std::string canonical_charset(std::string_view label) {
  std::string l = lower(label);
  while (!l.empty() && is_space(l.back())) l.pop_back();
  while (!l.empty() && is_space(l.front())) l.erase(l.begin());
  if (is_1252_label(l)) return "windows-1252";
  if (l == "utf8" || l == "unicode-1-1-utf-8" || l == "x-unicode20utf8") return "utf-8";
  if (l == "ucs-2" || l == "iso-10646-ucs-2" || l == "unicode") return "utf-16";
  if (l == "utf-16le" || l == "utf-16be" || l == "utf-16") return l;
  if (l == "iso-8859-9" || l == "latin5") return "windows-1254";  // WHATWG
  if (l == "tis-620" || l == "iso-8859-11") return "windows-874";
  if (l == "gb2312" || l == "x-gbk" || l == "gbk") return "gbk";
  if (l == "x-sjis" || l == "shift-jis" || l == "sjis") return "shift_jis";
  return l;
}

DecodedDocument decode_document(std::string_view bytes, std::optional<std::string_view> content_type) {
  DecodedDocument doc;
  std::optional<std::string> label;
  std::string_view body = bytes;
  if (body.starts_with("\xEF\xBB\xBF")) {
    label = "utf-8";
    body.remove_prefix(3);
    doc.from = "bom";
  } else if (body.starts_with("\xFF\xFE\x00\x00") && body.size() % 4 == 0) {
    label = "utf-32le";
    body.remove_prefix(4);
    doc.from = "bom";
  } else if (body.starts_with("\xFE\xFF")) {
    label = "utf-16be";
    body.remove_prefix(2);
    doc.from = "bom";
  } else if (body.starts_with("\xFF\xFE")) {
    label = "utf-16le";
    body.remove_prefix(2);
    doc.from = "bom";
  }
  const std::optional<std::string> utf16 = label ? std::nullopt : sniff_utf16(body);
  if (!label && content_type) {
    if (std::optional<std::string> cs = charset_from_content_type(*content_type)) {
      std::string c = canonical_charset(*cs);
      // A UTF-16 label on a document that is plainly 8-bit (the header is wrong).
      if (!(c.starts_with("utf-16") && !utf16)) {
        label = std::move(c);
        doc.from = "http";
      }
    }
  }
  if (!label && utf16) {
    label = *utf16;
    doc.from = "sniffed";
  }
  if (!label) {
    std::string from;
    if (std::optional<std::string> cs = declared_charset(body, from)) {
      std::string c = canonical_charset(*cs);
      if (!c.starts_with("utf-16") && !c.starts_with("utf-32")) {  // 8-bit bytes cannot be UTF-16
        label = std::move(c);
        doc.from = from;
      }
    }
  }
  if (!label) {
    label = "utf-8";
    doc.from = "default";
  }
  std::string charset = *label;
  if (charset == "utf-16") charset = "utf-16be";

  if (charset == "utf-8" || charset == "windows-1252") {
    const Scan scan = scan_utf8(body);
    if (charset == "utf-8" && !scan.valid_utf8 && !scan.has_multibyte) {
      charset = "windows-1252";
      doc.mislabeled = doc.from != "default";
    } else if (charset == "windows-1252" && scan.valid_utf8 && scan.has_multibyte) {
      charset = "utf-8";
      doc.mislabeled = true;
    }
  } else if (!charset.starts_with("utf-16") && !charset.starts_with("utf-32")) {
    // Another single- or multi-byte label on bytes that are well-formed UTF-8 with
    // multi-byte sequences: almost surely UTF-8 under a stale label.
    const Scan scan = scan_utf8(body);
    if (scan.valid_utf8 && scan.has_multibyte) {
      charset = "utf-8";
      doc.mislabeled = true;
    }
  }

  doc.charset = charset;
  if (charset == "utf-8") {
    if (is_valid_utf8(body)) {
      doc.unchanged = true;  // no copy: the caller reads the input itself
      doc.skip = bytes.size() - body.size();
    } else {
      CleanResult r;
      // Only the replacement part of clean_text is wanted here; keep controls for
      // the parser to see, they are dropped per field later.
      std::string out;
      out.reserve(body.size());
      std::size_t i = 0;
      while (i < body.size()) {
        std::size_t j = i;
        while (j < body.size() && static_cast<unsigned char>(body[j]) < 0x80) ++j;
        out.append(body.substr(i, j - i));
        i = j;
        if (i >= body.size()) break;
        std::size_t k = i + 1;
        while (k < body.size() && k - i < 4 && (static_cast<unsigned char>(body[k]) & 0xC0) == 0x80) ++k;
        const std::string_view chunk = body.substr(i, k - i);
        out.append(clean_text(chunk, r));
        i = k;
      }
      doc.text = std::move(out);
      doc.replaced = true;
    }
  } else if (charset == "windows-1252") {
    doc.text = decode_1252(body);
  } else {
    bool replaced = false;
    std::optional<std::string> text = decode_icu(body, charset, replaced);
    if (!text) {
      // A label nobody knows: read the bytes as what they look like.
      const Scan scan = scan_utf8(body);
      doc.mislabeled = true;
      if (scan.valid_utf8) {
        doc.charset = "utf-8";
        doc.unchanged = true;
        doc.skip = bytes.size() - body.size();
      } else {
        doc.charset = "windows-1252";
        doc.text = decode_1252(body);
      }
    } else {
      doc.text = std::move(*text);
      doc.replaced = replaced;
    }
  }
  return doc;
}

}  // namespace postwire::normalise
