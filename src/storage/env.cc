// Env: one LMDB environment per file per process, its map growth, its write
// path with the sticky commit error, and compaction.
#include "storage/env.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include "storage/env_impl.h"

namespace divan::storage {

// ---------------------------------------------------------------- errors

Status lmdb_status(int rc, const char* what) {
  std::string reason = what;
  reason += ": ";
  reason += mdb_strerror(rc);
  switch (rc) {
    case ENOSPC:
    case MDB_MAP_FULL:
      return Status(ErrorCode::kDiskFull, std::move(reason), /*transient=*/true);
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_PAGE_NOTFOUND:
      return Status::corruption(std::move(reason));
    case MDB_BAD_VALSIZE:
      return Status::bad_request(std::move(reason));
    case MDB_KEYEXIST:
      return Status::internal(std::move(reason));
    case MDB_READERS_FULL:
      return Status::io_error(std::move(reason), /*transient=*/true);
    default:
      return Status::io_error(std::move(reason));
  }
}

namespace {

Status errno_status(int err, const std::string& what) {
  return lmdb_status(err, what.c_str());  // mdb_strerror falls back to strerror
}

std::size_t round_up(std::size_t n, std::size_t unit) {
  return (n + unit - 1) / unit * unit;
}

// Makes a rename or a new file durable: fsync of the file (or folder) itself.
Status fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return errno_status(errno, "open " + path);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(err, "fsync " + path);
  return Status();
}

// The registry of open environments: canonical path -> Env. An Env is
// removed (and its LMDB environment closed) by the deleter of its
// shared_ptr, under the registry mutex, so a path never has two LMDB
// environments open at once in this process: lmdb.h forbids it, because
// closing either would drop the other's fcntl locks.
struct Registry {
  struct Entry {
    std::weak_ptr<Env> env;
    const Env* raw;
  };
  std::mutex mu;
  std::condition_variable closed;  // an entry was erased
  std::map<std::string, Entry> open;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: Envs may outlive statics
  return *r;
}

Result<std::string> canonical_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (!ec) abs = std::filesystem::weakly_canonical(abs, ec);
  if (ec) return Status::io_error("cannot resolve path " + path + ": " + ec.message());
  return abs.string();
}

}  // namespace

// ---------------------------------------------------------------- Env::Impl

Status Env::Impl::open_lmdb(const std::string& path, std::size_t min_map_size) {
  const std::size_t initial = round_up(std::max<std::size_t>(options.initial_map_size, 1), os_page_size);
  MDB_env* e = nullptr;
  int rc = mdb_env_create(&e);
  if (rc != 0) return lmdb_status(rc, "mdb_env_create");
  auto fail = [&](int code, const char* what) {
    mdb_env_close(e);
    return lmdb_status(code, (std::string(what) + " " + path).c_str());
  };
  if ((rc = mdb_env_set_maxreaders(e, options.max_readers)) != 0) return fail(rc, "mdb_env_set_maxreaders");
  if ((rc = mdb_env_set_maxdbs(e, options.max_dbs)) != 0) return fail(rc, "mdb_env_set_maxdbs");
  // A new (or empty) file starts at the initial size. An existing one keeps
  // the map size recorded in it, which is where earlier growth got to.
  struct stat st;
  const bool fresh = ::stat(path.c_str(), &st) != 0 || st.st_size == 0;
  if (fresh && (rc = mdb_env_set_mapsize(e, std::max(initial, min_map_size))) != 0) {
    return fail(rc, "mdb_env_set_mapsize");
  }
  // MDB_NOTLS: a ReadTxn is not tied to its thread's reader slot.
  // MDB_NORDAHEAD: lookups are random; read-ahead only evicts useful pages.
  // Never MDB_WRITEMAP: a stray write through a pointer could corrupt the file.
  unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | MDB_NORDAHEAD;
  if (!options.sync) flags |= MDB_NOSYNC;
  if ((rc = mdb_env_open(e, path.c_str(), flags, 0644)) != 0) return fail(rc, "mdb_env_open");
  MDB_envinfo info;
  if ((rc = mdb_env_info(e, &info)) != 0) return fail(rc, "mdb_env_info");
  const std::size_t want = std::max(initial, min_map_size);
  if (info.me_mapsize < want && (rc = mdb_env_set_mapsize(e, want)) != 0) {
    return fail(rc, "mdb_env_set_mapsize");
  }
  struct stat opened;
  if (::stat(path.c_str(), &opened) != 0) {
    int err = errno;
    mdb_env_close(e);
    return errno_status(err, "stat " + path);
  }
  file_dev = static_cast<std::uint64_t>(opened.st_dev);
  file_ino = static_cast<std::uint64_t>(opened.st_ino);
  env = e;
  return Status();
}

