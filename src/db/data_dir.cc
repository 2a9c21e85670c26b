// DataDirImpl: a folder of databases, one LMDB file each (docs/storage.md).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <list>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "db/database_impl.h"
#include "db/names.h"
#include "divan/data_dir.h"

namespace divan {

Status DataDir::validate_database_name(std::string_view name) {
  return db::validate_database_name(name);
}

namespace db {
namespace {

namespace fs = std::filesystem;

const char kLockFile[] = "LOCK";

Status io_error(const std::string& what, const std::error_code& ec) {
  return Status::io_error(what + ": " + ec.message());
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

class DataDirImpl final : public DataDir {
  // What the spare string pools keep at most (see StringPool): room for
  // arrays of a couple of thousand documents of up to 2 KiB, at most 5 MiB.
  static constexpr std::size_t kSpareStrings = 2048;
  static constexpr std::size_t kSpareBodyCapacity = 2048;
  static constexpr std::size_t kSpareRecordCapacity = 512;

 public:
  DataDirImpl(std::string path, std::string uuid, const DataDirOptions& options, int lock_fd)
      : path_(std::move(path)), uuid_(std::move(uuid)), lock_fd_(lock_fd) {
    ctx_.options = options;
    ctx_.uuids = std::make_shared<SequentialUuids>(options.random);
    ctx_.helper = std::make_shared<HelperThread>();
    ctx_.spare_bodies = std::make_shared<StringPool>(kSpareStrings, kSpareBodyCapacity);
    ctx_.spare_records = std::make_shared<StringPool>(kSpareStrings, kSpareRecordCapacity);
    if (options.release_pages_interval.count() > 0) {
      releaser_ = std::thread([this] { release_pages_loop(); });
    }
  }

  ~DataDirImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (releaser_.joinable()) releaser_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_.clear();
      lru_.clear();
    }
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
  }

  const std::string& path() const override { return path_; }
  const std::string& uuid() const override { return uuid_; }
  std::string new_uuid() override { return ctx_.uuids->next(); }

