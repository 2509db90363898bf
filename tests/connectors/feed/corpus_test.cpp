// The fixture corpus (tests/fixtures/feeds): every document is parsed and mapped to
// events exactly as `postwire parse` does, and the output is compared line by line
// with <name>.golden.jsonl. POSTWIRE_UPDATE_GOLDENS=1 rewrites the goldens instead
// (review the diff before committing it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "feed/feed_connector.hpp"
#include "feed/feed_parser.hpp"
#include "normalise/dates.hpp"
#include "postwire/schema/event_json.hpp"
#include "postwire/schema/ids.hpp"
#include "postwire/schema/json_writer.hpp"

namespace postwire::feed {
namespace {

namespace fs = std::filesystem;

fs::path corpus_dir() { return fs::path(POSTWIRE_SOURCE_DIR) / "tests" / "fixtures" / "feeds"; }

bool is_document(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.ends_with(".golden.jsonl") || name.ends_with(".opts") || name.ends_with(".py")) return false;
  return p.has_extension();
}

std::vector<std::string> corpus_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(corpus_dir())) {
    if (entry.is_regular_file() && is_document(entry.path()))
      names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::map<std::string, std::string> read_opts(const fs::path& p) {
  std::map<std::string, std::string> opts;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) opts[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return opts;
}

std::string stem_of(const std::string& name) { return name.substr(0, name.rfind('.')); }

}  // namespace

// The lines `postwire parse` would print for the document (the header line also
// lists the warning tokens), with the corpus defaults for base URL and time.
std::vector<std::string> corpus_output(const std::string& name);
std::vector<std::string> corpus_output(const std::string& name) {
  const fs::path doc = corpus_dir() / name;
  const std::string stem = stem_of(name);
  auto opts = read_opts(corpus_dir() / (stem + ".opts"));
  ParseOptions options;
  options.base_url = opts.count("base_url") ? opts["base_url"] : "https://fixtures.example/feeds/" + name;
  if (opts.count("timezone")) options.timezone = opts["timezone"];
  if (opts.count("content_type")) options.content_type = opts["content_type"];
  if (opts.count("id_from")) options.id_from = parse_id_from(opts["id_from"]).value_or(IdFrom::auto_detect);
  if (opts.count("max_items")) options.max_items = std::stoul(opts["max_items"]);
  const std::string now_text = opts.count("now") ? opts["now"] : "2026-11-28T10:52:52Z";
  const UnixSeconds now = normalise::parse_date(now_text).value.value_or(0);
  options.now = now;

  std::vector<std::string> lines;
  auto parsed = parse_feed(read_all(doc), options);
  std::string header;
  JsonWriter w(header);
  w.begin_object();
  if (!parsed) {
    w.key("error");
    w.value(errc_name(parsed.error().code));
    w.end_object();
    lines.push_back(header);
    return lines;
  }
  w.key("feed");
  write_feed_summary(w, *parsed);
  w.key("warnings");
  w.begin_array();
  for (const std::string& warning : parsed->warnings)
    w.value(std::string_view(warning).substr(0, warning.find(':')));
  w.end_array();
  w.end_object();
  lines.push_back(header);
  for (const FeedEntry& entry : parsed->entries) {
    lines.push_back(to_json(entry_event("fixtures", options.base_url, *parsed, entry, now * 1000)));
  }
  return lines;
}

namespace {

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, MatchesGolden) {
  const std::string name = GetParam();
  const fs::path golden = corpus_dir() / (stem_of(name) + ".golden.jsonl");
  const std::vector<std::string> actual = corpus_output(name);
  const char* update = std::getenv("POSTWIRE_UPDATE_GOLDENS");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(golden, std::ios::binary);
    for (const std::string& line : actual) out << line << "\n";
    GTEST_SKIP() << "golden rewritten";
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with POSTWIRE_UPDATE_GOLDENS=1";
  std::vector<std::string> expected;
  std::istringstream in(read_all(golden));
  for (std::string line; std::getline(in, line);) expected.push_back(line);
  ASSERT_EQ(actual.size(), expected.size()) << name;
  for (std::size_t i = 0; i < actual.size(); ++i)
    EXPECT_EQ(actual[i], expected[i]) << name << " line " << i + 1;
}

INSTANTIATE_TEST_SUITE_P(Feeds, Corpus, ::testing::ValuesIn(corpus_names()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string id = param_info.param;
                           for (char& c : id) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return id;
                         });

TEST(CorpusSize, AtLeastEightyDocuments) { EXPECT_GE(corpus_names().size(), 80u); }

// The same story under two fetches whose guids differ: id_from link keeps the id.
TEST(CorpusIds, ChangingGuidsKeepTheirIdWithIdFromLink) {
  const auto a = corpus_output("id_changing_guids_a.xml");
  const auto b = corpus_output("id_changing_guids_b.xml");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  const auto id_of = [](const std::string& line) {
    const auto at = line.find(R"("id":"p_)");
    return line.substr(at, 40);
  };
  EXPECT_EQ(id_of(a[1]), id_of(b[1]));
}

}  // namespace
}  // namespace postwire::feed
