// Options for opening a data directory, and the clock and random source
// divan reads time and randomness through (so tests can fix them).
#ifndef DIVAN_OPTIONS_H_
#define DIVAN_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace divan {

// Where divan reads the time. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch.
  virtual std::int64_t now_micros() = 0;
  // The process-wide system clock; never null, never freed.
  static Clock* system();
};

// Where divan reads randomness (generated document ids). Implementations
// must be thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(void* buf, std::size_t len) = 0;
  // The operating system's random source; never null, never freed.
  static RandomSource* system();
};

// Options of a data directory and the databases in it. Every field has a
// documented default; adding a field never breaks a caller.
struct DataDirOptions {
  // Create the folder if it does not exist.
  bool create_if_missing = true;

  // Durability. true (the default): a write returns only after its
  // transaction is fsynced, so a crash or power loss at any moment keeps
  // every acknowledged write. false: writes reach the OS but not
  // necessarily the disk; a crash of the machine (not of the process) can
  // lose the last writes. Only turn it off when that is acceptable.
  bool sync = true;

  // CouchDB's [couchdb] max_document_size: the largest document body, in
  // bytes of JSON, that a write accepts. Larger documents fail with
  // document_too_large.
  std::size_t max_document_size = 8'000'000;

  // The security object (CouchDB's _security, JSON text) given to newly
  // created databases; empty gives none ("{}"). The core only stores it; a
  // server enforces it (divan's sets CouchDB 3's admin-only default,
  // divan/auth.h kAdminOnlySecurity).
  std::string default_security;

  // revs_limit given to newly created databases (CouchDB's default, 1000).
  // Each database's own limit is changed with Database::set_revs_limit().
  std::uint32_t default_revs_limit = 1000;

  // How many databases may stay open at once (CouchDB's max_dbs_open).
  // Beyond it, databases no caller holds are closed, least recently used
  // first. Databases callers hold are never closed under them.
  std::size_t max_open_databases = 500;

  // Where each database's storage map starts; it grows by itself as data
  // is written, so this is not a size limit.
  std::size_t initial_map_size = std::size_t{1} << 20;

  // Most read operations that may run at once on one database.
  unsigned max_readers = 512;

  // The most documents one write transaction takes from the queue of
  // concurrent writers (group commit). Larger groups share one fsync among
  // more writes; smaller ones bound the latency of the first writer.
  std::size_t max_group_docs = 10'000;

  // How often, if at all, divan hands back the pages of database files
  // that reads have mapped into the process (docs/storage.md). Reading maps
  // file pages in; without this the process's resident size grows towards
  // the size of every database read. The pages stay in the OS page cache,
  // so this costs only minor faults when they are read again. Zero (the
  // default) never does it; the server does it every 100 ms.
  std::chrono::milliseconds release_pages_interval{0};

  // Time and randomness. Null means Clock::system() / RandomSource::system().
  // Not owned: they must outlive the DataDir and every database obtained
  // from it.
  Clock* clock = nullptr;
  RandomSource* random = nullptr;
};

}  // namespace divan

#endif  // DIVAN_OPTIONS_H_
