// RevTree: merge, winner, conflicts, stemming and the storage encoding.
//
// CouchDB keeps a document's history as nested lists (couch_key_tree) and
// merges a path by walking both structures side by side. We keep a flat
// vector of revisions sorted by (pos, hash) with parent indices instead: the
// tree a sequence of merges produces is then the same whatever the order of
// the paths, lookups are binary searches, and the encoding is canonical. The
// results match CouchDB's (winner, conflicts, merge kinds, stemming); the
// cases where CouchDB's nested form differs are noted where they arise.
#include "rev/rev_tree.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <set>
#include <utility>

namespace divan::rev {
namespace {

// A small array of int32 that lives on the stack for short paths (an
// interactive write merges a path of two revisions) and on the heap for long
// ones (a replicated write can carry revs_limit ancestors).
class IndexBuffer {
 public:
  explicit IndexBuffer(std::size_t size) {
    if (size > kInline) heap_.resize(size);
    data_ = size > kInline ? heap_.data() : inline_;
  }
  IndexBuffer(const IndexBuffer&) = delete;
  IndexBuffer& operator=(const IndexBuffer&) = delete;
  std::int32_t& operator[](std::size_t i) { return data_[i]; }

 private:
  static constexpr std::size_t kInline = 32;
  std::int32_t inline_[kInline];
  std::vector<std::int32_t> heap_;
  std::int32_t* data_;
};

// (pos, hash) ordering of revisions: the order of nodes_.
bool rev_less(std::uint64_t pos_a, std::string_view hash_a, std::uint64_t pos_b,
              std::string_view hash_b) {
  if (pos_a != pos_b) return pos_a < pos_b;
  return hash_a < hash_b;
}

// ---- encoding helpers ------------------------------------------------------
//
// Format (version 1):
//   byte     format version (1)
//   varint   number of revisions N
//   N times, in (pos, hash) order:
//     byte   flags: bit 0 deleted, bit 1 has_body, bit 2 hash is 16 raw bytes
//     varint pos, minus the previous revision's pos (the first: pos itself)
//     varint 0 for a root, else (own index - parent index)
//     hash   16 raw bytes (a 32-lowercase-hex hash), or varint length + text
// Varints are LEB128, minimal length. Deltas keep a long chain at about 20
// bytes per revision however large pos grows.

constexpr unsigned char kFormatVersion = 1;
constexpr unsigned kFlagDeleted = 1;
constexpr unsigned kFlagHasBody = 2;
constexpr unsigned kFlagRawHash = 4;
constexpr unsigned kKnownFlags = kFlagDeleted | kFlagHasBody | kFlagRawHash;
// The fewest bytes one encoded revision takes: flags, pos, parent, and a
// one-character text hash with its length.
constexpr std::size_t kMinEncodedRevision = 5;

constexpr std::size_t kMaxVarintSize = 10;

// Writes `value` as a varint at `p`; returns the end.
char* put_varint(char* p, std::uint64_t value) {
  while (value >= 0x80) {
    *p++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *p++ = static_cast<char>(value);
  return p;
}

// Reads from a byte range, never past its end.
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const unsigned char*>(bytes.data())), end_(p_ + bytes.size()) {}

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }

  bool byte(unsigned* out) {
    if (p_ == end_) return false;
    *out = *p_++;
    return true;
  }

  // A minimal-length LEB128 varint of at most 64 bits.
  bool varint(std::uint64_t* out) {
    std::uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      unsigned b = *p_++;
      if (shift == 63 && b > 1) return false;  // more than 64 bits
      value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift != 0) return false;  // not minimal: encode() never writes it
        *out = value;
        return true;
      }
    }
    return false;
  }

  bool bytes(std::size_t n, std::string_view* out) {
    if (n > remaining()) return false;
    *out = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

 private:
  const unsigned char* p_;
  const unsigned char* end_;
};

Status corrupt(const char* what) { return Status::corruption(std::string("rev tree: ") + what); }

}  // namespace

// ---- lookups ---------------------------------------------------------------

bool RevTree::empty() const { return nodes_.empty(); }
std::size_t RevTree::size() const { return nodes_.size(); }

std::int32_t RevTree::find(std::uint64_t pos, std::string_view hash) const {
  std::size_t lo = 0;
  std::size_t hi = nodes_.size();
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    const Node& n = nodes_[mid];
    if (rev_less(n.pos, hash_of(n), pos, hash)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < nodes_.size() && nodes_[lo].pos == pos && hash_of(nodes_[lo]) == hash) {
    return static_cast<std::int32_t>(lo);
  }
  return -1;
}

