// The byte layouts of what a database stores in its LMDB sub-databases.
// docs/storage.md describes the layout and why it is so.
//
//   meta     name -> value             format, revs_limit, counts, update_seq,
//                                      and per-block counts of by_seq entries
//   docs     doc id -> DocRecord       seq, deleted, winning rev, revision tree,
//                                      winning body
//   bodies   BodyKey -> body JSON      bodies of every stored revision but the winner
//   by_seq   seq (8 bytes BE) -> SeqRecord   one entry per document, at its latest seq
//   local    doc id -> LocalRecord     _local documents
//
// Every decode function checks bounds and returns corruption on bad bytes.
#ifndef DIVAN_DB_RECORDS_H_
#define DIVAN_DB_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "divan/status.h"
#include "rev/rev_id.h"

namespace divan::db {

// ---- primitives ----
void put_varint(std::string* out, std::uint64_t v);
// Reads a varint from the front of `in` and advances it; false if malformed.
bool get_varint(std::string_view* in, std::uint64_t* v);
void put_rev(std::string* out, const rev::RevId& rev);
bool get_rev(std::string_view* in, rev::RevId* rev);

// by_seq keys: 8 bytes big-endian, so byte order is numeric order.
std::string seq_key(std::uint64_t seq);
bool decode_seq_key(std::string_view key, std::uint64_t* seq);

// Sequence blocks: how many by_seq entries fall in each block of 1024
// sequences, kept in `meta` under "\x01" + the block (8 bytes BE), so that
// every commit's bookkeeping dirties one sub-database, not two.
inline constexpr unsigned kSeqBlockBits = 10;
inline constexpr char kSeqBlockPrefix = '\x01';
inline std::uint64_t seq_block(std::uint64_t seq) { return seq >> kSeqBlockBits; }
std::string seq_block_key(std::uint64_t block);
// The block of a `meta` key, or false if the key is not a block key.
bool decode_seq_block_key(std::string_view key, std::uint64_t* block);

// meta values that are integers: 8 bytes big-endian.
std::string encode_u64(std::uint64_t v);
bool decode_u64(std::string_view bytes, std::uint64_t* v);

// ---- docs ----
// One record per document holds its tree too: a write dirties one B-tree
// leaf per document instead of two (docs/storage.md). The winner's body is
// kept in the document's by_seq entry, which is appended at the end of its
// tree and so fills whole pages, while ids land anywhere in `docs`
// (docs/storage.md). Records of the first layout, which held the body at
// their end, stay readable: `body_in_seq` tells which a record is.
struct DocRecord {
  std::uint64_t seq = 0;
  bool deleted = false;      // every leaf is deleted
  bool body_in_seq = true;   // false: the body is `body` (the first layout)
  rev::RevId winner;
  std::string_view tree;     // RevTree::encode() bytes; points into the decoded bytes
  std::string_view body;     // the first layout's body; points into the decoded bytes
};
// Writes `r` in its own layout (compaction keeps a record's layout).
void encode_doc_record(const DocRecord& r, std::string* out);
// A record of the current layout (the body goes to by_seq).
void encode_doc_record_header(std::uint64_t seq, bool deleted, const rev::RevId& winner,
                              std::string_view tree, std::string* out);
// The header in two parts, for a writer that learns the sequence last: the
// head (flags and seq), then the winner and the tree.
// encode_doc_record_head(...) + encode_doc_record_winner(...) is
// encode_doc_record_header(...).
void encode_doc_record_head(std::uint64_t seq, bool deleted, std::string* out);
void encode_doc_record_winner(const rev::RevId& winner, std::string_view tree, std::string* out);
Status decode_doc_record(std::string_view bytes, DocRecord* r);

// ---- by_seq ----
struct SeqRecord {
  bool deleted = false;
  bool has_body = true;  // false: an entry of the first layout, without the body
  rev::RevId winner;
  std::string_view id;    // points into the decoded bytes
  std::string_view body;  // the winner's body; points into the decoded bytes
};
// The entry up to the body, which the caller appends.
void encode_seq_record(bool deleted, const rev::RevId& winner, std::string_view id,
                       std::string* out);
Status decode_seq_record(std::string_view bytes, SeqRecord* r);

// ---- bodies ----
// Length-prefixed id then rev, so ids holding any bytes cannot collide.
void encode_body_key(std::string_view id, const rev::RevId& rev, std::string* out);

// ---- local ----
struct LocalRecord {
  std::uint64_t rev = 0;  // the N of "0-N"
  std::string_view body;
};
void encode_local_record(std::uint64_t rev, std::string_view body, std::string* out);
Status decode_local_record(std::string_view bytes, LocalRecord* r);

}  // namespace divan::db

#endif  // DIVAN_DB_RECORDS_H_
