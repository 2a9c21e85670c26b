// Database: one CouchDB-style database of documents with revision trees.
//
// Get one from a DataDir (data_dir.h). Every method is thread-safe: any
// number of threads may read and write the same Database at once. Reads run
// on LMDB snapshots and never wait for writers; concurrent writes are grouped
// into one transaction and one fsync (group commit). A write returns only
// once it is durable (see DataDirOptions::sync).
//
// After the database is deleted through its DataDir, every method fails with
// not_found "Database does not exist.".
#ifndef DIVAN_DATABASE_H_
#define DIVAN_DATABASE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/changes.h"
#include "divan/document.h"
#include "divan/status.h"

namespace divan {

struct DatabaseInfo {
  std::string db_name;
  std::uint64_t update_seq = 0;
  std::uint64_t purge_seq = 0;
  std::uint64_t doc_count = 0;      // documents whose winner is not deleted
  std::uint64_t doc_del_count = 0;  // documents whose leaves are all deleted
  std::uint64_t sizes_file = 0;      // bytes of the database file
  std::uint64_t sizes_active = 0;    // bytes of live storage pages
  std::uint64_t sizes_external = 0;  // bytes of stored document bodies
  // The database's incarnation: its creation time in seconds, as a string
  // (CouchDB 3.3+); stable across restarts, new when deleted and re-created.
  std::string instance_start_time;
  bool compact_running = false;
  std::uint32_t revs_limit = 1000;
};

struct AllDocsOptions {
  // Id range, in CouchDB's raw (byte) order. With descending, start_key is
  // the upper end. Absent: unbounded.
  std::optional<std::string> start_key;
  std::optional<std::string> end_key;
  bool inclusive_end = true;
  // If set, exactly these ids in this order (range options are ignored);
  // deleted documents and unknown ids get rows too (see AllDocsRow).
  std::optional<std::vector<std::string>> keys;
  std::uint64_t limit = UINT64_MAX;
  std::uint64_t skip = 0;
  bool descending = false;
  bool include_docs = false;
  bool conflicts = false;  // with include_docs
  // List `_local` documents instead (CouchDB's _local_docs).
  bool local = false;
};

struct AllDocsRow {
  std::string id;               // also the key
  std::string rev;              // the winning revision
  bool deleted = false;         // only for `keys` rows of deleted documents
  bool not_found = false;       // only for `keys` rows of unknown ids
  std::optional<Document> doc;  // with include_docs (absent when deleted)
};

struct AllDocsResult {
  std::uint64_t total_rows = 0;  // doc_count (number of _local docs if local)
  std::uint64_t offset = 0;      // rows before the first row returned
  std::uint64_t update_seq = 0;
  std::vector<AllDocsRow> rows;
};

class Database {
 public:
  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  virtual const std::string& name() const = 0;

  // ---- Writing ----

  // Writes one document given as a JSON object. With new_edits (default):
  // creates it (no `_rev`), or updates/deletes (`"_deleted":true`) the leaf
  // revision named by `_rev`. Ids beginning "_local/" write a _local
  // document ("0-N" revisions, no history, last write wins). A document
  // without an id gets a generated one.
  // Returns the new revision in DocResult (whose status is ok).
  // Errors: bad_request (malformed JSON, not an object, bad `_rev`,
  // `_revisions` or `_deleted`), illegal_docid, doc_validation (unknown "_"
  // member), document_too_large, conflict (stale or missing `_rev`), and
  // storage errors. A failed write changes nothing.
  virtual Result<DocResult> put(std::string_view doc_json, const PutOptions& options = {}) = 0;

  // Deletes the document `id` by writing a tombstone over leaf `rev`
  // (CouchDB's DELETE /db/{id}?rev=). Errors: not_found ("missing" or
  // "deleted"), conflict, bad_request.
  virtual Result<DocResult> remove(std::string_view id, std::string_view rev) = 0;

  // Writes many documents given as a JSON array of objects, in one
  // transaction, applied in array order (two entries for one id see each
  // other). A malformed entry fails the whole call with bad_request (or
  // illegal_docid, doc_validation, document_too_large) and writes nothing.
  // With new_edits: one DocResult per entry, in order; conflicts are per
  // entry. With new_edits false: each entry's history (`_revisions`, or
  // `_rev` alone) is merged without conflict checks; revisions already
  // present change nothing and get no new sequence; the result has one
  // entry per document, all ok, unless storage fails.
  // An array of 64 KiB or more is parsed on a second thread (the data
  // folder's helper thread, or a short-lived one while that is busy) while
  // this one writes; `docs_json_array` must stay valid until the call
  // returns (as for any call).
  virtual Result<std::vector<DocResult>> bulk_docs(std::string_view docs_json_array,
                                                   const BulkDocsOptions& options = {}) = 0;

  // ---- Reading ----

  // The winning revision of `id`, or the revision options.rev.
  // Errors: not_found "missing" (unknown id or revision) or "deleted"
  // (the winner is a tombstone and options.deleted is false), bad_request.
  virtual Result<Document> get(std::string_view id, const GetOptions& options = {}) = 0;

  // Several revisions of `id` at once (CouchDB's open_revs). With all: every
  // leaf, winner first; an unknown id is not_found "missing". With a list:
  // one result per requested revision in order (more with latest), missing
  // ones as OpenRev::missing; an unknown id gives all missing.
  virtual Result<std::vector<OpenRev>> open_revs(std::string_view id,
                                                 const OpenRevsOptions& options) = 0;

  // For each document, the revisions asked about that this database lacks,
  // and its leaves that could be their ancestors. Documents lacking nothing
  // are left out. Errors: bad_request for a malformed revision.
  virtual Result<std::vector<RevsDiffEntry>> revs_diff(
      const std::vector<RevsDiffRequest>& request) = 0;

  virtual Result<AllDocsResult> all_docs(const AllDocsOptions& options) = 0;

  virtual Result<DatabaseInfo> info() = 0;

  // ---- The changes feed ----

  virtual Result<ChangesResult> changes(const ChangesOptions& options) = 0;

  // The current update sequence (the seq of the latest change).
  virtual std::uint64_t update_seq() const = 0;

  // Blocks until update_seq() > since, the timeout passes, or the database
  // is closed or deleted. Returns true iff update_seq() > since.
  virtual bool wait_for_change(std::uint64_t since, std::chrono::milliseconds timeout) = 0;

  // Registers `callback` to run after every commit that changes the feed.
  virtual Subscription subscribe(ChangeCallback callback) = 0;

  // ---- Maintenance ----

  // The database's security object (CouchDB's _security) as JSON text;
  // "{}" when never set. Stored, not enforced here: the HTTP layer enforces it.
  virtual Result<std::string> security() = 0;
  // Replaces the security object. `json` must be a JSON object whose
  // "admins" and "members", where present, are objects whose "names" and
  // "roles", where present, are arrays of strings. Errors: bad_request.
  virtual Status set_security(std::string_view json) = 0;

  virtual Result<std::uint32_t> revs_limit() = 0;
  // Errors: bad_request unless limit >= 1.
  virtual Status set_revs_limit(std::uint32_t limit) = 0;

  // Drops the bodies of non-leaf revisions, stems every revision tree to
  // revs_limit and gives free space back to the file system. Runs in the
  // caller's thread; reads and writes go on meanwhile (writes wait only for
  // short steps), and info().compact_running is true until it returns.
  virtual Status compact() = 0;

 protected:
  Database() = default;
};

}  // namespace divan

#endif  // DIVAN_DATABASE_H_
