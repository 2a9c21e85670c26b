// StoredDoc: a document as one read transaction sees it: its record (the
// winner), and, loaded on demand, the winner's body and the revision tree.
//
// REQUIRES: a StoredDoc is used only while the transaction it was loaded in
// is open and where it was (it keeps the transaction's address, and what it
// returns points into that snapshot).
#ifndef DIVAN_DB_STORED_DOC_H_
#define DIVAN_DB_STORED_DOC_H_

#include <optional>
#include <string>
#include <string_view>

#include "db/records.h"
#include "divan/status.h"
#include "rev/rev_tree.h"
#include "storage/env.h"

namespace divan::db {

// The winner's body of a document whose record is `record`: in the record
// (the first layout) or in the document's by_seq entry. It points into the
// transaction's snapshot (for a write transaction: until its next write).
template <typename Txn>
Result<std::string_view> winner_body(const Txn& txn, storage::Dbi by_seq,
                                     const DocRecord& record) {
  if (!record.body_in_seq) return record.body;
  auto bytes = txn.get(by_seq, seq_key(record.seq));
  if (!bytes.is_ok()) return bytes.status();
  if (!bytes->has_value()) return Status::corruption("document without its by_seq entry");
  SeqRecord entry;
  if (Status s = decode_seq_record(**bytes, &entry); !s.is_ok()) return s;
  if (!entry.has_body) return Status::corruption("by_seq entry without the body");
  return entry.body;
}

class StoredDoc {
 public:
  // Loads the record of `id`; found() is false if there is none. The
  // winner's body is read from `by_seq` when it is asked for.
  static Result<StoredDoc> load(const storage::ReadTxn& txn, storage::Dbi docs,
                                storage::Dbi by_seq, std::string_view id) {
    StoredDoc d(txn, by_seq);
    auto bytes = txn.get(docs, id);
    if (!bytes.is_ok()) return bytes.status();
    if (!bytes->has_value()) return d;
    if (Status s = decode_doc_record(**bytes, &d.record_); !s.is_ok()) return s;
    d.found_ = true;
    return d;
  }

  // A document whose record the caller has decoded already.
  static StoredDoc of(const storage::ReadTxn& txn, storage::Dbi by_seq, const DocRecord& record) {
    StoredDoc d(txn, by_seq);
    d.record_ = record;
    d.found_ = true;
    return d;
  }

  bool found() const { return found_; }
  const DocRecord& record() const { return record_; }

  // The winner's body: in the record (the first layout) or in the
  // document's by_seq entry.
  Result<std::string_view> body() const {
    if (!body_) {
      auto body = winner_body(*txn_, by_seq_, record_);
      if (!body.is_ok()) return body.status();
      body_ = *body;
    }
    return *body_;
  }

  // The document's revision tree, decoded on first use.
  Result<const rev::RevTree*> tree() {
    if (!tree_) {
      auto decoded = rev::RevTree::decode(record_.tree);
      if (!decoded.is_ok()) return decoded.status();
      tree_ = std::move(decoded.value());
    }
    return &*tree_;
  }

 private:
  StoredDoc(const storage::ReadTxn& txn, storage::Dbi by_seq) : txn_(&txn), by_seq_(by_seq) {}

  const storage::ReadTxn* txn_;
  storage::Dbi by_seq_;
  bool found_ = false;
  DocRecord record_;
  mutable std::optional<std::string_view> body_;
  std::optional<rev::RevTree> tree_;
};

}  // namespace divan::db

#endif  // DIVAN_DB_STORED_DOC_H_
