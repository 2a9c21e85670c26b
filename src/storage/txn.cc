// Cursor, ReadTxn and WriteTxn: thin wrappers over MDB_cursor and MDB_txn.
//
// put() and get() run several times per document in bulk loads, so they do
// nothing but build two MDB_vals and call LMDB; a Status is built only on
// failure.
#include <lmdb.h>

#include <cstring>
#include <utility>

#include "storage/env.h"
#include "storage/env_impl.h"

namespace divan::storage {
namespace {

MDB_val to_val(std::string_view s) {
  // LMDB takes a non-const pointer but does not write through it for keys
  // and for values given to mdb_put without MDB_RESERVE.
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view to_view(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

MDB_txn* txn_of(void* p) { return static_cast<MDB_txn*>(p); }
MDB_cursor* cursor_of(void* p) { return static_cast<MDB_cursor*>(p); }

Result<std::optional<std::string_view>> get_in(MDB_txn* txn, Dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v;
  const int rc = mdb_get(txn, dbi.handle, &k, &v);
  if (rc == 0) return std::optional<std::string_view>(to_view(v));
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  return lmdb_status(rc, "mdb_get");
}

Result<std::uint64_t> count_in(MDB_txn* txn, Dbi dbi) {
  MDB_stat st;
  const int rc = mdb_stat(txn, dbi.handle, &st);
  if (rc != 0) return lmdb_status(rc, "mdb_stat");
  return static_cast<std::uint64_t>(st.ms_entries);
}

}  // namespace

// ---------------------------------------------------------------- Cursor

Cursor::Cursor(Cursor&& other) noexcept { take(other); }

Cursor& Cursor::operator=(Cursor&& other) noexcept {
  if (this != &other) {
    close();
    take(other);
  }
  return *this;
}

Cursor::~Cursor() { close(); }

void Cursor::take(Cursor& other) noexcept {
  cursor_ = std::exchange(other.cursor_, nullptr);
  owner_ = std::exchange(other.owner_, nullptr);
  prev_ = std::exchange(other.prev_, nullptr);
  next_ = std::exchange(other.next_, nullptr);
  valid_ = std::exchange(other.valid_, false);
  key_ = std::exchange(other.key_, {});
  value_ = std::exchange(other.value_, {});
  status_ = std::move(other.status_);
  if (owner_ != nullptr) {  // take other's place in the txn's list
    if (prev_ != nullptr) {
      prev_->next_ = this;
    } else {
      owner_->cursors_ = this;
    }
    if (next_ != nullptr) next_->prev_ = this;
  }
}

void Cursor::close() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_of(cursor_));
  cursor_ = nullptr;
  if (owner_ != nullptr) {
    if (prev_ != nullptr) {
      prev_->next_ = next_;
    } else {
      owner_->cursors_ = next_;
    }
    if (next_ != nullptr) next_->prev_ = prev_;
  }
  owner_ = nullptr;
  prev_ = next_ = nullptr;
  valid_ = false;
  key_ = value_ = {};
}

bool Cursor::move(int op, std::string_view key) {
  if (cursor_ == nullptr) {
    valid_ = false;
    status_ = Status::internal("cursor used after its transaction ended");
    return false;
  }
  MDB_val k = to_val(key);
  MDB_val v{0, nullptr};
  const int rc = mdb_cursor_get(cursor_of(cursor_), &k, &v, static_cast<MDB_cursor_op>(op));
  if (rc == 0) {
    valid_ = true;
    key_ = to_view(k);
    value_ = to_view(v);
    return true;
  }
  valid_ = false;
  key_ = value_ = {};
  if (rc != MDB_NOTFOUND) status_ = lmdb_status(rc, "mdb_cursor_get");
  return false;
}

bool Cursor::first() { return move(MDB_FIRST); }
bool Cursor::last() { return move(MDB_LAST); }
bool Cursor::next() { return move(MDB_NEXT); }
bool Cursor::prev() { return move(MDB_PREV); }
bool Cursor::seek(std::string_view key) { return move(MDB_SET_RANGE, key); }
bool Cursor::seek_exact(std::string_view key) { return move(MDB_SET_KEY, key); }

std::string_view Cursor::key() const { return key_; }
std::string_view Cursor::value() const { return value_; }

// ---------------------------------------------------------------- ReadTxn

ReadTxn::ReadTxn(ReadTxn&& other) noexcept
    : env_(std::exchange(other.env_, nullptr)), txn_(std::exchange(other.txn_, nullptr)) {}

ReadTxn& ReadTxn::operator=(ReadTxn&& other) noexcept {
  if (this != &other) {
    end();
    env_ = std::exchange(other.env_, nullptr);
    txn_ = std::exchange(other.txn_, nullptr);
  }
  return *this;
}

ReadTxn::~ReadTxn() { end(); }

void ReadTxn::end() {
  if (txn_ == nullptr) return;
  Env::Impl& impl = *env_->impl_;
  impl.end_read_txn(txn_of(txn_));
  txn_ = nullptr;
  impl.gate.release_shared();  // only after the txn is gone
}

Result<std::optional<std::string_view>> ReadTxn::get(Dbi dbi, std::string_view key) const {
  return get_in(txn_of(txn_), dbi, key);
}

Result<Cursor> ReadTxn::cursor(Dbi dbi) const {
  MDB_cursor* c = nullptr;
  const int rc = mdb_cursor_open(txn_of(txn_), dbi.handle, &c);
  if (rc != 0) return lmdb_status(rc, "mdb_cursor_open");
  // Read-only cursors are never freed by LMDB; ~Cursor closes them, which
  // lmdb.h allows before or after the txn ends.
  return Cursor(c);
}

Result<std::uint64_t> ReadTxn::count(Dbi dbi) const { return count_in(txn_of(txn_), dbi); }

// ---------------------------------------------------------------- WriteTxn

Status WriteTxn::check(int rc, const char* what) {
  if (rc == MDB_MAP_FULL) map_full_ = true;  // write() grows the map and reruns
  return lmdb_status(rc, what);
}

Result<std::optional<std::string_view>> WriteTxn::get(Dbi dbi, std::string_view key) const {
  return get_in(txn_of(txn_), dbi, key);
}

Status WriteTxn::put(Dbi dbi, std::string_view key, std::string_view value, bool append) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  const int rc = mdb_put(txn_of(txn_), dbi.handle, &k, &v, append ? MDB_APPEND : 0);
  if (rc == 0) [[likely]] return Status();
  return check(rc, "mdb_put");
}

