// Dedupe state-store benchmark: builds a store of N items (acknowledge + flush
// in large batches), then, in fresh processes, reopens it and measures
//   - open time (load of the in-memory table from state.db),
//   - resident memory added by the open, per item,
//   - classify() lookups per second on one thread, half hits (duplicates), half misses.
// Each figure is the median of --rounds processes. See bench/RESULTS.md.
//
//   postwire-bench-dedupe [--items N] [--dir DIR] [--rounds R] [--queries Q] [--keep]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/schema/ids.hpp"

namespace {

using postwire::DedupeStore;
using Seconds = std::chrono::duration<double>;
constexpr int kSources = 64;

std::string item_id(std::size_t i) {
  return postwire::make_post_id("bench-" + std::to_string(i % kSources), std::to_string(i));
}
std::string content_hash(std::size_t i) {
  return postwire::make_content_hash("title " + std::to_string(i), "body");
}

// Resident set size of this process, bytes.
long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0;
  long pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * sysconf(_SC_PAGESIZE);
}

template <class T>
T median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int create(const std::filesystem::path& dir, std::size_t items) {
  std::filesystem::remove_all(dir);
  auto store = DedupeStore::open(dir);
  if (!store) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  constexpr std::size_t kBatch = 250'000;
  for (std::size_t i = 0; i < items; ++i) {
    (*store)->acknowledge(item_id(i), "bench-" + std::to_string(i % kSources), content_hash(i), 1);
    if ((i + 1) % kBatch == 0 || i + 1 == items) {
      if (auto r = (*store)->flush(); !r) {
        std::cerr << r.error().message << "\n";
        return 1;
      }
    }
  }
  const double seconds = Seconds(std::chrono::steady_clock::now() - started).count();
  std::printf("created %zu items in %.1f s (%.0f items/s, ids and hashes included), state.db %.0f MiB\n",
              items, seconds, static_cast<double>(items) / seconds,
              static_cast<double>(std::filesystem::file_size(dir / "state.db")) / 1048576.0);
  return 0;
}

// One round in this process: prints "open_s rss_delta_bytes table_bytes items lookups_per_s hits_per_s
// misses_per_s".
int measure(const std::filesystem::path& dir, std::size_t items, std::size_t queries) {
  const long rss_before = rss_bytes();
  const auto t0 = std::chrono::steady_clock::now();
  auto opened = DedupeStore::open(dir);
  const double open_s = Seconds(std::chrono::steady_clock::now() - t0).count();
  if (!opened) {
    std::cerr << opened.error().message << "\n";
    return 1;
  }
  const long rss_after = rss_bytes();
  auto& store = **opened;

  // Half hits (known id, same content: duplicate), half misses (unknown id), shuffled.
  std::mt19937_64 rng(12345);
  std::vector<std::pair<std::string, std::string>> mixed;
  mixed.reserve(queries);
  for (std::size_t q = 0; q < queries; ++q) {
    const std::size_t i = q % 2 == 0 ? rng() % items : items + rng() % items;
    mixed.emplace_back(item_id(i), content_hash(i));
  }
  auto run = [&](std::size_t from, std::size_t step) {
    std::size_t duplicates = 0;
    std::size_t n = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t q = from; q < mixed.size(); q += step) {
      duplicates +=
          store.classify(mixed[q].first, mixed[q].second).kind == postwire::DedupeDecision::Kind::duplicate;
      ++n;
    }
    const double s = Seconds(std::chrono::steady_clock::now() - start).count();
    if (from == 0 && step == 1 && duplicates != (mixed.size() + 1) / 2) {
      std::cerr << "unexpected: " << duplicates << " duplicates of " << mixed.size() << "\n";
    }
    return static_cast<double>(n) / s;
  };
  const double mixed_rate = run(0, 1);
  const double hit_rate = run(0, 2);
  const double miss_rate = run(1, 2);
  std::printf("%.6f %ld %zu %zu %.0f %.0f %.0f\n", open_s, rss_after - rss_before, store.memory_bytes(),
              store.size(), mixed_rate, hit_rate, miss_rate);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t items = 10'000'000;
  std::size_t queries = 2'000'000;
  int rounds = 5;
  bool keep = false;
  bool measure_only = false;
  bool reuse = false;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "postwire-bench-dedupe";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--items") {
      items = std::stoull(next());
    } else if (a == "--dir") {
      dir = next();
    } else if (a == "--rounds") {
      rounds = std::stoi(next());
    } else if (a == "--queries") {
      queries = std::stoull(next());
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--reuse") {
      reuse = true;  // skip creation if DIR already holds a store of --items items
    } else if (a == "--measure-round") {
      measure_only = true;
    } else {
      std::cerr << "usage: postwire-bench-dedupe [--items N] [--dir DIR] [--rounds R] [--queries Q] [--keep] "
                   "[--reuse]\n";
      return 64;
    }
  }
  if (measure_only) return measure(dir, items, queries);

  if (!reuse || !std::filesystem::exists(dir / "state.db")) {
    if (int rc = create(dir, items); rc != 0) return rc;
  }
  std::vector<double> open_s, rss_per_item, table_per_item, mixed, hits, misses;
  for (int r = 0; r < rounds; ++r) {
    const std::string cmd = std::string("'") + argv[0] + "' --measure-round --items " +
                            std::to_string(items) + " --queries " + std::to_string(queries) + " --dir '" +
                            dir.string() + "'";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return 1;
    double o = 0, m = 0, h = 0, mi = 0;
    long rss = 0;
    std::size_t table = 0, size = 0;
    const int got = std::fscanf(p, "%lf %ld %zu %zu %lf %lf %lf", &o, &rss, &table, &size, &m, &h, &mi);
    if (pclose(p) != 0 || got != 7 || size == 0) {
      std::cerr << "round " << r << " failed\n";
      return 1;
    }
    std::printf(
        "round %d: open %.2f s, rss +%.1f B/item (table %.1f B/item), lookups %.2f M/s (hits %.2f, misses "
        "%.2f)\n",
        r + 1, o, static_cast<double>(rss) / static_cast<double>(size),
        static_cast<double>(table) / static_cast<double>(size), m / 1e6, h / 1e6, mi / 1e6);
    open_s.push_back(o);
    rss_per_item.push_back(static_cast<double>(rss) / static_cast<double>(size));
    table_per_item.push_back(static_cast<double>(table) / static_cast<double>(size));
    mixed.push_back(m);
    hits.push_back(h);
    misses.push_back(mi);
  }
  std::printf(
      "median of %d: items %zu, open %.2f s, RSS %.1f bytes/item (table %.1f), lookups %.2f M/s single "
      "thread "
      "(hits %.2f M/s, misses %.2f M/s)\n",
      rounds, items, median(open_s), median(rss_per_item), median(table_per_item), median(mixed) / 1e6,
      median(hits) / 1e6, median(misses) / 1e6);
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
