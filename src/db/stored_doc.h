// StoredDoc: a document as one read transaction sees it: its record (the
// winner) and, loaded on demand, its revision tree.
//
// REQUIRES: a StoredDoc is used only while the transaction it was loaded in
// is open (its record's body points into that snapshot).
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

class StoredDoc {
 public:
  // Loads the record of `id`; found() is false if there is none.
  static Result<StoredDoc> load(const storage::ReadTxn& txn, storage::Dbi docs,
                                std::string_view id) {
    StoredDoc d;
    auto bytes = txn.get(docs, id);
    if (!bytes.is_ok()) return bytes.status();
    if (!bytes->has_value()) return d;
    if (Status s = decode_doc_record(**bytes, &d.record_); !s.is_ok()) return s;
    d.found_ = true;
    return d;
  }

  // A document whose record the caller has decoded already.
  static StoredDoc of(const DocRecord& record) {
    StoredDoc d;
    d.record_ = record;
    d.found_ = true;
    return d;
  }

  bool found() const { return found_; }
  const DocRecord& record() const { return record_; }

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
  bool found_ = false;
  DocRecord record_;
  std::optional<rev::RevTree> tree_;
};

}  // namespace divan::db

#endif  // DIVAN_DB_STORED_DOC_H_
