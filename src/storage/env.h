// divan's storage layer: a thin, safe face over one LMDB environment.
//
// This is the only code in divan that includes lmdb.h. Everything above it
// sees Env, ReadTxn, WriteTxn, Cursor and Dbi, and Status for errors: LMDB
// return codes are converted here and nowhere else.
//
// One Env is one LMDB environment stored as a single file (MDB_NOSUBDIR) plus
// its "-lock" file. Each environment is opened once per process: open_env()
// goes through a registry keyed by the file's path and hands out shared
// handles to the same Env.
//
// The map grows by itself. LMDB refuses a write with MDB_MAP_FULL when the
// file reaches the map size; Env::write() then aborts the transaction, waits
// until no transaction of this process is open on the environment (LMDB does
// not check this, so the ResizeGate below does), doubles the map size and runs
// the write again. That is why a write is given as a function that may run
// more than once: it must not publish anything outside the transaction until
// write() returns ok.
//
// Thread-safety: Env is thread-safe. ReadTxn, WriteTxn and Cursor belong to
// the thread that made them. A thread must not call Env::write() or
// Env::compact() while it holds a ReadTxn of the same Env (growth would wait
// for that ReadTxn forever; they fail with internal_error instead of hanging
// when they notice). A thread may hold several ReadTxns of one Env at once.
#ifndef DIVAN_STORAGE_ENV_H_
#define DIVAN_STORAGE_ENV_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "divan/status.h"

namespace divan::storage {

struct EnvOptions {
  // fsync on every commit. false (MDB_NOSYNC) trades durability of the last
  // commits for speed; only a user's explicit choice may turn it off.
  bool sync = true;
  // First map size in bytes, rounded up to the OS page size. The map doubles
  // on demand (see growth_step_limit), so this only sets where growth starts.
  std::size_t initial_map_size = std::size_t{1} << 20;
  // Beyond this size the map grows by this many bytes at a time instead of
  // doubling, so a 100 GiB database does not reserve 200 GiB of address space.
  std::size_t growth_step_limit = std::size_t{1} << 30;
  // Concurrent read transactions allowed (LMDB's maxreaders).
  unsigned max_readers = 512;
  // Named sub-databases the caller will open (LMDB's maxdbs).
  unsigned max_dbs = 16;

  // ---- Fault hooks for tests. Internal: never exposed in include/divan. ----
  // If > 0, the Nth commit (1-based, counted from open) fails with an I/O
  // error as if the disk had failed; the Env then refuses further writes.
  std::uint64_t fail_commit_number = 0;
  // Upper bound of the map size: growth beyond it fails with kDiskFull.
  // 0 means no bound.
  std::size_t max_map_size = 0;
};

// A named sub-database, opened once when the Env is set up.
struct Dbi {
  unsigned handle = 0;
};

enum class DbiFlags : unsigned {
  kNone = 0,
  kDupSort = 1,  // several sorted values per key (MDB_DUPSORT)
};

class Env;
class WriteTxn;

// A cursor over one Dbi inside a transaction. Keys and values it returns
// point into LMDB's map and stay valid until the cursor moves, the txn writes,
// or the txn ends, whichever comes first. Copy them to keep them.
class Cursor {
 public:
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // Each positioning call returns true if the cursor now sits on an entry.
  bool first();
  bool last();
  bool next();
  bool prev();
  // First entry whose key is >= `key`.
  bool seek(std::string_view key);
  // Exactly `key`.
  bool seek_exact(std::string_view key);

  bool valid() const { return valid_; }
  std::string_view key() const;    // REQUIRES: valid()
  std::string_view value() const;  // REQUIRES: valid()

  // Any LMDB error met while moving (not counting "no more entries").
  const Status& status() const { return status_; }

 private:
  friend class ReadTxn;
  friend class WriteTxn;
  explicit Cursor(void* cursor) : cursor_(cursor) {}
  bool move(int op, std::string_view key = {});
  // Closes the MDB_cursor (if still open) and leaves its WriteTxn's list.
  void close();
  void take(Cursor& other) noexcept;