RevId RevTree::rev_of(std::int32_t index) const {
  const Node& n = nodes_[static_cast<std::size_t>(index)];
  RevId rev;
  rev.pos = n.pos;
  rev.hash.assign(hash_of(n));
  return rev;
}

RevInfo RevTree::info_of(std::int32_t index) const {
  const Node& n = nodes_[static_cast<std::size_t>(index)];
  RevInfo info;
  info.rev = rev_of(index);
  info.deleted = n.deleted;
  info.has_body = n.has_body;
  return info;
}

std::uint32_t RevTree::add_hash(std::string_view hash) {
  auto offset = static_cast<std::uint32_t>(hashes_.size());
  hashes_.append(hash);
  return offset;
}

bool RevTree::contains(const RevId& rev) const { return find(rev.pos, rev.hash) >= 0; }

std::optional<RevInfo> RevTree::info(const RevId& rev) const {
  std::int32_t i = find(rev.pos, rev.hash);
  if (i < 0) return std::nullopt;
  return info_of(i);
}

bool RevTree::is_leaf(const RevId& rev) const {
  std::int32_t i = find(rev.pos, rev.hash);
  return i >= 0 && nodes_[static_cast<std::size_t>(i)].children == 0;
}

// ---- merge -----------------------------------------------------------------

Status RevTree::validate_path(std::span<const RevId> path) {
  if (path.empty()) return Status::bad_request("Invalid revision path: empty");
  for (std::size_t i = 0; i < path.size(); ++i) {
    const RevId& rev = path[i];
    if (rev.pos < 1 || rev.pos > kMaxRevPos || !is_normalized_rev_hash(rev.hash)) {
      return Status::bad_request("Invalid rev format");
    }
    if (i > 0 && rev.pos + 1 != path[i - 1].pos) {
      return Status::bad_request("Invalid revision path: positions are not consecutive");
    }
  }
  return Status::ok();
}

