// The pugixml fast path (XmlTree::parse_well_formed) must read every document it
// accepts exactly as libxml2 does, and leave to libxml2 every document it cannot
// be sure of. Checked on hand-written edge cases, on every fixture, and on tens of
// thousands of mutations of them.
#include "feed/xml_tree.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "postwire/schema/utf8.hpp"

namespace postwire::feed {
namespace {

enum class Outcome { fast, libxml2_only, neither };

// Parses `doc` both ways. When the fast path accepts it, libxml2 must read it
// without an error and build the same tree; returns which parser took it.
Outcome check_both_ways(const std::string& doc) {
  const std::optional<XmlTree> fast = XmlTree::parse_well_formed(doc);
  const LibxmlRead slow = read_with_libxml2(doc, LibxmlMode::strict);
  if (!fast) return slow.tree ? Outcome::libxml2_only : Outcome::neither;
  EXPECT_TRUE(slow.tree.has_value()) << "fast path accepted what libxml2 refuses (" << slow.first_error
                                     << "):\n"
                                     << doc;
  EXPECT_FALSE(slow.errors) << "fast path accepted what libxml2 complains about (" << slow.first_error
                            << "):\n"
                            << doc;
  if (slow.tree) {
    const std::optional<std::string> difference = first_difference(*fast, *slow.tree);
    EXPECT_FALSE(difference.has_value()) << *difference << "\n" << doc;
  }
  return Outcome::fast;
}

TEST(XmlTree, ReadsWhatLibxml2Reads) {
  const std::vector<std::string> same = {
      "<a/>",
      R"(<?xml version="1.0"?><a/>)",
      "<?xml version='1.0' encoding='ISO-8859-1' standalone='yes' ?>\n<a/>",
      "<!-- c --><?pi data?>\n<a/>\n",
      "<a x=\"\" y='1&#10;2\t3\r\n4'>t<![CDATA[c]]>u</a>",
      "<a><![CDATA[a]]><![CDATA[b]]><![CDATA[]]></a>",
      "<a><![CDATA[]]></a>",
      "<a><![CDATA[a]]><!--c--><![CDATA[b]]></a>",
      "<a>x<!--c-->y<?p q?>z</a>",
      "<a>&amp;&lt;&gt;&quot;&apos;&#233;&#x1F600;&#xd;</a>",
      "<a>\r\n line\rtwo\n</a>",
      R"(<r xmlns="http://d/" xmlns:p="http://p/"><p:e p:a="1" a="2" xml:lang="en"/><e xmlns=""/></r>)",
      R"(<r xmlns:p="relative/ns"><p:e/></r>)",
      "<a>  <b> </b>\n\t</a>",
      "<a b = \"1\"\n c\t=\t'2' ></a >",
  };
  for (const std::string& doc : same) {
    SCOPED_TRACE(doc);
    EXPECT_EQ(check_both_ways(doc), Outcome::fast);
  }
}

TEST(XmlTree, LeavesToLibxml2WhatItCannotBeSureOf) {
  const std::vector<std::string> left = {
      "<!DOCTYPE rss><rss/>",
      "<a>&nbsp;</a>",        // an entity only a DTD (or HTML) declares
      "<a>AT&T</a>",          // a '&' that starts no reference
      "<a>&#X41;</a>",        // "&#X" is not XML
      "<a>&#0;</a>",          // a reference to a non-character
      "<a>x]]>y</a>",         //
      R"(<a x="1<2"/>)",      //
      R"(<a x="1" x="2"/>)",  //
      R"(<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>)",
      "<a><p:b/></a>",                    // undeclared prefix: libxml2 only warns
      R"(<a xmlns:p="a b"><p:b/></a>)",   // not a URI: libxml2 complains
      R"(<a xmlns:p=""/>)",               //
      "<a><!-- x -- y --></a>",           //
      "<a><!-- x ---></a>",               //
      R"(<a><?xml version="1.0"?></a>)",  // a declaration not at the start
      R"(<?xml version="1.1"?><a/>)",     //
      R"(<?xml version="1.0" standalone="maybe"?><a/>)",
      R"(<?xml version="1.0"encoding="UTF-8"?><a/>)",
      "<a/><b/>",                           // two roots
      "<a/>text",                           // text after the root
      "<a/>>",                              //
      "<a/><!-- after -->",                 // fine for libxml2, but rare: left to it
      R"(<a xmlns:p="http://x&amp;y/"/>)",  // libxml2 keeps the reference in the name
      "<a>\x01</a>",                        // a control character
      std::string("<a>\0</a>", 8),          // NUL
      "<a>\xEF\xBF\xBE</a>",                // U+FFFE
      "<a>",                                // truncated
      "<a></b>",                            //
      "<a x='1'y='2'/>",                    //
      "<\xC3\xA9/>",                        // a name outside ASCII
      "<1a/>",                              //
      R"(<a:b:c xmlns:a="u"/>)",            //
  };
  for (const std::string& doc : left) {
    SCOPED_TRACE(doc);
    EXPECT_NE(check_both_ways(doc), Outcome::fast);
  }
}

TEST(XmlTree, NestingBeyondLibxml2sLimitGoesToLibxml2) {
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<a>";
  for (int i = 0; i < 300; ++i) deep += "</a>";
  EXPECT_FALSE(XmlTree::parse_well_formed(deep).has_value());
  std::string shallow;
  for (int i = 0; i < 200; ++i) shallow += "<a>";
  for (int i = 0; i < 200; ++i) shallow += "</a>";
  EXPECT_EQ(check_both_ways(shallow), Outcome::fast);
}

TEST(XmlTree, RootLineCountsAsLibxml2Does) {
  const std::optional<XmlTree> tree =
      XmlTree::parse_well_formed("<?xml version=\"1.0\"?>\r\n<!--\n-->\r<html\n lang='en\n'>x</html>");
  ASSERT_TRUE(tree.has_value());
  EXPECT_EQ(tree->root_line(), 5);  // the lone CR ends no line
  EXPECT_EQ(check_both_ways("<?xml version=\"1.0\"?>\r\n<!--\n-->\r<html\n lang='en\n'>x</html>"),
            Outcome::fast);
}

std::vector<std::string> fixture_documents() {
  std::vector<std::string> docs;
  for (const auto& entry : std::filesystem::recursive_directory_iterator("fixtures/feeds")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".xml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    std::string doc = s.str();
    // The fast path reads what parse_feed hands it: UTF-8, leading white space gone.
    const std::size_t start = doc.find_first_not_of(" \t\r\n");
    if (start == std::string::npos || !is_valid_utf8(doc)) continue;
    docs.push_back(doc.substr(start));
  }
  std::sort(docs.begin(), docs.end());
  return docs;
}

TEST(XmlTree, EveryFixtureReadsTheSameBothWays) {
  const std::vector<std::string> docs = fixture_documents();
  ASSERT_GE(docs.size(), 60U);
  std::size_t fast = 0;
  for (const std::string& doc : docs) {
    if (check_both_ways(doc) == Outcome::fast) ++fast;
  }
  // Most fixtures are well-formed; the ill-formed ones must all have gone to libxml2.
  EXPECT_GE(fast, docs.size() / 2);
}

// Random edits of the fixtures, biased towards the constructs whose reading differs
// between parsers. Deterministic: the same mutations on every run.
TEST(XmlTree, MutatedFixturesReadTheSameOrGoToLibxml2) {
  const std::vector<std::string> docs = fixture_documents();
  ASSERT_FALSE(docs.empty());
  const std::array<std::string_view, 48> pieces = {"&",
                                                   "&amp;",
                                                   "&#x41;",
                                                   "&#X41;",
                                                   "&#65;",
                                                   "&nbsp;",
                                                   "&#0;",
                                                   "&#xD800;",
                                                   "<",
                                                   ">",
                                                   "]]>",
                                                   "<![CDATA[",
                                                   "]]><![CDATA[",
                                                   "<!--",
                                                   "-->",
                                                   "--",
                                                   "<?pi x?>",
                                                   "<?xml?>",
                                                   R"(<?xml version="1.0"?>)",
                                                   R"( x="1")",
                                                   "'",
                                                   R"(")",
                                                   "<!DOCTYPE x>",
                                                   "/>",
                                                   "</a>",
                                                   "<a>",
                                                   "=",
                                                   ":",
                                                   "p:",
                                                   R"( xmlns="")",
                                                   R"( xmlns:p="http://p/")",
                                                   R"( p:x="2")",
                                                   R"( xml:lang="fr")",
                                                   "\r",
                                                   "\r\n",
                                                   "\t",
                                                   "\x01",
                                                   "\xEF\xBF\xBE",
                                                   "\xC3\xA9",
                                                   " ",
                                                   "\n",
                                                   "<b/>",
                                                   "x",
                                                   "<!---->",
                                                   R"( xmlns:p="a b")",
                                                   "&lt;",
                                                   "&#10;",
                                                   "<a x='1' x='2'/>"};
  // XML_TREE_MUTATIONS and XML_TREE_SEED run a longer or another sequence by hand.
  const char* count_env = std::getenv("XML_TREE_MUTATIONS");
  const char* seed_env = std::getenv("XML_TREE_SEED");
  const long mutations = count_env != nullptr ? std::atol(count_env) : 20000;
  std::mt19937 rng(seed_env != nullptr ? static_cast<unsigned>(std::atol(seed_env)) : 20261203U);
  std::size_t fast = 0;
  std::size_t total = 0;
  for (long i = 0; i < mutations; ++i) {
    std::string doc = docs[rng() % docs.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !doc.empty(); ++e) {
      const std::size_t at = rng() % doc.size();
      switch (rng() % 3) {
        case 0:
          doc.insert(at, pieces[rng() % pieces.size()]);
          break;
        case 1:
          doc.erase(at, 1 + rng() % 4);
          break;
        default:
          doc.replace(at, 1, pieces[rng() % pieces.size()]);
          break;
      }
    }
    if (!is_valid_utf8(doc) || doc.empty() || doc.find_first_of(" \t\r\n") == 0) continue;
    ++total;
    if (check_both_ways(doc) == Outcome::fast) ++fast;
    if (HasFailure()) break;
  }
  // Both paths must be exercised: plenty of mutations stay well-formed, plenty do not.
  EXPECT_GT(fast, total / 10);
  EXPECT_LT(fast, total - total / 10);
}

}  // namespace
}  // namespace postwire::feed