void Env::Impl::close_lmdb() {
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    for (MDB_txn* t : read_pool) mdb_txn_abort(t);
    read_pool.clear();
  }
  if (env != nullptr) mdb_env_close(env);
  env = nullptr;
}

int Env::Impl::begin_read_txn(MDB_txn** txn) {
  MDB_txn* pooled = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (!read_pool.empty()) {
      pooled = read_pool.back();
      read_pool.pop_back();
    }
  }
  if (pooled != nullptr) {
    const int rc = mdb_txn_renew(pooled);
    if (rc == 0) {
      *txn = pooled;
      return 0;
    }
    mdb_txn_abort(pooled);
    if (rc == MDB_MAP_RESIZED) return rc;  // a fresh txn would say the same
  }
  return mdb_txn_begin(env, nullptr, MDB_RDONLY, txn);
}

void Env::Impl::end_read_txn(MDB_txn* txn) {
  mdb_txn_reset(txn);
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (read_pool.size() < kMaxPooledReaders) {
      read_pool.push_back(txn);
      return;
    }
  }
  mdb_txn_abort(txn);
}

Status Env::Impl::grow_map() {
  if (!gate.acquire_exclusive()) {
    return Status::internal(
        "the map must grow, but this thread holds a read transaction of the same database");
  }
  MDB_envinfo info;
  int rc = mdb_env_info(env, &info);
  Status s;
  if (rc != 0) {
    s = lmdb_status(rc, "mdb_env_info");
  } else {
    const std::size_t current = info.me_mapsize;
    const std::size_t step = std::max<std::size_t>(options.growth_step_limit, os_page_size);
    std::size_t next = current < step ? current * 2 : current + step;
    next = round_up(next, os_page_size);
    if (options.max_map_size != 0 && next > options.max_map_size) {
      next = options.max_map_size / os_page_size * os_page_size;
    }
    if (next <= current) {
      s = Status(ErrorCode::kDiskFull,
                 "the database reached its maximum size of " + std::to_string(options.max_map_size) +
                     " bytes",
                 /*transient=*/true);
    } else if ((rc = mdb_env_set_mapsize(env, next)) != 0) {
      s = lmdb_status(rc, "mdb_env_set_mapsize");
    }
  }
  gate.release_exclusive();
  return s;
}

Status Env::Impl::adopt_resized_map() {
  if (!gate.acquire_exclusive()) {
    return Status::io_error(
        "another process grew the map; end this thread's read transactions and retry",
        /*transient=*/true);
  }
  Status s;
  if (env == nullptr) {
    s = current_write_error();
  } else if (const int rc = mdb_env_set_mapsize(env, 0); rc != 0) {
    s = lmdb_status(rc, "mdb_env_set_mapsize");
  }
  gate.release_exclusive();
  return s;
}

void Env::Impl::set_write_error(const Status& s) {
  std::lock_guard<std::mutex> lock(error_mu);
  write_error = Status(s.code(),
                       s.reason() + "; writes are refused until the database is reopened");
  failed.store(true, std::memory_order_release);
}

Status Env::Impl::current_write_error() const {
  if (!failed.load(std::memory_order_acquire)) return Status();
  std::lock_guard<std::mutex> lock(error_mu);
  return write_error;
}

// ---------------------------------------------------------------- Env

Env::Env(std::string path, const EnvOptions& options)
    : path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  const long ps = ::sysconf(_SC_PAGESIZE);
  if (ps > 0) impl_->os_page_size = static_cast<std::size_t>(ps);
}

Env::~Env() { impl_->close_lmdb(); }

Status Env::open() { return impl_->open_lmdb(path_, 0); }

Status Env::write_error() const { return impl_->current_write_error(); }

