// Parse + normalise throughput: every feed document under a corpus folder (made by
// /work/shared/bench/gen_corpus.py) is read into memory, then parsed and mapped to
// finalized posts (parse_feed + to_post: charset, XML/JSON, HTML to text,
// sanitising, dates, URLs, ids, language, hashes) on one thread, RUNS times.
// Prints one JSON line with the median MB/s and items/s.
//
//   parse_bench CORPUS_DIR [RUNS]
//
// With PARSE_BENCH_DUMP=FILE in the environment, the first run also writes every
// document's warnings and every post's fields to FILE (one field a line), so two
// builds can be compared on the whole corpus with cmp(1). With
// PARSE_BENCH_LANGUAGE=TAG, documents are parsed as for a source configured with
// `language: TAG` (no language detection for items that declare none).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "feed/feed_connector.hpp"
#include "feed/feed_parser.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: parse_bench CORPUS_DIR [RUNS]\n";
    return 64;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::vector<std::string> docs;
  std::size_t xml_bytes = 0;
  std::size_t total_bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(argv[1])) {
    if (!e.is_regular_file()) continue;
    const std::string ext = e.path().extension().string();
    if ((ext != ".xml" && ext != ".json") || e.path().filename() == "truth.json") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    docs.push_back(s.str());
    total_bytes += docs.back().size();
    if (ext == ".xml") xml_bytes += docs.back().size();
  }
  std::sort(docs.begin(), docs.end());
  if (docs.empty()) {
    std::cerr << "no .xml/.json documents under " << argv[1] << "\n";
    return 66;
  }
  postwire::feed::ParseOptions options;
  options.base_url = "http://bench.example/feed.xml";
  options.now = 1795000000;
  if (const char* language = std::getenv("PARSE_BENCH_LANGUAGE")) options.language = language;
  std::vector<double> seconds;
  std::size_t items = 0;
  std::size_t failures = 0;
  const char* dump_path = std::getenv("PARSE_BENCH_DUMP");
  std::ofstream dump;
  if (dump_path != nullptr && *dump_path != '\0') dump.open(dump_path, std::ios::binary);
  const auto field = [&](const char* name, const std::optional<std::string>& value) {
    dump << name << '=' << (value ? *value : std::string("<null>")) << '\n';
  };
  for (int r = 0; r < runs; ++r) {
    items = 0;
    failures = 0;
    const bool dumping = r == 0 && dump.is_open();
    const auto t0 = std::chrono::steady_clock::now();
    for (const std::string& doc : docs) {
      auto parsed = postwire::feed::parse_feed(doc, options);
      if (!parsed) {
        ++failures;
        if (dumping) dump << "error=" << parsed.error().message << '\n';
        continue;
      }
      if (dumping) {
        for (const std::string& w : parsed->warnings) dump << "warning=" << w << '\n';
      }
      for (auto& entry : parsed->entries) {
        const postwire::PostData post = postwire::feed::to_post("bench", std::move(entry));
        items += post.id.empty() ? 0 : 1;
        if (dumping) {
          dump << "id=" << post.id << '\n' << "native_id=" << post.native_id << '\n';
          field("url", post.url);
          field("url_original", post.url_original);
          field("title", post.title);
          field("summary", post.summary);
          field("content_text", post.content_text);
          field("content_html", post.content_html);
          field("language", post.language);
          dump << "language_confidence=" << post.language_confidence.value_or(-1) << '\n';
          for (const auto& a : post.authors) {
            field("author.name", a.name);
            field("author.url", a.url);
          }
          dump << "published_at=" << post.published_at.value_or(-1) << '\n';
          dump << "updated_at=" << post.updated_at.value_or(-1) << '\n';
          for (const std::string& t : post.tags) dump << "tag=" << t << '\n';
          dump << "comment_count=" << post.comment_count.value_or(-1) << '\n';
          field("comments_url", post.comments_url);
          dump << "content_hash=" << post.content_hash << '\n';
          for (const std::string& q : post.quality) dump << "quality=" << q << '\n';
        }
      }
    }
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf(
      "{\"impl\":\"postwire\",\"documents\":%zu,\"bytes\":%zu,\"xml_bytes\":%zu,\"items\":%zu,\"failures\":%"
      "zu,"
      "\"runs\":%d,\"median_s\":%.3f,\"mb_per_s\":%.1f,\"items_per_s\":%.0f}\n",
      docs.size(), total_bytes, xml_bytes, items, failures, runs, median, total_bytes / median / 1e6,
      items / median);
  return failures == 0 ? 0 : 1;
}
