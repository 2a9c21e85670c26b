// RevId: one revision's identity, "<pos>-<hash>".
//
// Pure values: no I/O, no JSON. See couchdb-semantics.md §1.1.
#ifndef DIVAN_REV_REV_ID_H_
#define DIVAN_REV_REV_ID_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "divan/status.h"

namespace divan::rev {

// pos is the revision's depth in its history (1 for a first write; 0 only
// for _local documents). hash is kept in its output form: a 32-character hex
// hash is stored lowercased (as CouchDB echoes it), any other hash exactly as
// given. Comparing lowercase hex text orders the same as CouchDB's comparison
// of the decoded bytes.
struct RevId {
  std::uint64_t pos = 0;
  std::string hash;

  // Parses "N-hash". Rules (CouchDB couch_doc:parse_rev): split at the first
  // '-'; N must be a decimal integer without sign, at most 2^53; hash must be
  // non-empty, at most kMaxRevHashLength characters of printable ASCII
  // without whitespace; a 32-character hash must
  // be hex (it is lowercased). Errors: bad_request "Invalid rev format".
  static Result<RevId> parse(std::string_view text);

  std::string str() const;  // "N-hash"

  friend bool operator==(const RevId&, const RevId&) = default;
  // Orders by pos, then hash bytes.
  friend std::strong_ordering operator<=>(const RevId& a, const RevId& b) {
    if (auto c = a.pos <=> b.pos; c != 0) return c;
    return a.hash.compare(b.hash) <=> 0;
  }
};

// Checks a bare hash as found in "_revisions.ids" and normalises it in place
// (lowercases 32-hex). Errors: bad_request "Invalid rev format".
Status normalize_rev_hash(std::string& hash);

// True iff `hash` is valid and already in the form normalize_rev_hash()
// produces: non-empty printable ASCII without whitespace, and lowercase hex if
// it is 32 characters long. Every RevId that parse() returns passes.
bool is_normalized_rev_hash(std::string_view hash);

// A 32-lowercase-hex hash (an MD5, as divan and CouchDB make them) in its
// 16 raw bytes, as storage keeps it.
inline constexpr std::size_t kRawHashSize = 16;
inline constexpr std::size_t kHexHashSize = 32;
// If `hash` is 32 lowercase hex digits, writes its 16 bytes to `raw` and
// returns true; otherwise returns false (and `raw` holds garbage).
bool hex_hash_to_raw(std::string_view hash, char* raw);
// Appends the 32 lowercase hex digits of the 16 bytes at `raw` to `out`.
void append_raw_hash_as_hex(const char* raw, std::string* out);

// The longest hash parse() accepts. CouchDB and PouchDB make 32 hex digits,
// Couchbase Lite 40; the bound keeps every storage key that holds a
// revision within LMDB's key size.
inline constexpr std::size_t kMaxRevHashLength = 100;

// The largest pos parse() accepts: 2^53, beyond which a JSON number in a
// JavaScript client no longer holds every integer exactly.
inline constexpr std::uint64_t kMaxRevPos = std::uint64_t{1} << 53;

// The id of a new revision: "<parent pos + 1>-<md5 hex>", where the MD5 runs
// over a canonical byte string of (deleted flag, parent pos, parent hash, body,
// attachment digests), so the same edit made on two replicas yields the same
// revision. `parent` is nullptr for a first revision. `canonical_body` is the
// body's compact JSON without "_" members. `attachment_digests` holds
// "name\0content_type\0digest" entries sorted by name (empty for now).
RevId new_rev_id(const RevId* parent, bool deleted, std::string_view canonical_body,
                 const std::vector<std::string>& attachment_digests = {});

// The same, into `out`, whose hash keeps its memory: for a caller that
// computes many revisions and keeps none of them.
void new_rev_id(const RevId* parent, bool deleted, std::string_view canonical_body, RevId* out,
                const std::vector<std::string>& attachment_digests = {});

}  // namespace divan::rev

#endif  // DIVAN_REV_REV_ID_H_