Result<ReadTxn> Env::begin_read() {
  Impl& impl = *impl_;
  for (int attempt = 0; attempt < 8; ++attempt) {
    impl.gate.acquire_shared();
    if (impl.env == nullptr) {
      impl.gate.release_shared();
      return impl.current_write_error();
    }
    MDB_txn* txn = nullptr;
    const int rc = impl.begin_read_txn(&txn);
    if (rc == 0) return ReadTxn(this, txn);
    impl.gate.release_shared();
    if (rc != MDB_MAP_RESIZED) return lmdb_status(rc, "mdb_txn_begin (read)");
    if (Status s = impl.adopt_resized_map(); !s) return s;
  }
  return Status::io_error("the map keeps being resized by another process", /*transient=*/true);
}

Status Env::write(const std::function<Status(WriteTxn&)>& fn) {
  std::lock_guard<std::mutex> writer(impl_->write_mu);
  return run_write(fn, /*counted=*/true);
}

Status Env::run_write(const std::function<Status(WriteTxn&)>& fn, bool counted) {
  Impl& impl = *impl_;
  if (Status e = impl.current_write_error(); !e) return e;

  // Ends whatever is still open when the scope is left, in LMDB's order:
  // cursors, then the txn, then the pass.
  struct Open {
    Impl& impl;
    WriteTxn* wtxn = nullptr;
    MDB_txn* txn = nullptr;
    bool pass = false;
    void abort() {
      if (wtxn != nullptr) wtxn->close_cursors();
      if (txn != nullptr) mdb_txn_abort(txn);
      txn = nullptr;
      if (pass) impl.gate.release_shared();
      pass = false;
    }
    ~Open() { abort(); }
  };

  for (;;) {
    Open open{impl};
    impl.gate.acquire_shared();
    open.pass = true;
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(impl.env, nullptr, 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
      open.abort();
      if (Status s = impl.adopt_resized_map(); !s) return s;
      continue;
    }
    if (rc != 0) return lmdb_status(rc, "mdb_txn_begin (write)");
    open.txn = txn;

    WriteTxn wtxn(txn);
    open.wtxn = &wtxn;
    Status s = fn(wtxn);
    wtxn.close_cursors();
    if (wtxn.map_full_) {  // whatever fn made of the error: grow and rerun
      open.abort();
      if (Status g = impl.grow_map(); !g) return g;
      continue;
    }
    if (!s) return s;  // ~Open aborts

    if (counted && ++impl.commits == impl.options.fail_commit_number) {
      open.abort();
      Status failed = Status::io_error("commit " + std::to_string(impl.commits) +
                                       " failed (injected by fail_commit_number)");
      impl.set_write_error(failed);
      return impl.current_write_error();
    }
    open.txn = nullptr;  // mdb_txn_commit frees it, success or not
    rc = mdb_txn_commit(txn);
    open.abort();        // releases the pass
    if (rc == 0) return Status();
    if (rc == MDB_MAP_FULL) {
      if (Status g = impl.grow_map(); !g) return g;
      continue;
    }
    impl.set_write_error(lmdb_status(rc, "mdb_txn_commit"));
    return impl.current_write_error();
  }
}

Result<Dbi> Env::open_dbi(const std::string& name, DbiFlags flags) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> writer(impl.write_mu);
  for (const DbiRecord& d : impl.dbis) {
    if (d.name != name) continue;
    if (d.flags != flags) {
      return Status::internal("sub-database " + name + " opened again with other flags");
    }
    return Dbi{d.handle};
  }
  const unsigned lmdb_flags = MDB_CREATE | (flags == DbiFlags::kDupSort ? MDB_DUPSORT : 0u);
  MDB_dbi handle = 0;
  // In a write txn of its own so that a tiny map grows; the handle becomes
  // usable by every txn once it commits. Not counted for fail_commit_number,
  // which counts the caller's writes.
  Status s = run_write(
      [&](WriteTxn& txn) {
        const int rc = mdb_dbi_open(static_cast<MDB_txn*>(txn.txn_), name.c_str(), lmdb_flags, &handle);
        if (rc != 0) return txn.check(rc, ("mdb_dbi_open " + name).c_str());
        return Status();
      },
      /*counted=*/false);
  if (!s) return s;
  impl.dbis.push_back(DbiRecord{name, flags, handle});
  return Dbi{handle};
}