  void* cursor_ = nullptr;  // MDB_cursor*; nullptr once closed
  // A cursor of a write txn is on that txn's list, so the txn can close it
  // before commit or abort (LMDB frees write cursors at txn end; closing one
  // again afterwards would be a double free).
  WriteTxn* owner_ = nullptr;
  Cursor* prev_ = nullptr;
  Cursor* next_ = nullptr;
  bool valid_ = false;
  std::string_view key_;
  std::string_view value_;
  Status status_;
};

// A read-only snapshot. Keep it short: never hold one across network I/O or
// a replication batch, because it pins old pages and blocks map growth.
class ReadTxn {
 public:
  ReadTxn(ReadTxn&&) noexcept;
  ReadTxn& operator=(ReadTxn&&) noexcept;
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  ~ReadTxn();  // ends the snapshot

  // The value stored under `key`, pointing into the map (valid until this
  // txn ends), std::nullopt if absent, or an error.
  Result<std::optional<std::string_view>> get(Dbi dbi, std::string_view key) const;
  // REQUIRES: the Env outlives the cursor; the cursor must not outlive this txn.
  Result<Cursor> cursor(Dbi dbi) const;
  // Number of entries in `dbi`.
  Result<std::uint64_t> count(Dbi dbi) const;

 private:
  friend class Env;
  ReadTxn(Env* env, void* txn) : env_(env), txn_(txn) {}
  void end();

  Env* env_ = nullptr;
  void* txn_ = nullptr;  // MDB_txn*
};

// The one write transaction of an Env, handed to the function given to
// Env::write(). All writes of divan take a WriteTxn&.
class WriteTxn {
 public:
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;

  Result<std::optional<std::string_view>> get(Dbi dbi, std::string_view key) const;
  // `append`: the caller promises `key` sorts after every key in `dbi`
  // (MDB_APPEND), which makes sequential inserts cheap.
  // Errors: bad_request for a key LMDB cannot store (empty, or longer than
  // 511 bytes), internal_error for an append out of order, disk_full when the
  // map is full (write() then grows it and runs the function again), io_error.
  // In a DupSort Dbi, putting a key/value pair that is already there is ok.
  Status put(Dbi dbi, std::string_view key, std::string_view value, bool append = false);
  // put() of the value made of `parts` one after the other, written in
  // place (MDB_RESERVE), not first assembled. REQUIRES: not a DupSort Dbi.
  Status put_parts(Dbi dbi, std::string_view key, std::initializer_list<std::string_view> parts,
                   bool append = false);
  // Puts a `key` the caller knows is absent. When it sorts after every key
  // in `dbi` it is appended: LMDB then starts a new page with it when the
  // last one is full, instead of splitting that page in half, so keys put
  // in ascending order fill their pages. Otherwise it is put as by put().
  Status put_new(Dbi dbi, std::string_view key, std::string_view value);
  // Puts `key` only if it is absent, appending it as put_new() does when it
  // sorts last; sets `*inserted` to whether it did. One B-tree descent in
  // either case (an absent key that sorts last costs only the walk down the
  // right edge), where get() then put_new() take two or three.
  Status put_if_absent(Dbi dbi, std::string_view key, std::string_view value, bool* inserted);
  // put_if_absent() of a `size`-byte value the caller writes into `*space`
  // once it is inserted, before any other write in this transaction
  // (MDB_RESERVE): the value is written in place, not assembled and then
  // copied. `*space` is null when nothing was inserted.
  Status reserve_if_absent(Dbi dbi, std::string_view key, std::size_t size, char** space,
                           bool* inserted);
  // Deletes `key`; ok (not not_found) if it was absent.
  Status del(Dbi dbi, std::string_view key);
  // Removes every entry of `dbi`.
  Status clear(Dbi dbi);
  Result<Cursor> cursor(Dbi dbi) const;
  Result<std::uint64_t> count(Dbi dbi) const;

 private:
  friend class Env;
  friend class Cursor;
  explicit WriteTxn(void* txn) : txn_(txn) {}
  Status check(int rc, const char* what);
  // Closes every cursor still open; called before commit or abort.
  void close_cursors();