Status WriteTxn::put_parts(Dbi dbi, std::string_view key,
                           std::initializer_list<std::string_view> parts, bool append) {
  MDB_val k = to_val(key);
  MDB_val v{0, nullptr};
  for (std::string_view part : parts) v.mv_size += part.size();
  const int rc = mdb_put(txn_of(txn_), dbi.handle, &k, &v, MDB_RESERVE | (append ? MDB_APPEND : 0));
  if (rc != 0) return check(rc, "mdb_put");
  char* out = static_cast<char*>(v.mv_data);
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    std::memcpy(out, part.data(), part.size());
    out += part.size();
  }
  return Status();
}

Status WriteTxn::put_new(Dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  // MDB_APPEND compares `key` with the last key first and, when it does not
  // sort after it, returns MDB_KEYEXIST before changing anything.
  int rc = mdb_put(txn_of(txn_), dbi.handle, &k, &v, MDB_APPEND);
  if (rc == MDB_KEYEXIST) rc = mdb_put(txn_of(txn_), dbi.handle, &k, &v, 0);
  if (rc == 0) [[likely]] return Status();
  return check(rc, "mdb_put");
}

Status WriteTxn::put_if_absent(Dbi dbi, std::string_view key, std::string_view value,
                               bool* inserted) {
  char* space = nullptr;
  Status s = reserve_if_absent(dbi, key, value.size(), &space, inserted);
  if (space != nullptr && !value.empty()) std::memcpy(space, value.data(), value.size());
  return s;
}

Status WriteTxn::reserve_if_absent(Dbi dbi, std::string_view key, std::size_t size, char** space,
                                   bool* inserted) {
  MDB_val k = to_val(key);
  MDB_val v{size, nullptr};
  *space = nullptr;
  // As in put_new(): MDB_KEYEXIST from MDB_APPEND means only "does not sort
  // last"; MDB_NOOVERWRITE then tells whether the key is there (and points
  // `v` at the value there, which is not ours to write).
  int rc = mdb_put(txn_of(txn_), dbi.handle, &k, &v, MDB_APPEND | MDB_RESERVE);
  if (rc == MDB_KEYEXIST) {
    v = MDB_val{size, nullptr};
    rc = mdb_put(txn_of(txn_), dbi.handle, &k, &v, MDB_NOOVERWRITE | MDB_RESERVE);
  }
  *inserted = rc == 0;
  if (rc == 0) [[likely]] {
    *space = static_cast<char*>(v.mv_data);
    return Status();
  }
  if (rc == MDB_KEYEXIST) return Status();
  return check(rc, "mdb_put");
}

Status WriteTxn::del(Dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  const int rc = mdb_del(txn_of(txn_), dbi.handle, &k, nullptr);
  if (rc == 0 || rc == MDB_NOTFOUND) [[likely]] return Status();
  return check(rc, "mdb_del");
}

Status WriteTxn::clear(Dbi dbi) {
  const int rc = mdb_drop(txn_of(txn_), dbi.handle, 0);
  if (rc == 0) return Status();
  return check(rc, "mdb_drop");
}

Result<Cursor> WriteTxn::cursor(Dbi dbi) const {
  MDB_cursor* c = nullptr;
  const int rc = mdb_cursor_open(txn_of(txn_), dbi.handle, &c);
  if (rc != 0) return lmdb_status(rc, "mdb_cursor_open");
  Cursor cursor(c);
  // Join the front of this txn's list; the Result's moves keep it linked.
  cursor.owner_ = const_cast<WriteTxn*>(this);
  cursor.next_ = cursors_;
  if (cursors_ != nullptr) cursors_->prev_ = &cursor;
  cursors_ = &cursor;
  return cursor;
}

Result<std::uint64_t> WriteTxn::count(Dbi dbi) const { return count_in(txn_of(txn_), dbi); }

void WriteTxn::close_cursors() {
  while (cursors_ != nullptr) cursors_->close();  // close() unlinks it
}

}  // namespace divan::storage