Status Env::compact() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> writer(impl.write_mu);
  if (Status e = impl.current_write_error(); !e) return e;
  const std::string tmp = path_ + ".compact";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return errno_status(errno, "unlink " + tmp);

  // Copy while readers go on; the copy runs its own read txn, so hold a pass.
  std::size_t map_size = 0;
  {
    SharedPass pass(impl.gate);
    int rc = mdb_env_copy2(impl.env, tmp.c_str(), MDB_CP_COMPACT);
    MDB_envinfo info;
    if (rc == 0) rc = mdb_env_info(impl.env, &info);
    if (rc != 0) {
      ::unlink(tmp.c_str());
      return lmdb_status(rc, "mdb_env_copy2");
    }
    map_size = info.me_mapsize;
  }
  if (impl.options.sync) {
    if (Status s = fsync_path(tmp, false); !s) {
      ::unlink(tmp.c_str());
      return s;
    }
  }

  if (!impl.gate.acquire_exclusive()) {
    ::unlink(tmp.c_str());
    return Status::internal("compact() called by a thread that holds a read transaction");
  }
  impl.close_lmdb();
  Status s;
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    s = errno_status(errno, "rename " + tmp);
    ::unlink(tmp.c_str());
  } else if (impl.options.sync) {
    s = fsync_path(std::filesystem::path(path_).parent_path().string(), true);
  }
  // Reopen whichever file is in place now, keeping the map size, and the
  // named sub-databases in their first order, so every Dbi held above stays
  // valid: LMDB hands out handles in opening order.
  Status reopened = impl.open_lmdb(path_, map_size);
  if (reopened && !impl.dbis.empty()) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(impl.env, nullptr, 0, &txn);
    for (const DbiRecord& d : impl.dbis) {
      if (rc != 0) break;
      MDB_dbi h = 0;
      rc = mdb_dbi_open(txn, d.name.c_str(),
                        d.flags == DbiFlags::kDupSort ? MDB_DUPSORT : 0u, &h);
      if (rc == 0 && h != d.handle) {
        mdb_txn_abort(txn);
        txn = nullptr;
        reopened = Status::internal("sub-database " + d.name + " changed handle on reopen");
        break;
      }
    }
    if (txn != nullptr) {
      if (rc == 0) {
        rc = mdb_txn_commit(txn);
      } else {
        mdb_txn_abort(txn);
      }
      if (rc != 0) reopened = lmdb_status(rc, "reopening sub-databases after compaction");
    }
  }
  if (!reopened) {
    impl.close_lmdb();
    impl.set_write_error(reopened);
  }
  impl.gate.release_exclusive();
  if (!reopened) return impl.current_write_error();
  return s;
}

Result<EnvStats> Env::stats() {
  Impl& impl = *impl_;
  SharedPass pass(impl.gate);
  if (impl.env == nullptr) return impl.current_write_error();
  EnvStats out;
  MDB_envinfo info;
  MDB_stat st;
  int rc = mdb_env_info(impl.env, &info);
  if (rc == 0) rc = mdb_env_stat(impl.env, &st);
  if (rc != 0) return lmdb_status(rc, "mdb_env_info");
  out.page_size = st.ms_psize;
  out.map_size = info.me_mapsize;
  out.used_size = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
  struct stat fst;
  if (::stat(path_.c_str(), &fst) != 0) return errno_status(errno, "stat " + path_);
  out.file_size = static_cast<std::uint64_t>(fst.st_size);
  return out;
}

namespace {

// Where this process maps the file (dev, ino), read from /proc/self/maps.
// LMDB does not say where its map is (mdb_env_info's me_mapaddr is only
// set with MDB_FIXEDMAP).
bool find_mapping(std::uint64_t dev, std::uint64_t ino, char** base, std::size_t* len) {
  std::FILE* maps = std::fopen("/proc/self/maps", "r");
  if (maps == nullptr) return false;
  char line[4096];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8] = {};
    if (std::sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms, &offset, &major,
                    &minor, &inode) != 7) {
      continue;
    }
    if (inode == ino && makedev(major, minor) == dev && offset == 0 && perms[3] == 's') {
      *base = reinterpret_cast<char*>(start);
      *len = end - start;
      found = true;
    }
  }
  std::fclose(maps);
  return found;
}

}  // namespace

