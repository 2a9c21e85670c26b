#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "rev/rev_tree.h"

using divan::ErrorCode;
using divan::Status;
using divan::rev::MergeKind;
using divan::rev::RevId;
using divan::rev::RevInfo;
using divan::rev::RevTree;

namespace {

RevId rev(const std::string& text) {
  auto r = RevId::parse(text);
  REQUIRE_MESSAGE(r.is_ok(), text);
  return *r;
}

// "3-c 2-b 1-a" -> {3-c, 2-b, 1-a}: a path, newest first.
std::vector<RevId> path(const std::string& text) {
  std::vector<RevId> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(rev(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::string revs(const std::vector<RevId>& list) {
  std::vector<std::string> parts;
  for (const RevId& r : list) parts.push_back(r.str());
  return join(parts);
}

std::string revs(const std::vector<RevInfo>& list) {
  std::vector<std::string> parts;
  for (const RevInfo& r : list) parts.push_back(r.rev.str());
  return join(parts);
}

// The tree's structure as "rev<parent" (or "rev" for a root), sorted by rev.
std::string shape(const RevTree& tree) {
  std::vector<std::string> parts;
  for (const RevTree::Edge& e : tree.edges()) {
    parts.push_back(e.node.rev.str() + (e.parent ? "<" + e.parent->str() : ""));
  }
  return join(parts);
}

// Flags of every revision: "rev:" + 'D' if deleted + 'B' if it has a body.
std::string flags(const RevTree& tree) {
  std::vector<std::string> parts;
  for (const RevTree::Edge& e : tree.edges()) {
    parts.push_back(e.node.rev.str() + ":" + (e.node.deleted ? "D" : "") +
                    (e.node.has_body ? "B" : ""));
  }
  return join(parts);
}

// A step of building a tree: a path (newest first) and the newest's flags.
struct Step {
  std::string path;
  bool deleted = false;
  bool has_body = true;
};

RevTree build(const std::vector<Step>& steps) {
  RevTree tree;
  for (const Step& s : steps) {
    std::vector<RevId> p = path(s.path);
    REQUIRE(RevTree::validate_path(p).is_ok());
    (void)tree.merge(p, s.deleted, s.has_body);
  }
  return tree;
}

std::string encoded(const RevTree& tree) {
  std::string out;
  tree.encode(&out);
  return out;
}

const char* kind_name(MergeKind kind) {
  switch (kind) {
    case MergeKind::kNewLeaf: return "new_leaf";
    case MergeKind::kNewBranch: return "new_branch";
    case MergeKind::kInternalNode: return "internal_node";
  }
  return "?";
}

const std::string kHexA = "0123456789abcdef0123456789abcdef";
const std::string kHexB = "fedcba9876543210fedcba9876543210";

}  // namespace

TEST_SUITE("rev") {
  TEST_CASE("linear edits build a chain whose tip is the only leaf") {
    RevTree tree;
    CHECK(tree.empty());
    auto r1 = tree.merge(path("1-a"), false, true);
    CHECK(r1.kind == MergeKind::kNewLeaf);
    CHECK(r1.changed);
    auto r2 = tree.merge(path("2-b 1-a"), false, true);
    CHECK(r2.kind == MergeKind::kNewLeaf);
    auto r3 = tree.merge(path("3-c 2-b"), false, true);
    CHECK(r3.kind == MergeKind::kNewLeaf);
    CHECK(tree.size() == 3);
    CHECK(shape(tree) == "1-a 2-b<1-a 3-c<2-b");
    CHECK(revs(tree.leaves()) == "3-c");
    CHECK(tree.winner().rev.str() == "3-c");
    CHECK_FALSE(tree.deleted());
    CHECK(tree.conflicts().empty());
    CHECK(revs(tree.history(rev("3-c"))) == "3-c 2-b 1-a");
    CHECK(revs(tree.non_leaf_bodies()) == "1-a 2-b");
    CHECK(tree.is_leaf(rev("3-c")));
    CHECK_FALSE(tree.is_leaf(rev("2-b")));
    CHECK_FALSE(tree.is_leaf(rev("9-z")));
    CHECK(tree.contains(rev("1-a")));
    CHECK_FALSE(tree.contains(rev("1-b")));
    REQUIRE(tree.info(rev("2-b")).has_value());
    CHECK(tree.info(rev("2-b"))->has_body);
    CHECK_FALSE(tree.info(rev("4-d")).has_value());
  }

  TEST_CASE("merge reports CouchDB's kinds and whether anything changed") {
    struct Case {
      std::string name;
      std::vector<Step> before;
      std::string path;
      MergeKind kind;
      bool changed;
      std::string shape_after;
    };
    const std::vector<Case> cases = {
        {"first revision of a new tree", {}, "1-a", MergeKind::kNewLeaf, true, "1-a"},
        {"a whole history into an empty tree", {}, "3-c 2-b 1-a", MergeKind::kNewLeaf, true,
         "1-a 2-b<1-a 3-c<2-b"},
        {"extending the only leaf", {{"1-a"}}, "2-b 1-a", MergeKind::kNewLeaf, true,
         "1-a 2-b<1-a"},
        {"extending a leaf by two revisions", {{"2-b 1-a"}}, "4-d 3-c 2-b",
         MergeKind::kNewLeaf, true, "1-a 2-b<1-a 3-c<2-b 4-d<3-c"},
        {"extending one leaf of a conflict", {{"2-b 1-a"}, {"2-c 1-a"}}, "3-d 2-c",
         MergeKind::kNewLeaf, true, "1-a 2-b<1-a 2-c<1-a 3-d<2-c"},
        {"a sibling under an inner revision", {{"2-b 1-a"}}, "2-c 1-a", MergeKind::kNewBranch,
         true, "1-a 2-b<1-a 2-c<1-a"},
        {"a sibling that sorts first", {{"2-m 1-a"}}, "2-c 1-a", MergeKind::kNewBranch, true,
         "1-a 2-c<1-a 2-m<1-a"},
        {"a fork deeper down", {{"3-c 2-b 1-a"}}, "4-d 3-x 2-b", MergeKind::kNewBranch, true,
         "1-a 2-b<1-a 3-c<2-b 3-x<2-b 4-d<3-x"},
        {"a new root", {{"2-b 1-a"}}, "1-z", MergeKind::kNewBranch, true, "1-a 1-z 2-b<1-a"},
        {"a disjoint path with an unknown parent", {{"2-b 1-a"}}, "5-e 4-d",
         MergeKind::kNewBranch, true, "1-a 2-b<1-a 4-d 5-e<4-d"},
        {"an identical path", {{"2-b 1-a"}}, "2-b 1-a", MergeKind::kInternalNode, false,
         "1-a 2-b<1-a"},
        {"a known inner revision", {{"1-a"}, {"2-b 1-a"}}, "1-a", MergeKind::kInternalNode, false,
         "1-a 2-b<1-a"},
        {"a known leaf sent with less history", {{"3-c 2-b 1-a"}}, "3-c",
         MergeKind::kInternalNode, false, "1-a 2-b<1-a 3-c<2-b"},
        {"re-growing history above a stemmed root", {{"3-c 2-b"}}, "3-c 2-b 1-a",
         MergeKind::kInternalNode, true, "1-a 2-b<1-a 3-c<2-b"},
        {"re-growing and extending at once", {{"3-c 2-b"}}, "4-d 3-c 2-b 1-a",
         MergeKind::kNewLeaf, true, "1-a 2-b<1-a 3-c<2-b 4-d<3-c"},
        {"an overlapping longer path", {{"3-c 2-b 1-a"}}, "5-e 4-d 3-c 2-b 1-a",
         MergeKind::kNewLeaf, true, "1-a 2-b<1-a 3-c<2-b 4-d<3-c 5-e<4-d"},
        {"joining two roots", {{"2-b 1-a"}, {"4-d 3-c"}}, "4-d 3-c 2-b",
         MergeKind::kInternalNode, true, "1-a 2-b<1-a 3-c<2-b 4-d<3-c"},
        {"a path that attaches a stemmed branch below a leaf", {{"2-b 1-a"}, {"4-d 3-c"}},
         "5-e 4-d 3-c 2-b", MergeKind::kNewLeaf, true,
         "1-a 2-b<1-a 3-c<2-b 4-d<3-c 5-e<4-d"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      RevTree tree = build(c.before);
      auto result = tree.merge(path(c.path), false, true);
      CHECK(std::string(kind_name(result.kind)) == kind_name(c.kind));
      CHECK(result.changed == c.changed);
      CHECK(shape(tree) == c.shape_after);
    }
  }

  TEST_CASE("merging the same path again is an internal node and changes nothing") {
    const std::vector<Step> paths = {
        {"1-a"}, {"2-b 1-a"}, {"2-c 1-a", true}, {"5-e 4-d"}, {"4-x 3-w 2-b"}, {"1-a"}};
    RevTree tree;
    for (const Step& s : paths) {
      CAPTURE(s.path);
      (void)tree.merge(path(s.path), s.deleted, s.has_body);
      const std::string before = encoded(tree);
      auto again = tree.merge(path(s.path), s.deleted, s.has_body);
      CHECK(again.kind == MergeKind::kInternalNode);
      CHECK_FALSE(again.changed);
      CHECK(encoded(tree) == before);
    }
  }

  TEST_CASE("overlapping and disjoint paths merge by revision identity in any order") {
    const std::vector<std::string> paths = {"3-c 2-b 1-a", "4-d 3-c 2-b", "2-x 1-a",
                                            "7-g 6-f", "6-f 5-e 4-d"};
    std::vector<std::size_t> order = {0, 1, 2, 3, 4};
    std::string expected;
    do {
      RevTree tree;
      for (std::size_t i : order) (void)tree.merge(path(paths[i]), false, true);
      if (expected.empty()) expected = shape(tree);
      CHECK(shape(tree) == expected);
    } while (std::next_permutation(order.begin(), order.end()));
    CHECK(expected == "1-a 2-b<1-a 2-x<1-a 3-c<2-b 4-d<3-c 5-e<4-d 6-f<5-e 7-g<6-f");
  }

  TEST_CASE("a stored body is kept and a revision without one takes a re-sent body") {
    RevTree tree;
    (void)tree.merge(path("2-b 1-a"), false, true);
    CHECK(flags(tree) == "1-a: 2-b:B");

    // 1-a arrives with its body: it fills the gap (CouchDB's value_pref).
    auto r = tree.merge(path("1-a"), true, true);
    CHECK(r.kind == MergeKind::kInternalNode);
    CHECK(r.changed);
    CHECK(flags(tree) == "1-a:DB 2-b:B");

    // A body already stored is never overwritten.
    r = tree.merge(path("1-a"), false, true);
    CHECK_FALSE(r.changed);
    r = tree.merge(path("2-b"), true, true);
    CHECK_FALSE(r.changed);
    CHECK(flags(tree) == "1-a:DB 2-b:B");

    // Without a body nothing is filled in.
    RevTree bare;
    (void)bare.merge(path("1-a"), false, false);
    CHECK(flags(bare) == "1-a:");
    CHECK_FALSE(bare.merge(path("1-a"), true, false).changed);
    CHECK(flags(bare) == "1-a:");
    CHECK(bare.merge(path("1-a"), true, true).changed);
    CHECK(flags(bare) == "1-a:DB");
  }

  TEST_CASE("a path naming a different parent for a known revision keeps the known one") {
    RevTree tree = build({{"2-b 1-a"}});
    auto r = tree.merge(path("3-c 2-b 1-z"), false, true);
    CHECK(r.kind == MergeKind::kNewLeaf);
    CHECK(shape(tree) == "1-a 2-b<1-a 3-c<2-b");
    CHECK_FALSE(tree.contains(rev("1-z")));
  }

  TEST_CASE("the winner follows CouchDB in every tie case") {
    struct Case {
      std::string name;
      std::vector<Step> leaves;  // each a one-revision path: a root and a leaf
      std::string winner;
      std::string conflicts;
      std::string deleted_conflicts;
      bool deleted;
    };
    const std::vector<Case> cases = {
        {"one live leaf", {{"1-a"}}, "1-a", "", "", false},
        {"live beats deleted even at a lower pos", {{"2-a"}, {"3-b", true}}, "2-a", "", "3-b",
         false},
        {"higher pos wins among live leaves", {{"2-z"}, {"3-a"}}, "3-a", "2-z", "", false},
        {"higher pos wins whatever the text order", {{"9-z"}, {"10-a"}}, "10-a", "9-z", "",
         false},
        {"greater hash wins at equal pos", {{"2-a"}, {"2-b"}}, "2-b", "2-a", "", false},
        {"hex hashes compare as their bytes",
         {{"4-" + kHexA}, {"4-" + kHexB}},
         "4-" + kHexB,
         "4-" + kHexA,
         "",
         false},
        {"uppercase hex compares after lowercasing",
         {{"4-F0000000000000000000000000000000"}, {"4-a0000000000000000000000000000000"}},
         "4-f0000000000000000000000000000000",
         "4-a0000000000000000000000000000000",
         "",
         false},
        {"only deleted leaves: higher pos wins", {{"2-z", true}, {"3-a", true}}, "3-a", "",
         "2-z", true},
        {"only deleted leaves: greater hash wins", {{"3-a", true}, {"3-b", true}}, "3-b", "",
         "3-a", true},
        {"mixed: order of conflicts and deleted conflicts",
         {{"4-a"}, {"3-y"}, {"3-z"}, {"5-q", true}, {"2-m", true}, {"5-r", true}, {"1-b"}},
         "4-a",
         "3-z 3-y 1-b",
         "5-r 5-q 2-m",
         false},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      RevTree tree = build(c.leaves);
      CHECK(tree.winner().rev.str() == c.winner);
      CHECK(revs(tree.conflicts()) == c.conflicts);
      CHECK(revs(tree.deleted_conflicts()) == c.deleted_conflicts);
      CHECK(tree.deleted() == c.deleted);
      CHECK(tree.winner().deleted == c.deleted);
      // leaves(): winner, then the rest in the same descending order.
      std::vector<RevInfo> leaves = tree.leaves();
      REQUIRE_FALSE(leaves.empty());
      CHECK(leaves[0].rev == tree.winner().rev);
      CHECK(leaves.size() == c.leaves.size());
    }
  }

  TEST_CASE("the winner is decided by pos, not by how much history was kept") {
    // A stemmed branch whose root is 10-a beats a full history ending at 3-z.
    RevTree tree = build({{"3-z 2-y 1-x"}, {"10-a"}});
    CHECK(tree.winner().rev.str() == "10-a");
    CHECK(revs(tree.conflicts()) == "3-z");
  }

  TEST_CASE("deleting leaves makes the document deleted only when every leaf is deleted") {
    RevTree tree = build({{"2-b 1-a"}, {"2-c 1-a"}});
    CHECK(tree.winner().rev.str() == "2-c");
    auto r = tree.merge(path("3-d 2-c"), true, true);
    CHECK(r.kind == MergeKind::kNewLeaf);
    CHECK_FALSE(tree.deleted());
    CHECK(tree.winner().rev.str() == "2-b");  // live beats the deeper tombstone
    CHECK(revs(tree.deleted_conflicts()) == "3-d");
    (void)tree.merge(path("3-e 2-b"), true, true);
    CHECK(tree.deleted());
    CHECK(tree.winner().rev.str() == "3-e");
    CHECK(tree.winner().deleted);
    CHECK(tree.conflicts().empty());
    CHECK(revs(tree.deleted_conflicts()) == "3-d");
    // Extending a tombstone revives the document.
    r = tree.merge(path("4-f 3-e"), false, true);
    CHECK(r.kind == MergeKind::kNewLeaf);
    CHECK_FALSE(tree.deleted());
    CHECK(tree.winner().rev.str() == "4-f");
    CHECK(RevTree().deleted() == false);
  }

  TEST_CASE("stem keeps each leaf and its nearest ancestors and splits old forks into roots") {
    struct Case {
      std::string name;
      std::vector<Step> steps;
      std::uint32_t limit;
      std::string removed;
      std::string shape_after;
    };
    const std::vector<Case> cases = {
        {"nothing to stem", {{"3-c 2-b 1-a"}}, 3, "", "1-a 2-b<1-a 3-c<2-b"},
        {"a chain keeps the newest limit revisions",
         {{"5-e 4-d 3-c 2-b 1-a"}},
         3,
         "1-a 2-b",
         "3-c 4-d<3-c 5-e<4-d"},
        {"limit 1 keeps only the leaves",
         {{"3-c 2-b 1-a"}, {"3-x 2-b"}},
         1,
         "1-a 2-b",
         "3-c 3-x"},
        {"a fork older than the limit becomes two roots",
         {{"4-d 3-c 2-b 1-a"}, {"4-y 3-x 2-b"}},
         2,
         "1-a 2-b",
         "3-c 3-x 4-d<3-c 4-y<3-x"},
        {"a short branch keeps the fork a long branch would drop",
         {{"5-e 4-d 3-c 2-b 1-a"}, {"3-x 2-b"}},
         2,
         "1-a 3-c",
         "2-b 3-x<2-b 4-d 5-e<4-d"},
        {"a revision is kept if any leaf keeps it",
         {{"3-c 2-b 1-a"}, {"4-e 3-d 2-b"}},
         3,
         "",
         "1-a 2-b<1-a 3-c<2-b 3-d<2-b 4-e<3-d"},
        {"separate roots are stemmed on their own",
         {{"3-c 2-b 1-a"}, {"9-z 8-y 7-x"}},
         2,
         "1-a 7-x",
         "2-b 3-c<2-b 8-y 9-z<8-y"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      RevTree tree = build(c.steps);
      const std::vector<RevInfo> leaves_before = tree.leaves();
      CHECK(revs(tree.stem(c.limit)) == c.removed);
      CHECK(shape(tree) == c.shape_after);
      CHECK(revs(tree.leaves()) == revs(leaves_before));  // leaves are always kept
      CHECK(tree.stem(c.limit).empty());                  // stemming is idempotent
      auto round = RevTree::decode(encoded(tree));
      REQUIRE(round.is_ok());
      CHECK(shape(*round) == c.shape_after);
    }
  }

  TEST_CASE("encode_single gives the bytes of a one-revision tree built by merge") {
    for (const char* text : {"1-967a00dff5e02add41819138abb3284d", "1-ABCDEF0123456789abcdef0123456789",
                             "7-notahexhash", "300-0123456789abcdef0123456789abcdef0"}) {
      for (bool deleted : {false, true}) {
        CAPTURE(text);
        CAPTURE(deleted);
        RevId r = rev(text);
        RevTree tree;
        tree.merge(std::vector<RevId>{r}, deleted, true);
        std::string single;
        RevTree::encode_single(r, deleted, &single);
        CHECK(single == encoded(tree));
        auto round = RevTree::decode(single);
        REQUIRE(round.is_ok());
        CHECK(round->winner().rev == r);
        CHECK(round->winner().deleted == deleted);
      }
    }
  }

  TEST_CASE("a stemmed tree re-grows from a longer path and stems back to the same tree") {
    RevTree tree = build({{"5-e 4-d 3-c 2-b 1-a"}});
    CHECK(revs(tree.stem(3)) == "1-a 2-b");
    const std::string stemmed = encoded(tree);
    auto r = tree.merge(path("5-e 4-d 3-c 2-b 1-a"), false, true);
    CHECK(r.kind == MergeKind::kInternalNode);
    CHECK(r.changed);  // re-grown...
    CHECK(tree.size() == 5);
    CHECK(revs(tree.stem(3)) == "1-a 2-b");  // ...and stemmed again
    CHECK(encoded(tree) == stemmed);         // so a writer sees no change

    // A longer path that also adds a revision re-grows, extends, then stems.
    r = tree.merge(path("6-f 5-e 4-d 3-c 2-b"), false, true);
    CHECK(r.kind == MergeKind::kNewLeaf);
    CHECK(revs(tree.stem(3)) == "2-b 3-c");
    CHECK(shape(tree) == "4-d 5-e<4-d 6-f<5-e");
  }

  TEST_CASE("stemming after every merge depends on order: a stale re-sent revision returns") {
    // CouchDB behaves the same (couchdb-semantics.md §1.10): once 2-b is
    // stemmed away nothing records that it has descendants.
    RevTree in_order;
    for (const char* p : {"2-b 1-a", "3-c 2-b", "4-d 3-c"}) {
      (void)in_order.merge(path(p), false, true);
      (void)in_order.stem(2);
    }
    RevTree reversed;
    for (const char* p : {"4-d 3-c", "3-c 2-b", "2-b 1-a"}) {
      (void)reversed.merge(path(p), false, true);
      (void)reversed.stem(2);
    }
    CHECK(shape(in_order) == "3-c 4-d<3-c");
    CHECK(shape(reversed) == "1-a 2-b<1-a 3-c 4-d<3-c");
    CHECK(revs(reversed.conflicts()) == "2-b");
  }

  TEST_CASE("revs_diff lists missing revs and the leaves that may be their ancestors") {
    RevTree tree = build({{"3-c 2-b 1-a"}, {"3-d 2-b", true}, {"2-x 1-a"}});
    struct Case {
      std::string request;
      std::string missing;
      std::string possible_ancestors;
    };
    const std::vector<Case> cases = {
        {"2-b 3-c", "", ""},
        // Leaves below pos 5, reversed leaves() order as CouchDB returns them.
        {"2-b 4-q 4-q 3-c 1-z 5-y", "4-q 1-z 5-y", "3-d 2-x 3-c"},
        {"3-z", "3-z", "2-x"},
        {"1-z", "1-z", ""},
        {"1-z 1-z 1-y", "1-z 1-y", ""},
    };
    for (const Case& c : cases) {
      CAPTURE(c.request);
      std::vector<RevId> request = path(c.request);
      RevTree::Diff diff = tree.revs_diff(request);
      CHECK(revs(diff.missing) == c.missing);
      CHECK(revs(diff.possible_ancestors) == c.possible_ancestors);
    }
    // Long requests take the set-based de-duplication.
    std::vector<RevId> many;
    for (int i = 0; i < 40; ++i) many.push_back(RevId{static_cast<std::uint64_t>(4 + i % 5), "m"});
    many.push_back(rev("1-a"));
    RevTree::Diff diff = tree.revs_diff(many);
    CHECK(revs(diff.missing) == "4-m 5-m 6-m 7-m 8-m");
    CHECK(revs(diff.possible_ancestors) == "3-d 2-x 3-c");
    // An empty tree is missing everything and offers no ancestors.
    diff = RevTree().revs_diff(path("2-b 1-a"));
    CHECK(revs(diff.missing) == "2-b 1-a");
    CHECK(diff.possible_ancestors.empty());
  }

  TEST_CASE("history walks from a revision to its root within a limit") {
    RevTree tree = build({{"4-d 3-c 2-b 1-a"}, {"3-x 2-b", true}});
    struct Case {
      std::string rev;
      std::uint32_t limit;
      std::string history;
    };
    const std::vector<Case> cases = {
        {"4-d", UINT32_MAX, "4-d 3-c 2-b 1-a"},
        {"4-d", 2, "4-d 3-c"},
        {"4-d", 1, "4-d"},
        {"4-d", 0, ""},
        {"3-x", 10, "3-x 2-b 1-a"},
        {"2-b", 10, "2-b 1-a"},
        {"5-e", 10, ""},
    };
    for (const Case& c : cases) {
      CAPTURE(c.rev);
      CAPTURE(c.limit);
      CHECK(revs(tree.history(rev(c.rev), c.limit)) == c.history);
    }
    std::vector<RevInfo> h = tree.history(rev("3-x"));
    REQUIRE(h.size() == 3);
    CHECK(h[0].deleted);
    CHECK(h[0].has_body);
    CHECK_FALSE(h[1].has_body);  // 2-b was only ever an ancestor
  }

  TEST_CASE("leaves_under lists the leaves at or below a revision in winner order") {
    RevTree tree = build({{"3-c 2-b 1-a"}, {"4-e 3-d 2-b"}, {"2-x 1-a", true}, {"7-q"}});
    struct Case {
      std::string rev;
      std::string leaves;
    };
    const std::vector<Case> cases = {
        {"1-a", "4-e 3-c 2-x"}, {"2-b", "4-e 3-c"}, {"3-d", "4-e"},
        {"3-c", "3-c"},         {"2-x", "2-x"},     {"7-q", "7-q"},
        {"9-z", ""},
    };
    for (const Case& c : cases) {
      CAPTURE(c.rev);
      CHECK(revs(tree.leaves_under(rev(c.rev))) == c.leaves);
    }
  }

  TEST_CASE("non_leaf_bodies and set_has_body track what compaction may drop") {
    RevTree tree = build({{"1-a"}, {"2-b 1-a"}, {"3-c 2-b"}});
    CHECK(revs(tree.non_leaf_bodies()) == "1-a 2-b");
    tree.set_has_body(rev("1-a"), false);
    tree.set_has_body(rev("9-z"), false);  // unknown: no-op
    CHECK(revs(tree.non_leaf_bodies()) == "2-b");
    CHECK(flags(tree) == "1-a: 2-b:B 3-c:B");
    tree.set_has_body(rev("1-a"), true);
    CHECK(revs(tree.non_leaf_bodies()) == "1-a 2-b");
  }

  TEST_CASE("validate_path accepts consecutive well-formed paths only") {
    struct Case {
      std::vector<RevId> path;
      bool ok;
    };
    const std::vector<Case> cases = {
        {path("1-a"), true},
        {path("3-c 2-b 1-a"), true},
        {path("9007199254740992-a"), true},
        {{}, false},
        {path("3-c 1-a"), false},
        {path("2-b 3-c"), false},
        {path("2-b 2-c"), false},
        {path("0-1"), false},
        {path("1-a 0-b"), false},
        {{RevId{2, "a"}, RevId{1, ""}}, false},
        {{RevId{1, "a b"}}, false},
        {{RevId{1, "0123456789ABCDEF0123456789ABCDEF"}}, false},
        {{RevId{(std::uint64_t{1} << 53) + 1, "a"}}, false},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(i);
      Status s = RevTree::validate_path(cases[i].path);
      CHECK(s.is_ok() == cases[i].ok);
      if (!s.is_ok()) CHECK(s.code() == ErrorCode::kBadRequest);
    }
  }

  TEST_CASE("encode and decode round-trip every kind of tree") {
    const std::vector<std::vector<Step>> trees = {
        {},
        {{"1-a"}},
        {{"3-c 2-b 1-a", true}},
        {{"1-a", false, false}},
        {{"2-" + kHexB + " 1-" + kHexA}, {"2-" + kHexA + " 1-" + kHexA, true}},
        {{"5-e 4-d"}, {"3-c 2-b 1-a"}, {"2-x 1-a", true}, {"9007199254740992-big"}},
        {{"7-" + std::string(31, 'f') + " 6-" + std::string(33, 'e') + " 5-Z"}},
        {{"2-b 1-a"}, {"1-a"}},
    };
    for (std::size_t i = 0; i < trees.size(); ++i) {
      CAPTURE(i);
      RevTree tree = build(trees[i]);
      std::string bytes = "prefix";  // encode appends
      tree.encode(&bytes);
      REQUIRE(bytes.compare(0, 6, "prefix") == 0);
      bytes.erase(0, 6);
      auto decoded = RevTree::decode(bytes);
      REQUIRE(decoded.is_ok());
      CHECK(decoded->edges() == tree.edges());
      CHECK(encoded(*decoded) == bytes);
      CHECK(decoded->size() == tree.size());
      if (!tree.empty()) {
        CHECK(decoded->winner().rev == tree.winner().rev);
        CHECK(revs(decoded->leaves()) == revs(tree.leaves()));
      }
    }
    // A 32-hex revision is stored in 16 bytes.
    RevTree hex = build({{"1-" + kHexA}});
    RevTree text = build({{"1-a"}});
    CHECK(encoded(hex).size() == encoded(text).size() + 16 - 2);
  }

  TEST_CASE("decode rejects malformed bytes with a corruption error") {
    // A valid tree "1-a" <- "2-b": version, count, then per revision
    // flags, pos delta, parent delta, hash.
    const std::string good = std::string("\x01\x02", 2) + std::string("\x02\x01\x00\x01" "a", 5) +
                             std::string("\x02\x01\x01\x01" "b", 5);
    REQUIRE(RevTree::decode(good).is_ok());
    REQUIRE(shape(*RevTree::decode(good)) == "1-a 2-b<1-a");
    struct Case {
      std::string name;
      std::string bytes;
    };
    auto with = [&](std::size_t at, char c) {
      std::string b = good;
      b[at] = c;
      return b;
    };
    const std::vector<Case> cases = {
        {"empty", ""},
        {"unknown version", with(0, '\x02')},
        {"count larger than the data", with(1, '\x03')},
        {"unknown flag", with(2, '\x0a')},
        {"pos 0", with(3, '\x00')},
        {"parent before the first revision", with(4, '\x01')},
        {"empty hash", std::string("\x01\x01\x02\x01\x00\x00xx", 8)},
        {"hash with a space", with(6, ' ')},
        {"parent pos mismatch", with(8, '\x02')},
        {"out of order", std::string("\x01\x02", 2) + std::string("\x02\x01\x00\x01" "b", 5) +
                             std::string("\x02\x00\x00\x01" "a", 5)},
        {"duplicate revision",
         std::string("\x01\x02", 2) + std::string("\x02\x01\x00\x01" "a", 5) +
             std::string("\x02\x00\x00\x01" "a", 5)},
        {"trailing byte", good + "x"},
        {"non-minimal varint", std::string("\x01\x82\x00", 3) + good.substr(2)},
        {"varint beyond 64 bits", std::string("\x01\x01\x02", 3) + std::string(10, '\xff')},
        {"pos beyond 2^53", std::string("\x01\x01\x02\x81\x80\x80\x80\x80\x80\x80\x10\x00\x01"
                                        "a",
                                        14)},
        {"32-character text hash",
         std::string("\x01\x01\x02\x01\x00\x20", 6) + kHexA},
        {"truncated raw hash", std::string("\x01\x01\x06\x01\x00", 5) + std::string(15, 'x')},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      auto r = RevTree::decode(c.bytes);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kCorruption);
    }
  }

  TEST_CASE("decode survives random bytes, truncations and bit flips") {
    std::uint64_t seed = 0x5eed0001;
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    std::vector<std::string> samples;
    samples.push_back(encoded(build({{"4-d 3-c 2-b 1-a"}, {"3-x 2-b", true}, {"9-q 8-p"}})));
    samples.push_back(encoded(build({{"2-" + kHexB + " 1-" + kHexA}, {"2-" + kHexA + " 1-" +
                                                                       kHexA}})));
    samples.push_back(encoded(build({{"1-a", false, false}})));
    for (const std::string& valid : samples) {
      REQUIRE(RevTree::decode(valid).is_ok());
      // Every strict prefix is truncated; one more byte is trailing garbage.
      for (std::size_t len = 0; len < valid.size(); ++len) {
        CAPTURE(len);
        CHECK_FALSE(RevTree::decode(valid.substr(0, len)).is_ok());
      }
      CHECK_FALSE(RevTree::decode(valid + '\0').is_ok());
      // Bit flips: if a flipped encoding decodes, it is canonical.
      for (std::size_t bit = 0; bit < valid.size() * 8; ++bit) {
        std::string flipped = valid;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        auto r = RevTree::decode(flipped);
        if (r.is_ok()) {
          CHECK(encoded(*r) == flipped);
        } else {
          CHECK(r.status().code() == ErrorCode::kCorruption);
        }
      }
    }
    // Random bytes, and random edits (replace, insert, erase, duplicate a
    // slice) of the valid samples, with bytes drawn mostly from values an
    // encoding is made of so that many inputs get deep into decode(). Every
    // input that decodes must be canonical and usable.
    static constexpr char kAlphabet[] = {'\x00', '\x01', '\x02', '\x03', '\x04', '\x06',
                                         'a',    'b',    'Z',    '\x80', '\xff', ' '};
    auto random_byte = [&] {
      return rng() % 8 == 0 ? static_cast<char>(rng()) : kAlphabet[rng() % sizeof(kAlphabet)];
    };
    std::size_t accepted = 0;
    for (int i = 0; i < 30000; ++i) {
      std::string bytes;
      if (i % 3 == 0) {
        std::size_t len = rng() % 40;
        for (std::size_t k = 0; k < len; ++k) bytes.push_back(random_byte());
      } else {
        bytes = samples[rng() % samples.size()];
        for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !bytes.empty(); --edits) {
          std::size_t at = rng() % bytes.size();
          switch (rng() % 4) {
            case 0: bytes[at] = random_byte(); break;
            case 1: bytes.insert(at, 1, random_byte()); break;
            case 2: bytes.erase(at, 1 + rng() % 4); break;
            default: bytes.insert(at, bytes.substr(rng() % bytes.size(), 1 + rng() % 8)); break;
          }
        }
      }
      auto r = RevTree::decode(bytes);
      if (!r.is_ok()) {
        CHECK(r.status().code() == ErrorCode::kCorruption);
        continue;
      }
      accepted += r->empty() ? 0 : 1;
      CHECK(encoded(*r) == bytes);
      if (!r->empty()) (void)r->winner();
      (void)r->leaves();
      (void)r->merge(path("1-a"), false, true);
      (void)r->stem(2);
    }
    CHECK(accepted > 100);  // the generator does reach valid non-empty trees
  }

  TEST_CASE("large trees at the default revs_limit merge, stem and encode correctly") {
    // revs_limit 1000: a long-lived document's chain is 1000 revisions and
    // each write merges a path, stems, and re-encodes the tree. (Run time
    // shows a quadratic regression; no timing assertion, to stay unflaky
    // under sanitizers.)
    RevTree tree;
    std::vector<RevId> history;
    for (std::uint64_t pos = 1; pos <= 3000; ++pos) {
      RevId next{pos, "h" + std::to_string(pos * 7919 % 10007)};
      std::vector<RevId> p = {next};
      if (!history.empty()) p.push_back(history.back());
      auto r = tree.merge(p, false, true);
      REQUIRE(r.kind == MergeKind::kNewLeaf);
      CHECK(tree.stem(1000).size() == (pos > 1000 ? 1 : 0));
      if (pos % 250 == 0) {
        std::string bytes;
        tree.encode(&bytes);
        auto decoded = RevTree::decode(bytes);
        REQUIRE(decoded.is_ok());
        CHECK(decoded->size() == tree.size());
      }
      history.push_back(next);
    }
    CHECK(tree.size() == 1000);
    CHECK(tree.winner().rev == history.back());
    // Replicating the full history (1000 revs) into a 1000-revision tree with
    // a conflicting branch: inserts land in the middle of the node order.
    std::vector<RevId> branch;
    for (std::uint64_t pos = 3001; pos > 2001; --pos) branch.push_back(RevId{pos, "x"});
    branch.push_back(history[2000]);  // 2001-..., the oldest revision kept
    auto r = tree.merge(branch, false, true);
    CHECK(r.kind == MergeKind::kNewBranch);
    CHECK(tree.size() == 2000);
    CHECK(revs(tree.stem(1000)).empty());
    CHECK(revs(tree.conflicts()) == history.back().str());
    std::vector<RevInfo> branch_history = tree.history(rev("3001-x"));
    REQUIRE(branch_history.size() == 1001);  // 1000 new revisions and the fork point
    CHECK(branch_history.back().rev == history[2000]);
    CHECK(tree.history(rev("3001-x"), 1000).size() == 1000);
  }
}
