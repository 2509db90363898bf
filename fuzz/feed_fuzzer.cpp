// libFuzzer target: the whole feed parser (charset detection, XML and JSON, HTML to
// text, sanitising, dates, URLs, language). Every string it emits must be valid UTF-8,
// and every document the pugixml fast path accepts must read the same in libxml2
// (feed/xml_tree.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "feed/feed_parser.hpp"
#include "feed/xml_tree.hpp"
#include "normalise/text_clean.hpp"

namespace {

void check(const std::optional<std::string>& s) {
  if (s && !postwire::normalise::is_valid_utf8(*s)) std::abort();
}

// The fast path's promise: what it accepts, libxml2 reads without an error into the
// same tree. Its input is what parse_feed gives it: UTF-8 without leading white space.
void check_xml_fast_path(std::string_view body) {
  if (body.empty() || body.front() == ' ' || body.front() == '\t' || body.front() == '\n' ||
      body.front() == '\r' || !postwire::normalise::is_valid_utf8(body)) {
    return;
  }
  const auto fast = postwire::feed::XmlTree::parse_well_formed(body);
  if (!fast) return;
  const auto slow = postwire::feed::read_with_libxml2(body, postwire::feed::LibxmlMode::strict);
  if (!slow.tree || slow.errors || postwire::feed::first_difference(*fast, *slow.tree)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  check_xml_fast_path(body);
  postwire::feed::ParseOptions options;
  options.base_url = "https://fuzz.example/feed/";
  options.now = 1795000000;
  options.timezone = "America/New_York";
  options.max_items = 200;
  if (size > 0 && data[0] % 2 == 0) options.content_type = "text/xml; charset=iso-8859-1";
  auto parsed = postwire::feed::parse_feed(body, options);
  if (!parsed) return 0;
  check(parsed->title);
  for (const auto& e : parsed->entries) {
    if (!postwire::normalise::is_valid_utf8(e.native_id)) std::abort();
    check(e.title);
    check(e.summary);
    check(e.content_text);
    check(e.content_html);
    check(e.url);
    for (const auto& a : e.authors) check(a.name);
    for (const auto& t : e.tags) check(t);
  }
  return 0;
}