Status Env::release_resident_pages() {
  Impl& impl = *impl_;
  // A shared pass: the map cannot move (growth, compaction) meanwhile.
  SharedPass pass(impl.gate);
  if (impl.env == nullptr) return impl.current_write_error();
  MDB_envinfo info;
  MDB_stat st;
  int rc = mdb_env_info(impl.env, &info);
  if (rc == 0) rc = mdb_env_stat(impl.env, &st);
  if (rc != 0) return lmdb_status(rc, "mdb_env_info");
  char* base = nullptr;
  std::size_t len = 0;
  {
    // The map moves only when it grows or compaction reopens the file, so
    // its place is looked up again only then.
    std::lock_guard<std::mutex> lock(impl.map_mu);
    const std::uint64_t ino = impl.file_ino.load();
    if (impl.map_base == nullptr || impl.map_size_seen != info.me_mapsize || impl.map_ino_seen != ino) {
      if (!find_mapping(impl.file_dev.load(), ino, &impl.map_base, &impl.map_len)) {
        impl.map_base = nullptr;
        return Status::io_error("cannot find the map of " + path_);
      }
      impl.map_size_seen = info.me_mapsize;
      impl.map_ino_seen = ino;
    }
    base = impl.map_base;
    len = impl.map_len;
  }
  // Only the pages in use can have been read; beyond them the map may reach
  // past the end of the file.
  std::size_t used = (static_cast<std::size_t>(info.me_last_pgno) + 1) * st.ms_psize;
  len = std::min(len, used);
  // The map is a read-only shared file mapping (never MDB_WRITEMAP), so
  // MADV_DONTNEED only drops this process's page table entries: the pages
  // stay in the OS page cache, and a reader holding a pointer into the map
  // faults the same bytes back in.
  if (len > 0 && ::madvise(base, len, MADV_DONTNEED) != 0) {
    return errno_status(errno, "madvise " + path_);
  }
  return Status();
}

// ---------------------------------------------------------------- registry

Result<std::shared_ptr<Env>> open_env(const std::string& path, const EnvOptions& options) {
  Result<std::string> canon = canonical_path(path);
  if (!canon) return canon.status();
  Registry& reg = registry();
  std::unique_lock<std::mutex> lock(reg.mu);
  for (;;) {
    auto it = reg.open.find(*canon);
    if (it == reg.open.end()) break;
    if (std::shared_ptr<Env> env = it->second.env.lock()) {
      if (env->same_file()) return env;
      // The file was replaced under the old Env (deleted and created anew):
      // the old Env lives on for its holders, unlisted; open the new file.
      reg.open.erase(it);
      break;
    }
    // Its last handle is gone and its deleter is closing it: wait for that,
    // so two LMDB environments never overlap on one file.
    reg.closed.wait(lock);
  }
  std::unique_ptr<Env> env(new Env(*canon, options));
  if (Status s = env->open(); !s) return s;
  std::shared_ptr<Env> shared(env.release(), [](Env* e) {
    Registry& r = registry();
    std::lock_guard<std::mutex> l(r.mu);
    auto it = r.open.find(e->path());
    if (it != r.open.end() && it->second.raw == e) r.open.erase(it);
    delete e;
    r.closed.notify_all();
  });
  reg.open.emplace(*canon, Registry::Entry{shared, shared.get()});
  return shared;
}

bool Env::same_file() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) return false;
  return static_cast<std::uint64_t>(st.st_dev) == impl_->file_dev.load() &&
         static_cast<std::uint64_t>(st.st_ino) == impl_->file_ino.load();
}

Status remove_env_files(const std::string& path) {
  Result<std::string> canon = canonical_path(path);
  if (!canon) return canon.status();
  {
    Registry& reg = registry();
    std::lock_guard<std::mutex> lock(reg.mu);
    if (reg.open.count(*canon) != 0) {
      return Status::io_error("cannot remove " + path + ": the database is still open",
                              /*transient=*/true);
    }
  }
  // Missing files are fine: the result is the same.
  for (const std::string& p : {path, path + "-lock", path + ".compact"}) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return errno_status(errno, "unlink " + p);
  }
  return Status();
}

}  // namespace divan::storage
