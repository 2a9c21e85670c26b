// RevTree: one document's revision history, as CouchDB's couch_key_tree keeps
// it (couchdb-semantics.md §1.3-1.10). A pure value: no I/O, no JSON, no HTTP.
//
// Model. The tree is a forest of revisions. A revision is identified by its
// RevId (pos, hash); each revision appears once and has at most one parent,
// whose pos is one lower. A revision whose parent is unknown (stemmed away, or
// never sent) is a root. Leaves (revisions without children) are the
// document's current revisions; more than one leaf means conflicts. Every
// revision carries two flags: `deleted` (it is a tombstone) and `has_body`
// (its body is stored; false for ancestors known only by id and for bodies
// dropped by compaction).
//
// This identity-based form is what CouchDB's nested-list form converges to
// once each write is stemmed (CouchDB's stem rebuilds the tree from every
// leaf's path when it finds a revision twice); it makes merge results independent
// of the order in which paths arrive. If two paths name different parents for
// the same revision (only possible with forged input, since a hash covers its
// parent), the parent already known is kept and the rest of the newer path's
// ancestry, above that revision, is ignored.
//
// Stemming after every merge (what CouchDB does) is not order-independent:
// a revision re-sent after stemming dropped it comes back, as a leaf if
// nothing sent with it names its children (couchdb-semantics.md §1.10).
//
// Thread-safety: a RevTree is a value; share it read-only or copy it.
#ifndef DIVAN_REV_REV_TREE_H_
#define DIVAN_REV_REV_TREE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "divan/status.h"
#include "rev/rev_id.h"

namespace divan::rev {

struct RevInfo {
  RevId rev;
  bool deleted = false;
  bool has_body = false;
  friend bool operator==(const RevInfo&, const RevInfo&) = default;
};

// What a merge did (couch_key_tree's result kinds).
enum class MergeKind {
  kNewLeaf,       // the path extended an existing leaf, or the tree was empty
  kNewBranch,     // the path added a sibling or a new root
  kInternalNode,  // nothing new below: the path's newest revision was known
};

struct MergeResult {
  MergeKind kind = MergeKind::kInternalNode;
  // True if the tree changed in any way: a revision was added, a parent link
  // was learnt, or a body/deleted flag was filled in for a revision that had
  // none. A write whose merge changed nothing gets no new update sequence.
  // Note: CouchDB compares the tree after stemming. A re-sent path can re-grow
  // ancestors above a root (changed is true) that the following stem() drops
  // again; to decide "nothing changed" as CouchDB does, compare encode()
  // bytes (canonical) before the merge and after the stem.
  bool changed = false;
};

class RevTree {
 public:
  RevTree() = default;

  bool empty() const;
  std::size_t size() const;  // number of revisions

  // Merges a linear history into the tree. `path` lists revisions newest
  // first with consecutive positions (path[i].pos == path[0].pos - i) and is
  // not empty. The newest revision gets the `deleted` and `has_body`
  // arguments; the others are ancestors known only by id (has_body false,
  // deleted false) unless the tree already knows them. A known revision's
  // stored flags are never overwritten by a re-sent one, except that a
  // revision without a body takes the body flags of a re-sent revision that
  // has one (CouchDB's "prefer a real value"). If the tree already knows a
  // different parent for one of the path's revisions, that parent is kept
  // and the path's older entries are ignored.
  //
  // Kind: kNewLeaf if the tree was empty or the path's new revisions hang
  // below what was a leaf; kNewBranch if they hang below an inner revision or
  // form a new root; kInternalNode if the newest revision was already known
  // (even if ancestors were re-grown above a root: see `changed`).
  // REQUIRES: path is valid (see validate_path).
  MergeResult merge(std::span<const RevId> path, bool deleted, bool has_body);

  // Checks that `path` is non-empty, positions are consecutive (so no
  // revision repeats), every pos is in [1, kMaxRevPos], and every hash is in
  // normalised form (is_normalized_rev_hash); RevIds from RevId::parse and
  // normalize_rev_hash always are. Errors: bad_request.
  static Status validate_path(std::span<const RevId> path);

  // Keeps, for every leaf, the leaf and its `limit - 1` nearest ancestors;
  // drops every other revision. A kept revision whose parent was dropped
  // becomes a root. Returns the revisions removed, sorted by (pos, hash), so
  // their bodies can be deleted. Leaves are never removed and no revision
  // becomes a leaf. REQUIRES: limit >= 1.
  std::vector<RevId> stem(std::uint32_t limit);

  bool contains(const RevId& rev) const;
  // The flags of `rev`, or nullopt if unknown.
  std::optional<RevInfo> info(const RevId& rev) const;
  bool is_leaf(const RevId& rev) const;

