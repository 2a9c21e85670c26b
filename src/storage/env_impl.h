// Internal to src/storage: the state behind an Env, shared by env.cc and
// txn.cc, and the one function that turns LMDB return codes into Status.
#ifndef DIVAN_STORAGE_ENV_IMPL_H_
#define DIVAN_STORAGE_ENV_IMPL_H_

#include <lmdb.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "divan/status.h"
#include "storage/env.h"
#include "storage/resize_gate.h"

namespace divan::storage {

// Converts an LMDB return code or errno `rc` (non-zero) from the operation
// `what` into a Status. The only place where LMDB codes become divan errors:
//   ENOSPC, MDB_MAP_FULL                      -> disk_full (transient)
//   MDB_CORRUPTED, MDB_INVALID, MDB_VERSION_MISMATCH, MDB_PAGE_NOTFOUND
//                                             -> corruption
//   MDB_BAD_VALSIZE (key too long, empty key) -> bad_request
//   MDB_KEYEXIST (an MDB_APPEND out of order) -> internal_error
//   MDB_READERS_FULL                          -> io_error (transient)
//   anything else                             -> io_error
// The reason names the operation and carries mdb_strerror's text.
Status lmdb_status(int rc, const char* what);

// A named sub-database as opened, kept so compact() can reopen it.
struct DbiRecord {
  std::string name;
  DbiFlags flags;
  MDB_dbi handle;
};

struct Env::Impl {
  EnvOptions options;
  std::size_t os_page_size = 4096;

  // The LMDB environment. Replaced only by compact() and read or written
  // only while holding a pass of `gate` (or the gate exclusively). nullptr
  // once a compact() failed to reopen the file.
  MDB_env* env = nullptr;
  ResizeGate gate;

  // The identity (device, inode) of the data file this Env has open, set by
  // open_lmdb(). If the file at the path is replaced (the database was
  // deleted and created anew while an old handle lived), the registry sees a
  // different identity and opens the new file instead of handing out this Env.
  std::atomic<std::uint64_t> file_dev{0};
  std::atomic<std::uint64_t> file_ino{0};

  // Where this process maps the file, as release_resident_pages() last
  // found it, and for which map size and file.
  std::mutex map_mu;
  char* map_base = nullptr;
  std::size_t map_len = 0;
  std::size_t map_size_seen = 0;
  std::uint64_t map_ino_seen = 0;

  // Read transactions reset by mdb_txn_reset(), kept for mdb_txn_renew():
  // renewing skips a malloc and the lock-table mutex LMDB takes to find a
  // reader slot. They hold no snapshot, so they do not block map growth, but
  // they must be freed before mdb_env_close().
  std::mutex pool_mu;
  std::vector<MDB_txn*> read_pool;
  static constexpr std::size_t kMaxPooledReaders = 16;

  // Serialises write(), open_dbi() and compact().
  std::mutex write_mu;
  std::uint64_t commits = 0;        // guarded by write_mu
  std::vector<DbiRecord> dbis;      // guarded by write_mu; in opening order

  // The sticky error of a failed commit.
  std::atomic<bool> failed{false};
  mutable std::mutex error_mu;
  Status write_error;               // guarded by error_mu

  // Creates and opens the LMDB environment at `path` with `options`; the map
  // is at least `min_map_size` bytes. REQUIRES: env == nullptr, and no
  // transaction can start (set-up, or the gate held exclusively).
  Status open_lmdb(const std::string& path, std::size_t min_map_size);
  // Frees the pooled read txns and closes the environment.
  // REQUIRES: no transaction is active (destruction, or gate exclusive).
  void close_lmdb();

  // Begins a read txn, renewing a pooled one when there is one. The caller
  // holds a shared pass.
  int begin_read_txn(MDB_txn** txn);
  // Ends a read txn, pooling it when the pool has room. The caller still
  // holds its shared pass.
  void end_read_txn(MDB_txn* txn);

  // Grows the map after MDB_MAP_FULL. REQUIRES: write_mu held, the calling
  // thread holds no pass. Errors: disk_full at max_map_size, internal_error
  // if this thread holds a ReadTxn.
  Status grow_map();
  // Adopts a map grown by another process (after MDB_MAP_RESIZED).
  Status adopt_resized_map();

  void set_write_error(const Status& s);
  Status current_write_error() const;
};

}  // namespace divan::storage

#endif  // DIVAN_STORAGE_ENV_IMPL_H_