// Instead of CouchDB's walk down two nested structures (couch_key_tree:
// merge_at / merge_extend), look every revision of the path up by identity:
//   * path revisions the tree lacks are added, each under the next (older)
//     path revision, the oldest as a root;
//   * a known root whose parent the path names learns that parent (CouchDB's
//     "offset > 0" case: history re-grown above a stemmed root);
//   * a known revision keeps its flags, except that one without a body takes
//     the newest revision's flags when those come with a body (value_pref).
// The kind follows from where the new revisions attach: to a former leaf
// (new_leaf), to an inner revision or nowhere (new_branch), or there are no
// new revisions below a known one (internal_node). CouchDB reports a path
// that only re-grows ancestors as internal_node too (merge_extend(A, [])).
// Where CouchDB differs: a path spanning two of its roots merges into the
// first root only, duplicating the second root's revisions (stem later
// rebuilds the tree); e.g. roots 1-a..2-b and 3-c..4-d with path
// [4-d, 3-c, 2-b] give new_leaf there and one joined tree, internal_node,
// here. Interactive writes ([new, parent]) never hit such cases.
MergeResult RevTree::merge(std::span<const RevId> path, bool deleted, bool has_body) {
  assert(validate_path(path).is_ok());
  MergeResult result;
  const std::size_t m = path.size();
  if (m == 0) return result;

  IndexBuffer index(m);  // index in nodes_ of path[i], or -1
  for (std::size_t i = 0; i < m; ++i) index[i] = find(path[i].pos, path[i].hash);

  // Use the path only as far as it agrees with the parents the tree knows.
  std::size_t end = m;
  for (std::size_t i = 0; i + 1 < m; ++i) {
    if (index[i] < 0) continue;
    std::int32_t parent = nodes_[static_cast<std::size_t>(index[i])].parent;
    if (parent >= 0 && parent != index[i + 1]) {
      end = i + 1;
      break;
    }
  }

  std::size_t first_known = end;
  for (std::size_t i = 0; i < end; ++i) {
    if (index[i] >= 0) {
      first_known = i;
      break;
    }
  }
  if (first_known == end) {
    result.kind = nodes_.empty() ? MergeKind::kNewLeaf : MergeKind::kNewBranch;
  } else if (first_known == 0) {
    result.kind = MergeKind::kInternalNode;
  } else {
    result.kind = nodes_[static_cast<std::size_t>(index[first_known])].children == 0
                      ? MergeKind::kNewLeaf
                      : MergeKind::kNewBranch;
  }

  if (index[0] >= 0) {
    Node& newest = nodes_[static_cast<std::size_t>(index[0])];
    if (!newest.has_body && has_body) {
      newest.deleted = deleted;
      newest.has_body = true;
      result.changed = true;
    }
  }

  std::size_t added = 0;
  std::size_t lowest_new = end;  // path index of the new revision with the lowest pos
  bool learns_parent = false;
  for (std::size_t i = 0; i < end; ++i) {
    if (index[i] < 0) {
      ++added;
      lowest_new = i;
    } else if (i + 1 < end && nodes_[static_cast<std::size_t>(index[i])].parent < 0) {
      learns_parent = true;
    }
  }
  if (added == 0 && !learns_parent) return result;
  result.changed = true;

  // Final index of every path revision once the new ones are in place.
  IndexBuffer final_index(m);
  const std::size_t old_size = nodes_.size();
  const bool append_only =
      added == 0 || old_size == 0 ||
      rev_less(nodes_.back().pos, hash_of(nodes_.back()), path[lowest_new].pos,
               path[lowest_new].hash);

  auto make_new_node = [&](std::size_t i) {
    Node node;
    node.pos = path[i].pos;
    node.hash_size = static_cast<std::uint32_t>(path[i].hash.size());
    node.hash_offset = add_hash(path[i].hash);
    if (i == 0) {
      node.deleted = deleted;
      node.has_body = has_body;
    }
    return node;
  };

  if (append_only) {
    // The common case (extending the newest revision of a chain, or a new
    // tree): new revisions sort after every known one, no index moves.
    std::int32_t next = static_cast<std::int32_t>(old_size);
    for (std::size_t i = end; i-- > 0;) final_index[i] = index[i] >= 0 ? index[i] : next++;
    nodes_.reserve(old_size + added);
    for (std::size_t i = end; i-- > 0;) {
      if (index[i] < 0) nodes_.push_back(make_new_node(i));
    }
  } else {
    // Merge the sorted known revisions with the new ones (which, in reverse
    // path order, are sorted too) and renumber the parents.
    std::vector<std::int32_t> old_to_new(old_size);
    std::vector<Node> merged(old_size + added);
    std::size_t a = 0;
    std::size_t b = end;  // walks the path backwards: ascending pos
    auto next_new = [&]() {
      while (b > 0 && index[b - 1] >= 0) --b;
      return b;  // path index + 1 of the next new revision, 0 when none is left
    };
    std::int32_t out = 0;
    for (std::size_t nb = next_new(); a < old_size || nb > 0; ++out) {
      bool take_old = nb == 0 || (a < old_size && rev_less(nodes_[a].pos, hash_of(nodes_[a]),
                                                           path[nb - 1].pos, path[nb - 1].hash));
      if (take_old) {
        old_to_new[a] = out;
        merged[static_cast<std::size_t>(out)] = nodes_[a];
        ++a;
      } else {
        final_index[nb - 1] = out;
        merged[static_cast<std::size_t>(out)] = make_new_node(nb - 1);
        b = nb - 1;
        nb = next_new();
      }
    }
    for (Node& node : merged) {
      // New nodes still have parent -1 here; only renumber the known ones.
      if (node.parent >= 0) node.parent = old_to_new[static_cast<std::size_t>(node.parent)];
    }
    for (std::size_t i = 0; i < end; ++i) {
      if (index[i] >= 0) final_index[i] = old_to_new[static_cast<std::size_t>(index[i])];
    }
    nodes_.swap(merged);
  }

  // Link every new revision, and every known root the path names a parent
  // for, to the next path revision.
  for (std::size_t i = 0; i + 1 < end; ++i) {
    Node& node = nodes_[static_cast<std::size_t>(final_index[i])];
    if (node.parent >= 0) continue;
    node.parent = final_index[i + 1];
    ++nodes_[static_cast<std::size_t>(node.parent)].children;
  }
  return result;
}

// ---- stemming --------------------------------------------------------------

