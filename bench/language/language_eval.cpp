// Accuracy and cost of per-item language detection (normalise/language) on
// multilingual samples (make_samples.py), three ways:
//   alone     detect_language on each item (its first KiB)
//   document  detect_languages on each document (prefix readings where the
//             document agrees with itself, docs/normalisation.md)
//   cut       detect_language on each item's first kPrefixDetectBytes only
// Documents are 20 consecutive samples of one language plus FOREIGN samples of
// random other languages inserted at random places (seeded: same run, same
// documents). "right" = the catalogue's language (its first two letters).
//
//   language_eval samples.tsv [FOREIGN]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "normalise/language.hpp"

namespace nz = postwire::normalise;

namespace {

struct Item {
  std::string language;  // the catalogue's
  std::string text;
  bool foreign = false;
};

bool right(const std::optional<nz::Language>& got, const std::string& truth) {
  return got && (got->tag == truth || got->tag.substr(0, 2) == truth);
}

std::string tag(const std::optional<nz::Language>& l) { return l ? l->tag : std::string(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: language_eval samples.tsv [FOREIGN]\n";
    return 2;
  }
  const int foreign = argc > 2 ? std::stoi(argv[2]) : 2;
  std::map<std::string, std::vector<std::string>> by_language;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos) by_language[line.substr(0, tab)].push_back(line.substr(tab + 1));
  }
  std::vector<std::string> languages;
  for (const auto& entry : by_language) languages.push_back(entry.first);
  if (languages.size() < 2) {
    std::cerr << "need samples of at least two languages (make_samples.py)\n";
    return 1;
  }
  std::mt19937 rng(1);
  std::vector<std::vector<Item>> documents;
  for (const auto& language : languages) {
    const auto& samples = by_language[language];
    for (std::size_t start = 0; start + 20 <= samples.size(); start += 20) {
      std::vector<Item> doc;
      for (std::size_t i = start; i < start + 20; ++i) doc.push_back({language, samples[i]});
      for (int k = 0; k < foreign; ++k) {
        const std::string& other = languages[rng() % languages.size()];
        const auto& pool = by_language[other];
        doc.insert(doc.begin() + static_cast<long>(rng() % doc.size()),
                   Item{other, pool[rng() % pool.size()], other != language});
      }
      documents.push_back(std::move(doc));
    }
  }
  using Clock = std::chrono::steady_clock;
  double alone_s = 0;
  double document_s = 0;
  double cut_s = 0;
  std::size_t items = 0;
  std::size_t foreign_items = 0;
  std::size_t full_readings = 0;
  std::size_t same_document = 0;
  std::size_t same_cut = 0;
  std::size_t right_alone = 0;
  std::size_t right_document = 0;
  std::size_t right_cut = 0;
  std::size_t foreign_right_alone = 0;
  std::size_t foreign_right_document = 0;
  for (const auto& doc : documents) {
    std::vector<std::string> texts;
    for (const auto& item : doc) texts.push_back(item.text);
    auto t0 = Clock::now();
    std::vector<std::optional<nz::Language>> alone;
    for (const auto& text : texts) alone.push_back(nz::detect_language(text));
    auto t1 = Clock::now();
    const nz::DocumentLanguages together = nz::detect_languages(texts);
    auto t2 = Clock::now();
    std::vector<std::optional<nz::Language>> cut;
    for (const auto& text : texts) cut.push_back(nz::detect_language(text.substr(0, nz::kPrefixDetectBytes)));
    auto t3 = Clock::now();
    alone_s += std::chrono::duration<double>(t1 - t0).count();
    document_s += std::chrono::duration<double>(t2 - t1).count();
    cut_s += std::chrono::duration<double>(t3 - t2).count();
    full_readings += together.full_readings;
    for (std::size_t i = 0; i < doc.size(); ++i) {
      ++items;
      same_document += tag(together.languages[i]) == tag(alone[i]) ? 1 : 0;
      same_cut += tag(cut[i]) == tag(alone[i]) ? 1 : 0;
      right_alone += right(alone[i], doc[i].language) ? 1 : 0;
      right_document += right(together.languages[i], doc[i].language) ? 1 : 0;
      right_cut += right(cut[i], doc[i].language) ? 1 : 0;
      if (doc[i].foreign) {
        ++foreign_items;
        foreign_right_alone += right(alone[i], doc[i].language) ? 1 : 0;
        foreign_right_document += right(together.languages[i], doc[i].language) ? 1 : 0;
      }
    }
  }
  const auto pct = [](std::size_t a, std::size_t b) {
    return b == 0 ? 0.0 : 100.0 * static_cast<double>(a) / static_cast<double>(b);
  };
  std::printf("documents %zu, items %zu (%zu of another language), %zu languages\n", documents.size(), items,
              foreign_items, languages.size());
  std::printf("same answer as alone: document %.1f%%, cut to %zu bytes %.1f%%\n", pct(same_document, items),
              nz::kPrefixDetectBytes, pct(same_cut, items));
  std::printf("catalogue's language: alone %.1f%%, document %.1f%%, cut %.1f%%\n", pct(right_alone, items),
              pct(right_document, items), pct(right_cut, items));
  std::printf("items of another language, catalogue's language: alone %.1f%%, document %.1f%%\n",
              pct(foreign_right_alone, foreign_items), pct(foreign_right_document, foreign_items));
  std::printf("document: %.1f%% of items read past the prefix; time %.2f us/item (alone %.2f, cut %.2f)\n",
              pct(full_readings, items), 1e6 * document_s / static_cast<double>(items),
              1e6 * alone_s / static_cast<double>(items), 1e6 * cut_s / static_cast<double>(items));
  return 0;
}
