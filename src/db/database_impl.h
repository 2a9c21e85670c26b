// DatabaseImpl: the Database of divan's public API, over one LMDB
// environment. Writes are in database_write.cc, reads in database_read.cc,
// the changes feed in database_changes.cc.
#ifndef DIVAN_DB_DATABASE_IMPL_H_
#define DIVAN_DB_DATABASE_IMPL_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "changes/change_notifier.h"
#include "db/doc_parser.h"
#include "db/helper_thread.h"
#include "db/prepare_stream.h"
#include "db/records.h"
#include "db/string_pool.h"
#include "db/uuid.h"
#include "db/write_queue.h"
#include "divan/database.h"
#include "divan/options.h"
#include "rev/rev_tree.h"
#include "storage/env.h"

namespace divan::db {

// What a DataDir shares with its databases.
// What a database shares with its DataDir. Shared, not borrowed: a database
// may outlive the DataDir it came from.
struct DatabaseContext {
  DataDirOptions options;  // clock and random never null here
  std::shared_ptr<SequentialUuids> uuids;
  std::shared_ptr<HelperThread> helper;  // parses large bulk arrays; never null
  // The memory of large bulk arrays' bodies and records, kept for the next
  // arrays (see StringPool); never null.
  std::shared_ptr<StringPool> spare_bodies;
  std::shared_ptr<StringPool> spare_records;
};

class StoredDoc;

class DatabaseImpl final : public Database,
                           public std::enable_shared_from_this<DatabaseImpl> {
 public:
  // Opens the database stored at `path`. With `create`, the file must not
  // exist yet and is set up as a new, empty database.
  static Result<std::shared_ptr<DatabaseImpl>> open(const DatabaseContext& ctx, std::string name,
                                                    const std::string& path, bool create);
  ~DatabaseImpl() override;

  const std::string& name() const override { return name_; }

  Result<DocResult> put(std::string_view doc_json, const PutOptions& options) override;
  Result<DocResult> remove(std::string_view id, std::string_view rev) override;
  Result<std::vector<DocResult>> bulk_docs(std::string_view docs_json_array,
                                           const BulkDocsOptions& options) override;

  Result<Document> get(std::string_view id, const GetOptions& options) override;
  Result<std::vector<OpenRev>> open_revs(std::string_view id,
                                         const OpenRevsOptions& options) override;
  Result<std::vector<RevsDiffEntry>> revs_diff(
      const std::vector<RevsDiffRequest>& request) override;
  Result<AllDocsResult> all_docs(const AllDocsOptions& options) override;
  Result<DatabaseInfo> info() override;

  Result<ChangesResult> changes(const ChangesOptions& options) override;
  std::uint64_t update_seq() const override { return notifier_.seq(); }
  bool wait_for_change(std::uint64_t since, std::chrono::milliseconds timeout) override;
  Subscription subscribe(ChangeCallback callback) override;

  Result<std::string> security() override;
  Status set_security(std::string_view json) override;
  Result<std::uint32_t> revs_limit() override;
  Status set_revs_limit(std::uint32_t limit) override;
  Status compact() override;

  // Called by the DataDir when the database is deleted: every later call
  // fails with not_found and waiters wake up.
  void mark_deleted();

  // Unmaps file pages that reads mapped in (DataDirOptions::release_pages_interval).
  Status release_resident_pages() { return env_->release_resident_pages(); }

 private:
  struct Dbis {
    storage::Dbi meta, docs, bodies, by_seq, local;
  };

  // The state one write transaction carries from document to document.
  // Loaded from `meta` at the start of every attempt, saved at its end.
  struct TxnState {
    std::uint64_t update_seq = 0;
    std::uint64_t doc_count = 0;
    std::uint64_t doc_del_count = 0;
    std::uint64_t external_size = 0;
    std::uint32_t revs_limit = 1000;
    std::map<std::uint64_t, std::int64_t> block_deltas;  // sequence block count changes
    std::string key, value, tree, scratch;                // reused buffers
  };

  // A document ready for the writer: parsed and validated in the caller's
  // thread, with its revision hash computed where the parent is known.
  struct PreparedDoc {
    ParsedDoc doc;
    std::optional<rev::RevId> guessed_rev;  // new_edits: the rev if `parent` is the parent
    // A new document (new_edits, no `_rev`), as stored if its id turns out
    // to be free: built before the writer gets it, so that the writer only
    // adds the update sequence and the body. The writer falls back to the
    // general path when the id exists.
    struct NewDoc {
      // In one buffer: the docs record after its head (winner, tree), then
      // the by_seq entry up to the body.
      std::string bytes;
      std::size_t seq_at = 0;
      std::string_view record_winner() const { return std::string_view(bytes).substr(0, seq_at); }
      std::string_view seq_record() const { return std::string_view(bytes).substr(seq_at); }
      // The revision as text, moved to the result after the commit.
      std::string rev;
    };
    std::optional<NewDoc> new_doc;
  };

  class DocsOp;
  // The documents of one large `_bulk_docs` array, on their way from the
  // thread that parses them to the writer (prepared by either).
  using DocStream = PrepareStream<ParsedDoc, PreparedDoc>;

  DatabaseImpl(const DatabaseContext& ctx, std::string name, std::shared_ptr<storage::Env> env,
               Dbis dbis, std::uint64_t update_seq, std::string instance_start_time,
               std::uint32_t revs_limit);

  Status check_open() const;

  // ---- write path (database_write.cc) ----
  Status prepare(std::vector<ParsedDoc>& docs, bool new_edits, std::vector<PreparedDoc>* out);
  // `spare_records`, if given, supplies the memory of a new document's
  // records (see take_spare()).
  Status prepare_one(ParsedDoc& d, bool new_edits, PreparedDoc* out,
                     std::vector<std::string>* spare_records = nullptr);
  Result<std::vector<DocResult>> bulk_docs_streamed(std::string_view docs_json_array,
                                                    bool new_edits);
  Result<std::vector<DocResult>> write_docs(std::vector<PreparedDoc> docs, bool new_edits);
  static std::vector<DocResult> take_results(DocsOp& op);
  Status apply_new_doc(storage::WriteTxn& txn, TxnState* st, const PreparedDoc& p, bool* applied);
  // A document's by_seq entry at `seq` (`seq_record` then the winner's
  // body), with the counts that go with it.
  Status add_to_feed(storage::WriteTxn& txn, TxnState* st, std::uint64_t seq, bool deleted,
                     std::string_view seq_record, std::string_view body = {});
  Status run_group(const WriteQueue::Source& next);
  Status load_state(storage::WriteTxn& txn, TxnState* st);
  Status save_state(storage::WriteTxn& txn, TxnState* st);
  Status apply_doc(storage::WriteTxn& txn, TxnState* st, const PreparedDoc& p, bool new_edits,
                   DocResult* result);
  Status apply_local(storage::WriteTxn& txn, TxnState* st, const ParsedDoc& d, DocResult* result);
  Status compact_docs_from(std::string* next_id, bool* done);

  // ---- read path (database_read.cc) ----
  // The winner of `doc` as a Document, with the meta fields `o` asks for.
  Result<Document> winner_document(StoredDoc& doc, std::string_view id, const GetOptions& o);
  Result<Document> get_local(storage::ReadTxn& txn, std::string_view id);

  // ---- changes (database_changes.cc) ----
  Result<std::uint64_t> count_after(const storage::ReadTxn& txn, std::uint64_t seq) const;

  const DatabaseContext ctx_;
  const std::string name_;
  std::shared_ptr<storage::Env> env_;
  const Dbis dbi_;
  const std::string instance_start_time_;
  std::atomic<std::uint32_t> revs_limit_;
  std::atomic<bool> deleted_{false};
  std::atomic<bool> compact_running_{false};
  changes::ChangeNotifier notifier_;
  WriteQueue queue_;

};

}  // namespace divan::db

#endif  // DIVAN_DB_DATABASE_IMPL_H_
