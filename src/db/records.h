// The byte layouts of what a database stores in its LMDB sub-databases.
// docs/storage.md describes the layout and why it is so.
//
//   meta     name -> value             format, revs_limit, counts, update_seq ...
//   docs     doc id -> DocRecord       seq, deleted, winning rev, winning body
//   trees    doc id -> RevTree bytes   the revision tree (rev/rev_tree.h)
//   bodies   BodyKey -> body JSON      bodies of every stored revision but the winner
//   by_seq   seq (8 bytes BE) -> SeqRecord   one entry per document, at its latest seq
//   seq_counts  block (8 bytes BE) -> count   entries of by_seq per 1024 seqs
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

// seq_counts keys: the block a seq belongs to.
inline constexpr unsigned kSeqBlockBits = 10;
inline std::uint64_t seq_block(std::uint64_t seq) { return seq >> kSeqBlockBits; }

// meta values that are integers: 8 bytes big-endian.
std::string encode_u64(std::uint64_t v);
bool decode_u64(std::string_view bytes, std::uint64_t* v);

// ---- docs ----
struct DocRecord {
  std::uint64_t seq = 0;
  bool deleted = false;      // every leaf is deleted
  rev::RevId winner;
  std::string_view body;     // the winner's body; points into the decoded bytes
};
void encode_doc_record(const DocRecord& r, std::string* out);
// Everything but the body, written before it (so a caller can append the
// body without copying it twice).
void encode_doc_record_header(std::uint64_t seq, bool deleted, const rev::RevId& winner,
                              std::string* out);
Status decode_doc_record(std::string_view bytes, DocRecord* r);

// ---- by_seq ----
struct SeqRecord {
  bool deleted = false;
  rev::RevId winner;
  std::string_view id;  // points into the decoded bytes
};
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