// CouchDB's stem_tree computes, bottom-up, how many more levels each subtree
// may keep; a node survives iff some leaf below it is fewer than `limit`
// levels deeper. Here: dist[i] = levels from node i down to its nearest leaf,
// computed in one backwards pass (children sort after their parent).
std::vector<RevId> RevTree::stem(std::uint32_t limit) {
  assert(limit >= 1);
  if (limit == 0) limit = 1;
  std::vector<RevId> removed;
  const std::size_t n = nodes_.size();
  // Removing a node needs a chain of limit + 1 revisions below and including it.
  if (n <= limit || nodes_.back().pos - nodes_.front().pos < limit) return removed;

  std::vector<std::uint32_t> dist(n, UINT32_MAX);
  for (std::size_t i = n; i-- > 0;) {
    const Node& node = nodes_[i];
    if (node.children == 0) dist[i] = 0;
    if (node.parent >= 0) {
      auto p = static_cast<std::size_t>(node.parent);
      dist[p] = std::min(dist[p], dist[i] + 1);
    }
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) kept += dist[i] < limit ? 1 : 0;
  if (kept == n) return removed;

  std::vector<std::int32_t> remap(n, -1);
  std::vector<Node> out;
  out.reserve(kept);
  std::string hashes;
  hashes.reserve(hashes_.size());
  removed.reserve(n - kept);
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = nodes_[i];
    if (dist[i] >= limit) {
      removed.push_back(rev_of(static_cast<std::int32_t>(i)));
      continue;
    }
    remap[i] = static_cast<std::int32_t>(out.size());
    Node copy = node;
    copy.hash_offset = static_cast<std::uint32_t>(hashes.size());
    hashes.append(hash_of(node));
    copy.parent = node.parent >= 0 ? remap[static_cast<std::size_t>(node.parent)] : -1;
    copy.children = 0;
    out.push_back(copy);
  }
  for (const Node& node : out) {
    if (node.parent >= 0) ++out[static_cast<std::size_t>(node.parent)].children;
  }
  nodes_.swap(out);
  hashes_.swap(hashes);
  return removed;
}

// ---- winner, leaves, conflicts ---------------------------------------------

// THE winner rule, as CouchDB's couch_doc:to_doc_info_path: sort leaves
// descending by {not Deleted, {Pos, RevId}}:
//   1. a live leaf beats a deleted one;
//   2. then the higher pos wins (pos as stored; stemming does not change it);
//   3. then the greater hash, as bytes (for our lowercase 32-hex text this is
//      the order of CouchDB's 16 decoded bytes).
// PouchDB's winningRev applies the same three keys.
bool RevTree::ranks_before(const Node& a, const Node& b) const {
  if (a.deleted != b.deleted) return !a.deleted;
  if (a.pos != b.pos) return a.pos > b.pos;
  return hash_of(a) > hash_of(b);
}

std::vector<std::int32_t> RevTree::sorted_leaves() const {
  std::vector<std::int32_t> leaves;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].children == 0) leaves.push_back(static_cast<std::int32_t>(i));
  }
  std::sort(leaves.begin(), leaves.end(), [this](std::int32_t a, std::int32_t b) {
    return ranks_before(nodes_[static_cast<std::size_t>(a)], nodes_[static_cast<std::size_t>(b)]);
  });
  return leaves;
}

std::vector<RevInfo> RevTree::leaves() const {
  std::vector<RevInfo> out;
  for (std::int32_t i : sorted_leaves()) out.push_back(info_of(i));
  return out;
}

RevInfo RevTree::winner() const {
  assert(!nodes_.empty());
  std::int32_t best = -1;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    if (node.children != 0) continue;
    if (best < 0 || ranks_before(node, nodes_[static_cast<std::size_t>(best)])) {
      best = static_cast<std::int32_t>(i);
    }
  }
  return best < 0 ? RevInfo{} : info_of(best);
}

bool RevTree::deleted() const {
  if (nodes_.empty()) return false;
  for (const Node& node : nodes_) {
    if (node.children == 0 && !node.deleted) return false;
  }
  return true;
}

std::vector<RevId> RevTree::conflicts() const {
  std::vector<RevId> out;
  std::vector<std::int32_t> leaves = sorted_leaves();
  for (std::size_t k = 1; k < leaves.size(); ++k) {
    if (!nodes_[static_cast<std::size_t>(leaves[k])].deleted) out.push_back(rev_of(leaves[k]));
  }
  return out;
}

std::vector<RevId> RevTree::deleted_conflicts() const {
  std::vector<RevId> out;
  std::vector<std::int32_t> leaves = sorted_leaves();
  for (std::size_t k = 1; k < leaves.size(); ++k) {
    if (nodes_[static_cast<std::size_t>(leaves[k])].deleted) out.push_back(rev_of(leaves[k]));
  }
  return out;
}

// ---- history and queries ---------------------------------------------------