  void* txn_ = nullptr;  // MDB_txn*
  bool map_full_ = false;
  mutable Cursor* cursors_ = nullptr;  // open cursors of this txn
};

struct EnvStats {
  std::uint64_t file_size = 0;  // bytes of the data file on disk
  std::uint64_t used_size = 0;  // bytes of the file in use (pages up to the last one used)
  std::uint64_t map_size = 0;   // current map size
  std::uint64_t page_size = 0;
};

class Env {
 public:
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env();

  // The absolute path of the data file with symlinks resolved: the key of
  // the registry, whatever spelling open_env() was given.
  const std::string& path() const { return path_; }

  // Opens (creating if needed) the named sub-database `name`.
  // REQUIRES: called during set-up, before the Env is used from several
  // threads, and at most max_dbs times. Opening the same name twice returns
  // the same Dbi (internal_error if the flags differ). The commit that creates
  // it does not count for EnvOptions::fail_commit_number.
  Result<Dbi> open_dbi(const std::string& name, DbiFlags flags = DbiFlags::kNone);

  // Begins a read snapshot. Errors: io_error, corruption.
  Result<ReadTxn> begin_read();

  // Runs `fn` inside one write transaction and commits it; returns only once
  // the commit is on disk (unless EnvOptions::sync is false). Writers are
  // serialised. If `fn` returns an error the transaction is aborted and that
  // error returned. `fn` may run more than once (map growth), so it must have
  // no effect outside the txn. After a failed commit (other than map growth)
  // the Env refuses every later write with the same error until reopened.
  // Errors: those of `fn`; disk_full when the map cannot grow (max_map_size
  // reached, or no address space); internal_error when the map must grow
  // while this thread holds a ReadTxn of this Env; the sticky commit error.
  Status write(const std::function<Status(WriteTxn&)>& fn);

  // Rewrites the file without free pages (mdb_env_copy2 MDB_CP_COMPACT) and
  // swaps it in, shrinking the file. Reads may go on while it copies.
  // REQUIRES: the caller keeps every other writer out for the whole call
  // (writers that come anyway wait for it). Dbi handles stay valid. Errors:
  // io_error, disk_full; internal_error if this thread holds a ReadTxn; the
  // sticky error. If the file cannot be reopened after the swap, the Env
  // fails every later call until it is reopened.
  Status compact();

  Result<EnvStats> stats();

  // Unmaps, from this process, the pages of the file that reads have mapped
  // in, so the process's resident size reflects its working set rather than
  // every page it ever read. The pages stay in the OS page cache; the next
  // read of one maps it back (a minor fault). Safe while others read.
  Status release_resident_pages();

  // The sticky error left by a failed commit, or ok.
  Status write_error() const;

  // True if the file at path() is still the one this Env has open (it was
  // not deleted or replaced behind it).
  bool same_file() const;

 private:
  friend Result<std::shared_ptr<Env>> open_env(const std::string& path, const EnvOptions& options);
  friend class ReadTxn;
  struct Impl;
  Env(std::string path, const EnvOptions& options);
  Status open();
  // write() without taking the writer mutex (REQUIRES: held); `counted`
  // says whether the commit counts for EnvOptions::fail_commit_number.
  Status run_write(const std::function<Status(WriteTxn&)>& fn, bool counted);

  std::string path_;
  std::unique_ptr<Impl> impl_;
};

// Opens the environment stored in the file `path` (created if missing), or
// returns the Env this process already has open for that path (its options
// then win). Errors: io_error (cannot create or open), corruption (not an
// LMDB file).
Result<std::shared_ptr<Env>> open_env(const std::string& path, const EnvOptions& options);

// Removes the data file at `path` and its lock file (and a leftover
// "<path>.compact"). Missing files are not an error. Errors: io_error
// (transient) if this process still has an Env open on `path`; io_error if a
// file cannot be removed.
Status remove_env_files(const std::string& path);

}  // namespace divan::storage

#endif  // DIVAN_STORAGE_ENV_H_