  // Every leaf, in CouchDB's order: the winner first, then descending by
  // (not deleted, pos, hash) (couchdb-semantics.md §1.8-1.9).
  // REQUIRES (for winner): !empty().
  std::vector<RevInfo> leaves() const;
  RevInfo winner() const;
  // True iff every leaf is deleted (the document is deleted). False for an
  // empty tree.
  bool deleted() const;

  // `_conflicts`: non-deleted leaves other than the winner, in leaves() order.
  std::vector<RevId> conflicts() const;
  // `_deleted_conflicts`: deleted leaves other than the winner, same order.
  std::vector<RevId> deleted_conflicts() const;

  // The revisions from `rev` up to its root, newest first, at most `limit`
  // of them (for `_revisions` and `_revs_info`). Empty if `rev` is unknown.
  std::vector<RevInfo> history(const RevId& rev,
                               std::uint32_t limit = UINT32_MAX) const;

  // The leaves at or below `rev` (for latest=true), in leaves() order.
  // Empty if `rev` is unknown.
  std::vector<RevInfo> leaves_under(const RevId& rev) const;

  // `_revs_diff` for this document: of `revs`, those not in the tree (in the
  // given order, without repeats) and, if any are missing, the possible
  // ancestors: the leaves (deleted ones too) whose pos is lower than the
  // highest missing pos, in CouchDB's order, which is the reverse of leaves()
  // order (couch_db:find_missing folds over the sorted leaves, prepending).
  // On an empty tree every requested rev is missing and there are no
  // possible ancestors.
  struct Diff {
    std::vector<RevId> missing;
    std::vector<RevId> possible_ancestors;
  };
  Diff revs_diff(std::span<const RevId> revs) const;

  // Non-leaf revisions that still have a body (what compaction drops).
  std::vector<RevId> non_leaf_bodies() const;
  // Sets has_body on a known revision; no-op if unknown.
  void set_has_body(const RevId& rev, bool has_body);

  // Every revision with its parent, sorted by rev (pos, then hash), for
  // comparing trees in tests: equal trees give equal vectors.
  struct Edge {
    RevInfo node;
    std::optional<RevId> parent;
    friend bool operator==(const Edge&, const Edge&) = default;
  };
  std::vector<Edge> edges() const;

  // Compact binary form for storage, and back. encode() APPENDS to *out (as
  // leveldb's Put* helpers do; clear it first to reuse a buffer). The form is
  // canonical: equal trees encode to equal bytes. decode() rejects anything
  // encode() could not have produced (truncation, trailing bytes, bad
  // varints, unknown flags, unsorted or duplicate revisions, a parent whose
  // pos is not one lower, invalid hashes) with a corruption error; it never
  // reads outside `bytes`.
  void encode(std::string* out) const;
  // Appends what encode() gives for a tree holding only `rev`, with its
  // body, built from nothing (a new document's tree, without the tree).
  static void encode_single(const RevId& rev, bool deleted, std::string* out);
  static Result<RevTree> decode(std::string_view bytes);

 private:
  // One revision. nodes_ is kept sorted by (pos, hash), so a parent (pos - 1)
  // always precedes its children, a lookup is a binary search, and encode()
  // is canonical. Hashes live back to back in hashes_ rather than in one
  // std::string per node: decoding a tree then costs two allocations, not
  // one per revision (a 32-hex hash does not fit the small-string buffer).
  struct Node {
    std::uint64_t pos = 0;
    std::uint32_t hash_offset = 0;  // the hash is hashes_[offset, offset + size)
    std::uint32_t hash_size = 0;
    std::int32_t parent = -1;    // index into nodes_, -1 for a root
    std::uint32_t children = 0;  // number of children
    bool deleted = false;
    bool has_body = false;
  };

  std::string_view hash_of(const Node& node) const {
    return std::string_view(hashes_.data() + node.hash_offset, node.hash_size);
  }
  // Index of the revision, or -1.
  std::int32_t find(std::uint64_t pos, std::string_view hash) const;
  RevId rev_of(std::int32_t index) const;
  RevInfo info_of(std::int32_t index) const;
  // CouchDB's winner order: true if `a` sorts before `b` in leaves().
  bool ranks_before(const Node& a, const Node& b) const;
  // Indices of all leaves, in leaves() order.
  std::vector<std::int32_t> sorted_leaves() const;
  std::uint32_t add_hash(std::string_view hash);  // appends to hashes_, returns offset

  std::vector<Node> nodes_;
  std::string hashes_;  // the hash text of every node, back to back
};

}  // namespace divan::rev

#endif  // DIVAN_REV_REV_TREE_H_