std::vector<RevInfo> RevTree::history(const RevId& rev, std::uint32_t limit) const {
  std::vector<RevInfo> out;
  for (std::int32_t i = find(rev.pos, rev.hash); i >= 0 && out.size() < limit;
       i = nodes_[static_cast<std::size_t>(i)].parent) {
    out.push_back(info_of(i));
  }
  return out;
}

std::vector<RevInfo> RevTree::leaves_under(const RevId& rev) const {
  std::vector<RevInfo> out;
  const std::int32_t top = find(rev.pos, rev.hash);
  if (top < 0) return out;
  const auto start = static_cast<std::size_t>(top);
  if (nodes_[start].children == 0) {
    out.push_back(info_of(top));
    return out;
  }
  // Descendants sort after `top`; one forward pass marks them.
  std::vector<char> under(nodes_.size() - start, 0);
  under[0] = 1;
  std::vector<std::int32_t> leaves;
  for (std::size_t i = start + 1; i < nodes_.size(); ++i) {
    std::int32_t p = nodes_[i].parent;
    if (p < top || !under[static_cast<std::size_t>(p) - start]) continue;
    under[i - start] = 1;
    if (nodes_[i].children == 0) leaves.push_back(static_cast<std::int32_t>(i));
  }
  std::sort(leaves.begin(), leaves.end(), [this](std::int32_t a, std::int32_t b) {
    return ranks_before(nodes_[static_cast<std::size_t>(a)], nodes_[static_cast<std::size_t>(b)]);
  });
  for (std::int32_t i : leaves) out.push_back(info_of(i));
  return out;
}

RevTree::Diff RevTree::revs_diff(std::span<const RevId> revs) const {
  Diff diff;
  // Repeats are found by a linear scan for the usual handful of revs and by
  // a set for long lists.
  constexpr std::size_t kLinearLimit = 16;
  std::set<std::pair<std::uint64_t, std::string_view>> seen;
  std::uint64_t max_missing_pos = 0;
  for (const RevId& rev : revs) {
    if (contains(rev)) continue;
    if (revs.size() <= kLinearLimit) {
      if (std::find(diff.missing.begin(), diff.missing.end(), rev) != diff.missing.end()) continue;
    } else if (!seen.emplace(rev.pos, std::string_view(rev.hash)).second) {
      continue;
    }
    diff.missing.push_back(rev);
    max_missing_pos = std::max(max_missing_pos, rev.pos);
  }
  if (diff.missing.empty()) return diff;
  std::vector<std::int32_t> leaves = sorted_leaves();
  for (auto it = leaves.rbegin(); it != leaves.rend(); ++it) {
    if (nodes_[static_cast<std::size_t>(*it)].pos < max_missing_pos) {
      diff.possible_ancestors.push_back(rev_of(*it));
    }
  }
  return diff;
}

std::vector<RevId> RevTree::non_leaf_bodies() const {
  std::vector<RevId> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].children != 0 && nodes_[i].has_body) {
      out.push_back(rev_of(static_cast<std::int32_t>(i)));
    }
  }
  return out;
}

void RevTree::set_has_body(const RevId& rev, bool has_body) {
  std::int32_t i = find(rev.pos, rev.hash);
  if (i >= 0) nodes_[static_cast<std::size_t>(i)].has_body = has_body;
}

std::vector<RevTree::Edge> RevTree::edges() const {
  std::vector<Edge> out;
  out.reserve(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Edge edge;
    edge.node = info_of(static_cast<std::int32_t>(i));
    if (nodes_[i].parent >= 0) edge.parent = rev_of(nodes_[i].parent);
    out.push_back(std::move(edge));
  }
  return out;
}

// ---- encoding --------------------------------------------------------------

// Each revision is assembled in a small stack buffer and appended with one
// call (two for a text hash): this runs on every document write.
namespace {

// One node of the encoded form: flags, the position as a delta from the
// previous node's, the distance back to the parent (0 for a root), and the
// hash (16 raw bytes when it is 32 lowercase hex digits).
void encode_node(bool deleted, bool has_body, std::uint64_t pos_delta, std::uint64_t parent_delta,
                 std::string_view hash, std::string* out) {
  char buf[1 + 3 * kMaxVarintSize + kRawHashSize];
  char raw_hash[kRawHashSize];
  const bool raw = hex_hash_to_raw(hash, raw_hash);
  unsigned flags = (deleted ? kFlagDeleted : 0) | (has_body ? kFlagHasBody : 0) |
                   (raw ? kFlagRawHash : 0);
  char* p = buf;
  *p++ = static_cast<char>(flags);
  p = put_varint(p, pos_delta);
  p = put_varint(p, parent_delta);
  if (raw) {
    std::memcpy(p, raw_hash, kRawHashSize);
    p += kRawHashSize;
    out->append(buf, p);
  } else {
    p = put_varint(p, hash.size());
    out->append(buf, p);
    out->append(hash);
  }
}

void encode_count(std::size_t count, std::string* out) {
  char buf[1 + kMaxVarintSize];
  buf[0] = static_cast<char>(kFormatVersion);
  out->append(buf, put_varint(buf + 1, count));
}

}  // namespace

