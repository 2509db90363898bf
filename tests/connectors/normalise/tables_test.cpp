// Table-driven tests of the date parser and URL canonicalisation with several
// hundred rows each: tests/fixtures/normalise/{dates,urls}.tsv, generated with
// independent expectations by tests/fixtures/normalise/gen_tables.py.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "normalise/dates.hpp"
#include "normalise/urls.hpp"
#include "postwire/schema/time.hpp"

namespace postwire::normalise {
namespace {

std::vector<std::vector<std::string>> read_tsv(const std::string& name) {
  std::ifstream in(std::string(POSTWIRE_SOURCE_DIR) + "/tests/fixtures/normalise/" + name);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::size_t pos = 0;
    while (true) {
      const std::size_t tab = line.find('\t', pos);
      cols.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
      if (tab == std::string::npos) break;
      pos = tab + 1;
    }
    rows.push_back(std::move(cols));
  }
  return rows;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "-" : out;
}

TEST(DateTable, EveryRow) {
  const auto rows = read_tsv("dates.tsv");
  ASSERT_GE(rows.size(), 300u);
  int failures = 0;
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 5u);
    DateContext ctx;
    if (r[1] != "-") ctx.timezone = r[1];
    if (r[2] != "-") ctx.now = parse_date(r[2]).value;
    const ParsedDate parsed = parse_date(r[0], ctx);
    const std::string got = parsed.value ? format_rfc3339(*parsed.value) : "-";
    const std::string flags = join(parsed.flags);
    if (got != r[3] || flags != r[4]) {
      ++failures;
      ADD_FAILURE() << "'" << r[0] << "' zone " << r[1] << ": got " << got << " [" << flags << "], want "
                    << r[3] << " [" << r[4] << "]";
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(UrlTable, EveryRow) {
  const auto rows = read_tsv("urls.tsv");
  ASSERT_GE(rows.size(), 250u);
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 3u);
    std::optional<std::string> url = r[0] == "-" ? std::optional<std::string>(r[1]) : resolve_url(r[0], r[1]);
    std::optional<std::string> canonical = url ? canonical_url(*url) : std::nullopt;
    EXPECT_EQ(canonical.value_or("-"), r[2]) << "base " << r[0] << " ref '" << r[1] << "'";
  }
}

}  // namespace
}  // namespace postwire::normalise