  Result<std::shared_ptr<Database>> create_database(std::string_view name) override {
    if (Status s = validate_database_name(name); !s.is_ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    fs::path file = file_of(name);
    std::error_code ec;
    if (fs::exists(file, ec)) {
      return Status(ErrorCode::kFileExists,
                    "The database could not be created, the file already exists.");
    }
    // Set the new database up under a temporary name and rename it into
    // place, so a crash never leaves a half-made database behind.
    fs::path temp = hidden_file_of(name, ".creating");
    remove_quietly(temp);
    remove_quietly(temp.string() + "-lock");
    {
      auto made = DatabaseImpl::open(ctx_, std::string(name), temp.string(), /*create=*/true);
      Status s = made.is_ok() ? Status::ok() : made.status();
      if (s.is_ok() && !ctx_.options.default_security.empty()) {
        s = (*made)->set_security(ctx_.options.default_security);
      }
      if (!s.is_ok()) {
        remove_quietly(temp);
        remove_quietly(temp.string() + "-lock");
        return s;
      }
    }  // closes the environment
    fs::rename(temp, file, ec);
    remove_quietly(temp.string() + "-lock");
    if (ec) {
      remove_quietly(temp);
      return io_error("cannot create database " + std::string(name), ec);
    }
    if (Status s = sync_folder(); !s.is_ok()) return s;
    return open_locked(name);
  }

  Result<std::shared_ptr<Database>> open_database(std::string_view name) override {
    if (Status s = validate_database_name(name); !s.is_ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    return open_locked(name);
  }

  Status delete_database(std::string_view name) override {
    if (Status s = validate_database_name(name); !s.is_ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    fs::path file = file_of(name);
    std::error_code ec;
    if (!fs::exists(file, ec)) return Status::not_found(kNoDatabaseReason);
    if (auto it = open_.find(std::string(name)); it != open_.end()) {
      it->second.db->mark_deleted();
      lru_.erase(it->second.lru);
      open_.erase(it);
    }
    // Rename first (atomic), then remove: a crash in between leaves only a
    // hidden file that the next deletion of anything does not confuse with
    // a database.
    fs::path trash = hidden_file_of(name, ".deleted");
    fs::rename(file, trash, ec);
    if (ec) return io_error("cannot delete database " + std::string(name), ec);
    remove_quietly(file.string() + "-lock");
    remove_quietly(trash);
    return sync_folder();
  }

  Result<std::vector<std::string>> list_databases() override {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(path_, ec)) {
      std::string file = entry.path().filename().string();
      if (file.empty() || file[0] == '.') continue;
      if (auto name = database_name_of_file(file)) names.push_back(std::move(*name));
    }
    if (ec) return io_error("cannot list " + path_, ec);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  struct Entry {
    std::shared_ptr<DatabaseImpl> db;
    std::list<std::string>::iterator lru;
  };

  fs::path file_of(std::string_view name) const {
    return fs::path(path_) / database_file_name(name);
  }

  // A hidden file beside a database's file: "." + its file name + `suffix`.
  fs::path hidden_file_of(std::string_view name, std::string_view suffix) const {
    std::string file = ".";
    file += database_file_name(name);
    file += suffix;
    return fs::path(path_) / file;
  }

  // REQUIRES: mu_ held.
  Result<std::shared_ptr<Database>> open_locked(std::string_view name) {
    std::string key(name);
    if (auto it = open_.find(key); it != open_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return std::shared_ptr<Database>(it->second.db);
    }
    fs::path file = file_of(name);
    std::error_code ec;
    if (!fs::exists(file, ec)) return Status::not_found(kNoDatabaseReason);
    auto db = DatabaseImpl::open(ctx_, key, file.string(), /*create=*/false);
    if (!db.is_ok()) return db.status();
    lru_.push_front(key);
    open_.emplace(key, Entry{db.value(), lru_.begin()});
    evict_idle();
    return std::shared_ptr<Database>(std::move(db.value()));
  }

  // Closes least recently used databases that no caller holds, while more
  // than max_open_databases are open. REQUIRES: mu_ held.
  void evict_idle() {
    for (auto it = lru_.end(); open_.size() > ctx_.options.max_open_databases && it != lru_.begin();) {
      --it;
      auto entry = open_.find(*it);
      if (entry->second.db.use_count() > 1) continue;  // someone holds it
      open_.erase(entry);
      it = lru_.erase(it);
    }
  }

  // Every release_pages_interval, hands back the file pages that reads of
  // the open databases have mapped in.
  void release_pages_loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_cv_.wait_for(lock, ctx_.options.release_pages_interval, [&] { return stopping_; })) {
      std::vector<std::shared_ptr<DatabaseImpl>> dbs;
      for (const auto& [name, entry] : open_) dbs.push_back(entry.db);
      lock.unlock();
      for (const auto& db : dbs) (void)db->release_resident_pages();  // best effort
      dbs.clear();
      lock.lock();
    }
  }

  // Makes renames and removals in the folder durable.
  Status sync_folder() {
    int fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return Status::io_error("cannot open " + path_ + ": " + std::strerror(errno));
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::io_error("cannot sync " + path_ + ": " + std::strerror(err));
    return Status::ok();
  }

  const std::string path_;
  const std::string uuid_;
  DatabaseContext ctx_;
  int lock_fd_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> open_;
  std::list<std::string> lru_;  // most recently used first
  bool stopping_ = false;       // guarded by mu_
  std::condition_variable stop_cv_;
  std::thread releaser_;
};

// The folder's uuid, from its UUID file, made and written durably (temp
// file, fsync, rename) the first time.
Result<std::string> folder_uuid(const std::string& path, RandomSource* random) {
  const std::string file = (fs::path(path) / "UUID").string();
  if (std::FILE* f = std::fopen(file.c_str(), "r")) {
    char buf[33] = {};
    std::size_t n = std::fread(buf, 1, 32, f);
    std::fclose(f);
    std::string uuid(buf, n);
    bool hex = n == 32 && uuid.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) return Status::corruption(file + " does not hold a uuid");
    return uuid;
  }
  unsigned char bytes[16];
  random->fill(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string uuid;
  for (unsigned char b : bytes) {
    uuid += kHex[b >> 4];
    uuid += kHex[b & 15];
  }
  const std::string temp = file + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error("cannot write " + temp + ": " + std::strerror(errno));
  bool ok = ::write(fd, uuid.data(), uuid.size()) == static_cast<ssize_t>(uuid.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), file.c_str()) != 0) {
    return Status::io_error("cannot write " + file + ": " + std::strerror(errno));
  }
  return uuid;
}

}  // namespace
}  // namespace db

Result<std::unique_ptr<DataDir>> DataDir::open(const std::string& path,
                                               const DataDirOptions& options) {
  namespace fs = std::filesystem;
  DataDirOptions opts = options;
  if (opts.clock == nullptr) opts.clock = Clock::system();
  if (opts.random == nullptr) opts.random = RandomSource::system();
  if (opts.max_group_docs == 0) opts.max_group_docs = 1;

  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (!opts.create_if_missing) return Status::not_found("data folder " + path + " does not exist");
    fs::create_directories(path, ec);
    if (ec) return Status::io_error("cannot create data folder " + path + ": " + ec.message());
  }
  std::string lock_path = (fs::path(path) / db::kLockFile).string();
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::io_error("cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::io_error("data folder " + path + " is in use by another divan process");
    }
    return Status::io_error("cannot lock " + lock_path + ": " + std::strerror(err));
  }
  // Leftovers of a create or delete cut short by a crash: a database half
  // set up under its temporary name, or one renamed away but not removed.
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(".")) continue;
    for (std::string_view suffix : {".creating", ".deleted", ".creating-lock"}) {
      if (name.ends_with(suffix)) fs::remove(entry.path(), ec);
    }
  }
  auto uuid = db::folder_uuid(path, opts.random);
  if (!uuid.is_ok()) {
    ::close(fd);
    return uuid.status();
  }
  return std::unique_ptr<DataDir>(new db::DataDirImpl(path, std::move(uuid.value()), opts, fd));
}

}  // namespace divan
