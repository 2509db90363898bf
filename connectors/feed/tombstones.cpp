#include "feed/tombstones.hpp"

#include <libxml/xmlreader.h>
#include <cstring>  // memmem (a GNU extension, declared here by glibc)

#include <memory>

#include "normalise/dates.hpp"
#include "normalise/html_text.hpp"

namespace postwire::feed {
namespace {

constexpr std::string_view kTombstoneNs = "http://purl.org/atompub/tombstones/1.0";

std::optional<std::string> attribute(xmlTextReaderPtr reader, const char* name) {
  xmlChar* value = xmlTextReaderGetAttribute(reader, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

}  // namespace

std::vector<Tombstone> find_tombstones(std::string_view body) {
  std::vector<Tombstone> out;
  // Runs on every document, nearly all without tombstones: glibc's memmem scans
  // for the whole word, where string_view::find stops at every 'd'.
  constexpr std::string_view kMarker = "deleted-entry";
  if (::memmem(body.data(), body.size(), kMarker.data(), kMarker.size()) == nullptr) return out;
  normalise::ensure_libxml2_initialized();
  std::unique_ptr<xmlTextReader, void (*)(xmlTextReaderPtr)> reader(
      xmlReaderForMemory(body.data(), static_cast<int>(body.size()), nullptr, nullptr,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER),
      xmlFreeTextReader);
  if (!reader) return out;
  while (xmlTextReaderRead(reader.get()) == 1) {
    if (xmlTextReaderNodeType(reader.get()) != XML_READER_TYPE_ELEMENT) continue;
    const xmlChar* local = xmlTextReaderConstLocalName(reader.get());
    const xmlChar* ns = xmlTextReaderConstNamespaceUri(reader.get());
    if (local == nullptr || ns == nullptr) continue;
    if (std::string_view(reinterpret_cast<const char*>(local)) != "deleted-entry" ||
        std::string_view(reinterpret_cast<const char*>(ns)) != kTombstoneNs) {
      continue;
    }
    auto ref = attribute(reader.get(), "ref");
    if (!ref || ref->empty()) continue;
    Tombstone t;
    t.ref = std::move(*ref);
    if (auto when = attribute(reader.get(), "when")) t.when = normalise::parse_date(*when).value;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace postwire::feed