void RevTree::encode(std::string* out) const {
  encode_count(nodes_.size(), out);
  std::uint64_t prev_pos = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    encode_node(node.deleted, node.has_body, node.pos - prev_pos,
                node.parent < 0 ? 0 : i - static_cast<std::size_t>(node.parent), hash_of(node),
                out);
    prev_pos = node.pos;
  }
}

void RevTree::encode_single(const RevId& rev, bool deleted, std::string* out) {
  encode_count(1, out);
  encode_node(deleted, /*has_body=*/true, rev.pos, 0, rev.hash, out);
}

Result<RevTree> RevTree::decode(std::string_view bytes) {
  Reader in(bytes);
  unsigned version = 0;
  if (!in.byte(&version)) return corrupt("empty");
  if (version != kFormatVersion) return corrupt("unknown format version");
  std::uint64_t count = 0;
  if (!in.varint(&count)) return corrupt("bad revision count");
  if (count > in.remaining() / kMinEncodedRevision || count > INT32_MAX) {
    return corrupt("revision count too large");
  }

  RevTree tree;
  tree.nodes_.reserve(count);
  // A raw 16-byte hash becomes 32 characters; text is copied as is.
  tree.hashes_.reserve(std::min<std::size_t>(in.remaining(), count * kRawHashSize) * 2);
  std::uint64_t prev_pos = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    unsigned flags = 0;
    if (!in.byte(&flags)) return corrupt("truncated");
    if ((flags & ~kKnownFlags) != 0) return corrupt("unknown flags");
    std::uint64_t delta = 0;
    if (!in.varint(&delta)) return corrupt("bad pos");
    if (delta > kMaxRevPos - prev_pos) return corrupt("pos out of range");
    Node node;
    node.pos = prev_pos + delta;
    if (node.pos < 1) return corrupt("pos out of range");
    std::uint64_t parent_delta = 0;
    if (!in.varint(&parent_delta)) return corrupt("bad parent");
    if (parent_delta > i) return corrupt("parent out of range");
    if (parent_delta > 0) {
      auto parent = static_cast<std::size_t>(i - parent_delta);
      if (tree.nodes_[parent].pos + 1 != node.pos) return corrupt("parent pos mismatch");
      node.parent = static_cast<std::int32_t>(parent);
      ++tree.nodes_[parent].children;
    }
    node.hash_offset = static_cast<std::uint32_t>(tree.hashes_.size());
    std::string_view raw;
    if ((flags & kFlagRawHash) != 0) {
      if (!in.bytes(kRawHashSize, &raw)) return corrupt("truncated hash");
      append_raw_hash_as_hex(raw.data(), &tree.hashes_);
    } else {
      std::uint64_t size = 0;
      if (!in.varint(&size)) return corrupt("bad hash length");
      if (size > in.remaining() || !in.bytes(static_cast<std::size_t>(size), &raw)) {
        return corrupt("truncated hash");
      }
      // 32-character hashes are always lowercase hex, which encode() stores raw.
      if (raw.size() == kHexHashSize || !is_normalized_rev_hash(raw)) return corrupt("bad hash");
      if (tree.hashes_.size() + raw.size() > UINT32_MAX) return corrupt("hashes too large");
      tree.hashes_.append(raw);
    }
    node.hash_size = static_cast<std::uint32_t>(tree.hashes_.size() - node.hash_offset);
    node.deleted = (flags & kFlagDeleted) != 0;
    node.has_body = (flags & kFlagHasBody) != 0;
    if (i > 0) {
      const Node& prev = tree.nodes_.back();
      if (!rev_less(prev.pos, tree.hash_of(prev), node.pos, tree.hash_of(node))) {
        return corrupt("revisions out of order");
      }
    }
    tree.nodes_.push_back(node);
    prev_pos = node.pos;
  }
  if (in.remaining() != 0) return corrupt("trailing bytes");
  return tree;
}

}  // namespace divan::rev
