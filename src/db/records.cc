#include "db/records.h"

namespace divan::db {
namespace {

constexpr std::uint8_t kDeletedFlag = 1;
// docs: the winner's body is in the document's by_seq entry, not here.
// by_seq: the entry holds the winner's body (after a length-prefixed id).
// Records without it are of the first layout, which stays readable.
constexpr std::uint8_t kBodyInSeqFlag = 2;

Status corrupt(const char* what) { return Status::corruption(std::string("bad stored ") + what); }

}  // namespace

void put_varint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool get_varint(std::string_view* in, std::uint64_t* v) {
  std::uint64_t result = 0;
  for (unsigned shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<std::uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// A rev is "pos, hash": a 32-lowercase-hex hash as 16 raw bytes (flag bit
// 0 of the length word set), any other hash as its text.
void put_rev(std::string* out, const rev::RevId& rev) {
  put_varint(out, rev.pos);
  char raw[rev::kRawHashSize];
  if (rev::hex_hash_to_raw(rev.hash, raw)) {
    put_varint(out, (rev::kRawHashSize << 1) | 1);
    out->append(raw, sizeof raw);
  } else {
    put_varint(out, rev.hash.size() << 1);
    out->append(rev.hash);
  }
}

bool get_rev(std::string_view* in, rev::RevId* rev) {
  std::uint64_t len_word = 0;
  if (!get_varint(in, &rev->pos) || !get_varint(in, &len_word)) return false;
  std::uint64_t len = len_word >> 1;
  if (len > in->size()) return false;
  if (len_word & 1) {
    if (len != rev::kRawHashSize) return false;
    rev->hash.clear();
    rev::append_raw_hash_as_hex(in->data(), &rev->hash);
  } else {
    rev->hash.assign(in->substr(0, len));
  }
  in->remove_prefix(len);
  return true;
}

std::string encode_u64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

bool decode_u64(std::string_view bytes, std::uint64_t* v) {
  if (bytes.size() != 8) return false;
  std::uint64_t r = 0;
  for (char c : bytes) r = (r << 8) | static_cast<std::uint8_t>(c);
  *v = r;
  return true;
}

std::string seq_key(std::uint64_t seq) { return encode_u64(seq); }

std::string seq_block_key(std::uint64_t block) { return kSeqBlockPrefix + encode_u64(block); }

bool decode_seq_block_key(std::string_view key, std::uint64_t* block) {
  return key.size() == 9 && key[0] == kSeqBlockPrefix && decode_u64(key.substr(1), block);
}
bool decode_seq_key(std::string_view key, std::uint64_t* seq) { return decode_u64(key, seq); }

void encode_doc_record_head(std::uint64_t seq, bool deleted, std::string* out) {
  out->push_back(static_cast<char>((deleted ? kDeletedFlag : 0) | kBodyInSeqFlag));
  put_varint(out, seq);
}

void encode_doc_record_header(std::uint64_t seq, bool deleted, const rev::RevId& winner,
                              std::string_view tree, std::string* out) {
  encode_doc_record_head(seq, deleted, out);
  encode_doc_record_winner(winner, tree, out);
}

void encode_doc_record_winner(const rev::RevId& winner, std::string_view tree, std::string* out) {
  put_rev(out, winner);
  put_varint(out, tree.size());
  out->append(tree);
}

void encode_doc_record(const DocRecord& r, std::string* out) {
  out->clear();
  if (r.body_in_seq) {
    encode_doc_record_header(r.seq, r.deleted, r.winner, r.tree, out);
    return;
  }
  out->push_back(static_cast<char>(r.deleted ? kDeletedFlag : 0));
  put_varint(out, r.seq);
  encode_doc_record_winner(r.winner, r.tree, out);
  out->append(r.body);
}

Status decode_doc_record(std::string_view bytes, DocRecord* r) {
  if (bytes.empty()) return corrupt("document record");
  auto flags = static_cast<std::uint8_t>(bytes.front());
  bytes.remove_prefix(1);
  if ((flags & ~(kDeletedFlag | kBodyInSeqFlag)) != 0) return corrupt("document record flags");
  r->deleted = flags & kDeletedFlag;
  r->body_in_seq = flags & kBodyInSeqFlag;
  std::uint64_t tree_size = 0;
  if (!get_varint(&bytes, &r->seq) || !get_rev(&bytes, &r->winner) ||
      !get_varint(&bytes, &tree_size) || tree_size > bytes.size()) {
    return corrupt("document record");
  }
  r->tree = bytes.substr(0, tree_size);
  r->body = bytes.substr(tree_size);
  if (r->body_in_seq && !r->body.empty()) return corrupt("document record");
  return Status::ok();
}

void encode_seq_record(bool deleted, const rev::RevId& winner, std::string_view id,
                       std::string* out) {
  out->clear();
  out->push_back(static_cast<char>((deleted ? kDeletedFlag : 0) | kBodyInSeqFlag));
  put_rev(out, winner);
  put_varint(out, id.size());
  out->append(id);
}

Status decode_seq_record(std::string_view bytes, SeqRecord* r) {
  if (bytes.empty()) return corrupt("sequence record");
  auto flags = static_cast<std::uint8_t>(bytes.front());
  bytes.remove_prefix(1);
  if ((flags & ~(kDeletedFlag | kBodyInSeqFlag)) != 0) return corrupt("sequence record flags");
  r->deleted = flags & kDeletedFlag;
  r->has_body = flags & kBodyInSeqFlag;
  if (!get_rev(&bytes, &r->winner)) return corrupt("sequence record");
  if (!r->has_body) {  // the first layout: the id is the rest
    if (bytes.empty()) return corrupt("sequence record");
    r->id = bytes;
    r->body = {};
    return Status::ok();
  }
  std::uint64_t id_size = 0;
  if (!get_varint(&bytes, &id_size) || id_size == 0 || id_size > bytes.size()) {
    return corrupt("sequence record");
  }
  r->id = bytes.substr(0, id_size);
  r->body = bytes.substr(id_size);
  return Status::ok();
}

void encode_body_key(std::string_view id, const rev::RevId& rev, std::string* out) {
  out->clear();
  put_varint(out, id.size());
  out->append(id);
  put_rev(out, rev);
}

void encode_local_record(std::uint64_t rev, std::string_view body, std::string* out) {
  out->clear();
  put_varint(out, rev);
  out->append(body);
}

Status decode_local_record(std::string_view bytes, LocalRecord* r) {
  if (!get_varint(&bytes, &r->rev)) return corrupt("local document");
  r->body = bytes;
  return Status::ok();
}

}  // namespace divan::db
