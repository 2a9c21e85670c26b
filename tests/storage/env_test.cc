#include "storage/env.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

using divan::ErrorCode;
using divan::Status;
using divan::storage::Cursor;
using divan::storage::Dbi;
using divan::storage::DbiFlags;
using divan::storage::Env;
using divan::storage::EnvOptions;
using divan::storage::EnvStats;
using divan::storage::ReadTxn;
using divan::storage::WriteTxn;
using divan::testing::TempDir;

namespace {

std::shared_ptr<Env> must_open(const std::string& path, const EnvOptions& options = {}) {
  auto env = divan::storage::open_env(path, options);
  REQUIRE_MESSAGE(env.is_ok(), env.status().to_string());
  return *env;
}

Dbi must_dbi(Env& env, const std::string& name, DbiFlags flags = DbiFlags::kNone) {
  auto dbi = env.open_dbi(name, flags);
  REQUIRE_MESSAGE(dbi.is_ok(), dbi.status().to_string());
  return *dbi;
}

// The value under `key`, copied, or nullopt.
std::optional<std::string> read(Env& env, Dbi dbi, std::string_view key) {
  auto txn = env.begin_read();
  REQUIRE_MESSAGE(txn.is_ok(), txn.status().to_string());
  auto v = txn->get(dbi, key);
  REQUIRE_MESSAGE(v.is_ok(), v.status().to_string());
  if (!v->has_value()) return std::nullopt;
  return std::string(**v);
}

std::uint64_t count(Env& env, Dbi dbi) {
  auto txn = env.begin_read();
  REQUIRE(txn.is_ok());
  auto n = txn->count(dbi);
  REQUIRE(n.is_ok());
  return *n;
}

Status put_one(Env& env, Dbi dbi, const std::string& key, const std::string& value) {
  return env.write([&](WriteTxn& txn) { return txn.put(dbi, key, value); });
}

std::string key_of(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%07d", i);
  return buf;
}

// A value that names its key, so a reader can tell a torn or wrong read.
std::string value_of(int i, std::size_t size) {
  std::string v = key_of(i) + ":";
  while (v.size() < size) v += static_cast<char>('a' + (i + v.size()) % 26);
  return v;
}

EnvOptions fast_options() {
  EnvOptions o;
  o.sync = false;
  return o;
}

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("put, get, del and count work inside and across transactions") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");

    Status s = env->write([&](WriteTxn& txn) {
      if (Status p = txn.put(dbi, "a", "1"); !p) return p;
      if (Status p = txn.put(dbi, "b", "2"); !p) return p;
      if (Status p = txn.put(dbi, "c", "3"); !p) return p;
      auto got = txn.get(dbi, "b");  // a write txn sees its own writes
      REQUIRE(got.is_ok());
      CHECK(got->value_or("") == "2");
      return txn.put(dbi, "b", "two");  // overwrite
    });
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    CHECK(read(*env, dbi, "a") == "1");
    CHECK(read(*env, dbi, "b") == "two");
    CHECK(read(*env, dbi, "zzz") == std::nullopt);
    CHECK(count(*env, dbi) == 3);

    s = env->write([&](WriteTxn& txn) {
      if (Status d = txn.del(dbi, "a"); !d) return d;
      return txn.del(dbi, "not-there");  // absent is ok
    });
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    CHECK(read(*env, dbi, "a") == std::nullopt);
    CHECK(count(*env, dbi) == 2);

    s = env->write([&](WriteTxn& txn) {
      if (Status c = txn.clear(dbi); !c) return c;
      auto n = txn.count(dbi);
      REQUIRE(n.is_ok());
      CHECK(*n == 0);
      return Status();
    });
    REQUIRE(s.is_ok());
    CHECK(count(*env, dbi) == 0);
  }

  TEST_CASE("a read snapshot does not see writes committed after it began") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");
    REQUIRE(put_one(*env, dbi, "k", "old").is_ok());
    auto snap = env->begin_read();
    REQUIRE(snap.is_ok());
    // Another thread writes: this thread holds a ReadTxn, so it must not.
    std::thread([&] { REQUIRE(put_one(*env, dbi, "k", "new").is_ok()); }).join();
    auto v = snap->get(dbi, "k");
    REQUIRE(v.is_ok());
    CHECK(v->value_or("") == "old");
    CHECK(read(*env, dbi, "k") == "new");
  }

  TEST_CASE("cursors walk keys in memcmp order and seek to the first key not less") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");
    // memcmp order: bytes unsigned, a prefix before its extensions.
    const std::vector<std::string> sorted = {
        std::string("\x00", 1), "A", "B", "a", "a\x01", "ab", "b", "\x7f", "\x80", "\xff"};
    REQUIRE(env->write([&](WriteTxn& txn) {
                 for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) {
                   if (Status s = txn.put(dbi, *it, "v" + *it); !s) return s;
                 }
                 return Status();
               }).is_ok());

    auto txn = env->begin_read();
    REQUIRE(txn.is_ok());
    auto cur = txn->cursor(dbi);
    REQUIRE(cur.is_ok());
    std::vector<std::string> seen;
    for (bool ok = cur->first(); ok; ok = cur->next()) {
      seen.emplace_back(cur->key());
      CHECK(cur->value() == "v" + seen.back());
    }
    CHECK(seen == sorted);
    CHECK(cur->status().is_ok());
    CHECK_FALSE(cur->valid());

    std::vector<std::string> backwards;
    for (bool ok = cur->last(); ok; ok = cur->prev()) backwards.emplace_back(cur->key());
    CHECK(std::vector<std::string>(backwards.rbegin(), backwards.rend()) == sorted);

    REQUIRE(cur->seek(std::string("a\0", 2)));  // between "a" and "a\x01"
    CHECK(cur->key() == "a\x01");
    CHECK(cur->seek("c"));
    CHECK(cur->key() == "\x7f");
    CHECK_FALSE(cur->seek(std::string(3, '\xff')));
    CHECK_FALSE(cur->seek_exact("aa"));
    REQUIRE(cur->seek_exact("ab"));
    CHECK(cur->value() == "vab");
    REQUIRE(cur->next());
    CHECK(cur->key() == "b");
  }

  TEST_CASE("a write cursor is closed by its transaction and may be destroyed after it") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");
    std::optional<Cursor> kept;
    std::optional<Cursor> kept2;
    Status s = env->write([&](WriteTxn& txn) {
      for (int i = 0; i < 5; ++i) {
        if (Status p = txn.put(dbi, key_of(i), "x"); !p) return p;
      }
      auto c1 = txn.cursor(dbi);
      auto c2 = txn.cursor(dbi);
      auto c3 = txn.cursor(dbi);
      REQUIRE((c1.is_ok() && c2.is_ok() && c3.is_ok()));
      CHECK(c1->first());
      CHECK(c2->last());
      kept.emplace(std::move(*c1));   // outlives the txn
      kept2.emplace(std::move(*c3));
      kept2 = std::move(*c2);         // move-assign over a live cursor
      CHECK(kept->key() == key_of(0));
      CHECK(kept2->key() == key_of(4));
      return Status();
    });
    REQUIRE(s.is_ok());
    // The txn closed them; using them now fails cleanly instead of crashing.
    CHECK_FALSE(kept->next());
    CHECK(kept->status().code() == ErrorCode::kInternal);
    kept.reset();
    kept2.reset();
    CHECK(count(*env, dbi) == 5);
  }

  TEST_CASE("data survives closing and reopening the environment") {
    TempDir dir;
    const std::string path = dir.file("db");
    {
      auto env = must_open(path);
      Dbi a = must_dbi(*env, "a");
      Dbi b = must_dbi(*env, "b", DbiFlags::kDupSort);
      REQUIRE(put_one(*env, a, "hello", "world").is_ok());
      REQUIRE(env->write([&](WriteTxn& txn) {
                   if (Status s = txn.put(b, "k", "1"); !s) return s;
                   return txn.put(b, "k", "2");
                 }).is_ok());
    }
    auto env = must_open(path);
    Dbi a = must_dbi(*env, "a");
    Dbi b = must_dbi(*env, "b", DbiFlags::kDupSort);
    CHECK(read(*env, a, "hello") == "world");
    CHECK(count(*env, b) == 2);
  }

  TEST_CASE("the registry hands out one Env per file, however the path is spelled") {
    TempDir dir;
    std::filesystem::create_directory(dir.file("sub"));
    std::filesystem::create_directory_symlink(dir.file("sub"), dir.file("link"));
    EnvOptions options;
    options.initial_map_size = 1 << 16;

    auto env = must_open(dir.file("sub/db"), options);
    auto same = must_open(dir.path() + "/./sub/../sub/db");
    auto via_link = must_open(dir.file("link/db"));
    CHECK(same.get() == env.get());
    CHECK(via_link.get() == env.get());
    CHECK(env->path() == std::filesystem::canonical(dir.file("sub/db")).string());

    // A relative spelling from inside the folder.
    const auto old_cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir.file("sub"));
    auto relative = divan::storage::open_env("./db", {});
    std::filesystem::current_path(old_cwd);
    REQUIRE(relative.is_ok());
    CHECK(relative->get() == env.get());

    // The first opener's options win.
    auto stats = env->stats();
    REQUIRE(stats.is_ok());
    CHECK(stats->map_size == (1u << 16));

    auto other = must_open(dir.file("other"));
    CHECK(other.get() != env.get());
  }

  TEST_CASE("opening one path from many threads at once yields a single Env") {
    TempDir dir;
    const std::string path = dir.file("db");
    for (int round = 0; round < 20; ++round) {
      std::vector<std::shared_ptr<Env>> got(4);
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          auto env = divan::storage::open_env(path, fast_options());
          if (env.is_ok()) got[t] = *env;
        });
      }
      for (auto& t : threads) t.join();
      for (auto& e : got) {
        REQUIRE(e != nullptr);
        CHECK(e.get() == got[0].get());
      }
    }  // each round drops every handle, closing the Env
  }

  TEST_CASE("the map grows from a tiny size while readers keep reading") {
    TempDir dir;
    EnvOptions options = fast_options();
    options.initial_map_size = 64 * 1024;
    auto env = must_open(dir.file("db"), options);
    Dbi dbi = must_dbi(*env, "docs");
    auto before = env->stats();
    REQUIRE(before.is_ok());
    CHECK(before->map_size == 64 * 1024);

    constexpr int kBatches = 60;
    constexpr int kPerBatch = 100;
    constexpr std::size_t kValueSize = 1000;  // ~6 MB in all
    std::atomic<int> committed{0};            // docs known to be committed
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0};
    std::atomic<int> errors{0};

    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
      readers.emplace_back([&, r] {
        unsigned x = 12345u + r;
        while (!stop) {
          const int n = committed.load();
          auto txn = env->begin_read();
          if (!txn) {
            ++errors;
            continue;
          }
          for (int j = 0; n > 0 && j < 4; ++j) {  // a few reads per snapshot
            x = x * 1103515245u + 12345u;
            const int i = static_cast<int>(x % static_cast<unsigned>(n));
            auto v = txn->get(dbi, key_of(i));
            if (!v || !v->has_value() || **v != value_of(i, kValueSize)) ++errors;
          }
          auto c = txn->count(dbi);
          if (!c || *c < static_cast<std::uint64_t>(n)) ++errors;
          ++reads;
        }
      });
    }

    for (int b = 0; b < kBatches; ++b) {
      int attempts = 0;
      Status s = env->write([&](WriteTxn& txn) {
        ++attempts;
        for (int i = b * kPerBatch; i < (b + 1) * kPerBatch; ++i) {
          if (Status p = txn.put(dbi, key_of(i), value_of(i, kValueSize)); !p) return p;
        }
        return Status();
      });
      REQUIRE_MESSAGE(s.is_ok(), s.to_string());
      committed = (b + 1) * kPerBatch;
      // Let the readers in between writes, so they overlap every growth.
      const long seen = reads.load();
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (reads.load() < seen + 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
    stop = true;
    for (auto& t : readers) t.join();
    CHECK(errors.load() == 0);
    CHECK(reads.load() >= 3 * kBatches);

    auto after = env->stats();
    REQUIRE(after.is_ok());
    CHECK(after->map_size >= 4 * 1024 * 1024);
    CHECK(after->used_size <= after->map_size);
    CHECK(count(*env, dbi) == kBatches * kPerBatch);
    for (int i = 0; i < kBatches * kPerBatch; i += 97) {
      CHECK(read(*env, dbi, key_of(i)) == value_of(i, kValueSize));
    }
  }

  TEST_CASE("growth stops at max_map_size with disk_full and nothing written") {
    TempDir dir;
    EnvOptions options = fast_options();
    options.initial_map_size = 64 * 1024;
    options.max_map_size = 256 * 1024;
    auto env = must_open(dir.file("db"), options);
    Dbi dbi = must_dbi(*env, "docs");
    REQUIRE(put_one(*env, dbi, "keep", "me").is_ok());

    int attempts = 0;
    Status s = env->write([&](WriteTxn& txn) {
      ++attempts;
      for (int i = 0; i < 1000; ++i) {  // ~1 MB, four times the bound
        if (Status p = txn.put(dbi, key_of(i), value_of(i, 1000)); !p) return p;
      }
      return Status();
    });
    CHECK(s.code() == ErrorCode::kDiskFull);
    CHECK(attempts >= 2);  // it did grow before giving up
    CHECK(count(*env, dbi) == 1);
    CHECK(read(*env, dbi, "keep") == "me");
    auto stats = env->stats();
    REQUIRE(stats.is_ok());
    CHECK(stats->map_size == 256 * 1024);
    // Not sticky: a write that fits goes through.
    CHECK(env->write_error().is_ok());
    CHECK(put_one(*env, dbi, "small", "ok").is_ok());
  }

  TEST_CASE("a failed commit refuses later writes until the Env is reopened") {
    TempDir dir;
    const std::string path = dir.file("db");
    {
      EnvOptions options;
      options.fail_commit_number = 2;
      auto env = must_open(path, options);
      Dbi dbi = must_dbi(*env, "docs");  // opening a Dbi is not counted
      REQUIRE(put_one(*env, dbi, "one", "1").is_ok());
      Status s = put_one(*env, dbi, "two", "2");
      CHECK(s.code() == ErrorCode::kIoError);
      CHECK(s.reason().find("reopen") != std::string::npos);
      CHECK(read(*env, dbi, "two") == std::nullopt);
      CHECK(read(*env, dbi, "one") == "1");  // reads still work

      bool ran = false;
      Status later = env->write([&](WriteTxn&) {
        ran = true;
        return Status();
      });
      CHECK_FALSE(ran);
      CHECK(later.code() == ErrorCode::kIoError);
      CHECK(later.reason() == s.reason());
      CHECK(env->write_error().code() == ErrorCode::kIoError);
      CHECK(env->compact().code() == ErrorCode::kIoError);
    }
    auto env = must_open(path);
    CHECK(env->write_error().is_ok());
    Dbi dbi = must_dbi(*env, "docs");
    CHECK(put_one(*env, dbi, "three", "3").is_ok());
    CHECK(read(*env, dbi, "one") == "1");
    CHECK(read(*env, dbi, "two") == std::nullopt);
    CHECK(read(*env, dbi, "three") == "3");
  }

  TEST_CASE("an error from the write function aborts the whole transaction") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");
    REQUIRE(put_one(*env, dbi, "a", "old").is_ok());
    Status s = env->write([&](WriteTxn& txn) {
      if (Status p = txn.put(dbi, "a", "new"); !p) return p;
      if (Status p = txn.put(dbi, "b", "new"); !p) return p;
      return Status::conflict();
    });
    CHECK(s.code() == ErrorCode::kConflict);
    CHECK(read(*env, dbi, "a") == "old");
    CHECK(read(*env, dbi, "b") == std::nullopt);
    CHECK(env->write_error().is_ok());  // not sticky
    CHECK(put_one(*env, dbi, "b", "later").is_ok());
  }

  TEST_CASE("write() that must grow the map fails instead of hanging when its thread holds a ReadTxn") {
    TempDir dir;
    EnvOptions options = fast_options();
    options.initial_map_size = 64 * 1024;
    auto env = must_open(dir.file("db"), options);
    Dbi dbi = must_dbi(*env, "docs");
    auto txn = env->begin_read();
    REQUIRE(txn.is_ok());
    Status s = env->write([&](WriteTxn& w) {
      for (int i = 0; i < 500; ++i) {
        if (Status p = w.put(dbi, key_of(i), value_of(i, 1000)); !p) return p;
      }
      return Status();
    });
    CHECK(s.code() == ErrorCode::kInternal);
    txn = env->begin_read();  // move-assign ends the old snapshot first
    REQUIRE(txn.is_ok());
    CHECK(txn->count(dbi).value() == 0);
  }

  TEST_CASE("compact shrinks the file and keeps the data and the Dbi handles") {
    TempDir dir;
    const std::string path = dir.file("db");
    auto env = must_open(path, fast_options());
    Dbi meta = must_dbi(*env, "meta");
    Dbi docs = must_dbi(*env, "docs");
    Dbi dups = must_dbi(*env, "dups", DbiFlags::kDupSort);
    constexpr int kDocs = 3000;
    REQUIRE(put_one(*env, meta, "name", "db").is_ok());
    REQUIRE(env->write([&](WriteTxn& txn) {
                 for (int i = 0; i < kDocs; ++i) {
                   if (Status s = txn.put(docs, key_of(i), value_of(i, 1500)); !s) return s;
                 }
                 if (Status s = txn.put(dups, "d", "x"); !s) return s;
                 return txn.put(dups, "d", "y");
               }).is_ok());
    REQUIRE(env->write([&](WriteTxn& txn) {
                 for (int i = 0; i < kDocs; ++i) {
                   if (i % 20 == 0) continue;
                   if (Status s = txn.del(docs, key_of(i)); !s) return s;
                 }
                 return Status();
               }).is_ok());
    auto before = env->stats();
    REQUIRE(before.is_ok());
    CHECK(read(*env, docs, key_of(20)) == value_of(20, 1500));

    // A reader thread keeps reading through the compaction.
    std::atomic<bool> stop{false};
    std::atomic<int> errors{0};
    std::atomic<long> reads{0};
    std::thread reader([&] {
      while (!stop) {
        auto txn = env->begin_read();
        if (!txn) {
          ++errors;
          continue;
        }
        auto v = txn->get(docs, key_of(40));
        if (!v || !v->has_value() || **v != value_of(40, 1500)) ++errors;
        ++reads;
      }
    });
    while (reads.load() == 0) std::this_thread::yield();
    Status s = env->compact();
    const long reads_at_compact = reads.load();
    while (reads.load() < reads_at_compact + 10) std::this_thread::yield();  // reads go on after
    stop = true;
    reader.join();
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    CHECK(errors.load() == 0);

    auto after = env->stats();
    REQUIRE(after.is_ok());
    CHECK(after->file_size * 4 < before->file_size);
    CHECK(after->used_size <= after->file_size);
    CHECK(after->map_size >= before->map_size);
    CHECK_FALSE(std::filesystem::exists(path + ".compact"));

    // Same handles, same data, and the Env still writes.
    CHECK(must_dbi(*env, "docs").handle == docs.handle);
    CHECK(read(*env, meta, "name") == "db");
    CHECK(count(*env, docs) == kDocs / 20);
    CHECK(count(*env, dups) == 2);
    for (int i = 0; i < kDocs; i += 20) CHECK(read(*env, docs, key_of(i)) == value_of(i, 1500));
    CHECK(read(*env, docs, key_of(1)) == std::nullopt);
    REQUIRE(put_one(*env, docs, "after", "compact").is_ok());
    CHECK(read(*env, docs, "after") == "compact");

    // And all of it is in the file: reopen and look again.
    env.reset();
    env = must_open(path);
    docs = must_dbi(*env, "docs");
    CHECK(count(*env, docs) == kDocs / 20 + 1);
    CHECK(read(*env, docs, key_of(2980)) == value_of(2980, 1500));
  }

  TEST_CASE("compact refuses to run on a thread that holds a ReadTxn") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");
    REQUIRE(put_one(*env, dbi, "a", "1").is_ok());
    auto txn = env->begin_read();
    REQUIRE(txn.is_ok());
    CHECK(env->compact().code() == ErrorCode::kInternal);
    CHECK(txn->get(dbi, "a").value().value_or("") == "1");
    CHECK_FALSE(std::filesystem::exists(dir.file("db.compact")));
  }

  TEST_CASE("stats report the file, the used part, the map and the page size") {
    TempDir dir;
    const std::string path = dir.file("db");
    EnvOptions options;
    options.initial_map_size = 1000;  // rounded up to the OS page size
    auto env = must_open(path, options);
    Dbi dbi = must_dbi(*env, "docs");
    auto s0 = env->stats();
    REQUIRE(s0.is_ok());
    const auto os_page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    CHECK(s0->page_size > 0);
    CHECK(s0->map_size % os_page == 0);
    CHECK(s0->file_size == std::filesystem::file_size(path));
    CHECK(s0->used_size >= 2 * s0->page_size);  // two meta pages at least

    REQUIRE(put_one(*env, dbi, "big", std::string(200000, 'x')).is_ok());
    auto s1 = env->stats();
    REQUIRE(s1.is_ok());
    CHECK(s1->used_size >= s0->used_size + 200000);
    CHECK(s1->file_size >= s1->used_size);
    CHECK(s1->map_size >= s1->used_size);
  }

  TEST_CASE("a DupSort sub-database keeps several sorted values per key") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "revs", DbiFlags::kDupSort);
    CHECK(must_dbi(*env, "revs", DbiFlags::kDupSort).handle == dbi.handle);
    CHECK(env->open_dbi("revs").status().code() == ErrorCode::kInternal);  // other flags
    REQUIRE(env->write([&](WriteTxn& txn) {
                 for (const char* v : {"3-c", "1-a", "2-b", "2-b"}) {  // a repeat is a no-op
                   if (Status s = txn.put(dbi, "doc", v); !s) return s;
                 }
                 return txn.put(dbi, "other", "1-z");
               }).is_ok());
    CHECK(count(*env, dbi) == 4);
    {
      auto txn = env->begin_read();
      REQUIRE(txn.is_ok());
      CHECK(txn->get(dbi, "doc").value().value_or("") == "1-a");  // the first duplicate
      auto cur = txn->cursor(dbi);
      REQUIRE(cur.is_ok());
      std::vector<std::string> values;
      for (bool ok = cur->seek_exact("doc"); ok && cur->key() == "doc"; ok = cur->next()) {
        values.emplace_back(cur->value());
      }
      CHECK(values == std::vector<std::string>{"1-a", "2-b", "3-c"});
    }

    // del removes the key with all its values.
    REQUIRE(env->write([&](WriteTxn& w) { return w.del(dbi, "doc"); }).is_ok());
    CHECK(count(*env, dbi) == 1);
  }

  TEST_CASE("appending puts in key order works and an out of order append is refused") {
    TempDir dir;
    auto env = must_open(dir.file("db"), fast_options());
    Dbi dbi = must_dbi(*env, "by_seq");
    REQUIRE(env->write([&](WriteTxn& txn) {
                 for (int i = 0; i < 5000; ++i) {
                   if (Status s = txn.put(dbi, key_of(i), "v", /*append=*/true); !s) return s;
                 }
                 return Status();
               }).is_ok());
    CHECK(count(*env, dbi) == 5000);
    CHECK(read(*env, dbi, key_of(4999)) == "v");
    Status s = env->write([&](WriteTxn& txn) { return txn.put(dbi, key_of(10), "w", true); });
    CHECK_FALSE(s.is_ok());
    CHECK(read(*env, dbi, key_of(10)) == "v");
    CHECK(env->write_error().is_ok());
  }

  TEST_CASE("put_if_absent inserts absent keys, in or out of order, and leaves present ones") {
    TempDir dir;
    auto env = must_open(dir.file("db"), fast_options());
    Dbi dbi = must_dbi(*env, "docs");
    std::vector<bool> inserted;
    REQUIRE(env->write([&](WriteTxn& txn) {
                 // Ascending (appended), then keys in between, then repeats.
                 for (int i : {10, 20, 30, 15, 5, 30, 10, 25, 40}) {
                   bool ins = false;
                   std::string value = "v";
                   value += std::to_string(i);
                   if (Status s = txn.put_if_absent(dbi, key_of(i), value, &ins);
                       !s) {
                     return s;
                   }
                   inserted.push_back(ins);
                 }
                 return Status();
               }).is_ok());
    CHECK(inserted == std::vector<bool>{true, true, true, true, true, false, false, true, true});
    CHECK(count(*env, dbi) == 7);
    CHECK(read(*env, dbi, key_of(30)) == "v30");  // the first put stands
    CHECK(read(*env, dbi, key_of(15)) == "v15");
    bool ins = true;
    Status s = env->write([&](WriteTxn& txn) { return txn.put_if_absent(dbi, "", "v", &ins); });
    CHECK(s.code() == ErrorCode::kBadRequest);
    CHECK_FALSE(ins);
  }

  TEST_CASE("reserve_if_absent leaves room for the value in place, only for absent keys") {
    TempDir dir;
    auto env = must_open(dir.file("db"), fast_options());
    Dbi dbi = must_dbi(*env, "docs");
    std::vector<bool> inserted;
    REQUIRE(env->write([&](WriteTxn& txn) {
                 // Appended, then in between, then a repeat, then an empty value.
                 for (int i : {10, 20, 15, 20, 30}) {
                   const std::string value = i == 30 ? "" : "value " + std::to_string(i);
                   char* space = reinterpret_cast<char*>(1);
                   bool ins = false;
                   if (Status s = txn.reserve_if_absent(dbi, key_of(i), value.size(), &space, &ins); !s) {
                     return s;
                   }
                   inserted.push_back(ins);
                   if (!ins) {
                     if (space != nullptr) return Status::internal("space given for a present key");
                     continue;
                   }
                   if (space == nullptr) return Status::internal("no space for an absent key");
                   std::memcpy(space, value.data(), value.size());
                 }
                 return Status();
               }).is_ok());
    CHECK(inserted == std::vector<bool>{true, true, true, false, true});
    CHECK(read(*env, dbi, key_of(10)) == "value 10");
    CHECK(read(*env, dbi, key_of(15)) == "value 15");
    CHECK(read(*env, dbi, key_of(20)) == "value 20");  // not overwritten
    CHECK(read(*env, dbi, key_of(30)) == "");
    CHECK(count(*env, dbi) == 4);
  }

  TEST_CASE("put_parts stores its parts one after the other, appended or not") {
    TempDir dir;
    auto env = must_open(dir.file("db"), fast_options());
    Dbi dbi = must_dbi(*env, "by_seq");
    const std::string big(5000, 'b');  // an overflow page
    REQUIRE(env->write([&](WriteTxn& txn) {
                 if (Status s = txn.put_parts(dbi, key_of(1), {"head", "", "-body"}, true); !s) return s;
                 if (Status s = txn.put_parts(dbi, key_of(3), {"x", big}, true); !s) return s;
                 if (Status s = txn.put_parts(dbi, key_of(2), {}, false); !s) return s;
                 // Overwrites the value of a present key.
                 return txn.put_parts(dbi, key_of(1), {"new", "er"}, false);
               }).is_ok());
    CHECK(read(*env, dbi, key_of(1)) == "newer");
    CHECK(read(*env, dbi, key_of(2)) == "");
    CHECK(read(*env, dbi, key_of(3)) == "x" + big);
    // An append out of order is refused and changes nothing.
    Status s = env->write([&](WriteTxn& txn) { return txn.put_parts(dbi, key_of(2), {"no"}, true); });
    CHECK_FALSE(s.is_ok());
    CHECK(read(*env, dbi, key_of(2)) == "");
    CHECK(env->write_error().is_ok());
  }

  TEST_CASE("a key LMDB cannot store is a bad request, not a crash") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");
    CHECK(put_one(*env, dbi, std::string(2000, 'k'), "v").code() == ErrorCode::kBadRequest);
    CHECK(put_one(*env, dbi, "", "v").code() == ErrorCode::kBadRequest);
    CHECK(put_one(*env, dbi, "fine", "v").is_ok());
  }

  TEST_CASE("opening a file that is not an LMDB environment fails cleanly") {
    TempDir dir;
    for (std::size_t size : {std::size_t{100}, std::size_t{65536}}) {
      CAPTURE(size);
      const std::string path = dir.file("garbage" + std::to_string(size));
      {
        std::ofstream out(path, std::ios::binary);
        unsigned x = 42;
        for (std::size_t i = 0; i < size; ++i) {
          x = x * 1103515245u + 12345u;
          out.put(static_cast<char>(x >> 16));
        }
      }
      auto env = divan::storage::open_env(path, {});
      REQUIRE_FALSE(env.is_ok());
      const ErrorCode code = env.status().code();
      CHECK((code == ErrorCode::kCorruption || code == ErrorCode::kIoError));
      CHECK(env.status().reason().find(path) != std::string::npos);
    }
  }

  TEST_CASE("remove_env_files deletes a closed environment and refuses an open one") {
    TempDir dir;
    const std::string path = dir.file("db");
    auto env = must_open(path);
    Dbi dbi = must_dbi(*env, "docs");
    REQUIRE(put_one(*env, dbi, "a", "1").is_ok());
    CHECK_FALSE(divan::storage::remove_env_files(path).is_ok());
    CHECK(std::filesystem::exists(path));
    env.reset();
    CHECK(divan::storage::remove_env_files(path).is_ok());
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(path + "-lock"));
    CHECK(divan::storage::remove_env_files(path).is_ok());  // already gone is fine
    env = must_open(path);
    CHECK(count(*env, must_dbi(*env, "docs")) == 0);
  }

  TEST_CASE("one thread may hold many read transactions at once") {
    TempDir dir;
    auto env = must_open(dir.file("db"));
    Dbi dbi = must_dbi(*env, "docs");
    REQUIRE(put_one(*env, dbi, "a", "1").is_ok());
    for (int round = 0; round < 3; ++round) {  // exercises the pool of reset txns
      std::vector<ReadTxn> txns;
      for (int i = 0; i < 40; ++i) {
        auto t = env->begin_read();
        REQUIRE(t.is_ok());
        txns.push_back(std::move(*t));
      }
      for (auto& t : txns) CHECK(t.get(dbi, "a").value().value_or("") == "1");
    }
  }
}


TEST_SUITE("storage") {
  TEST_CASE("release_resident_pages unmaps read pages, and reads still see the data") {
    divan::testing::TempDir tmp;
    divan::storage::EnvOptions o;
    auto env = divan::storage::open_env(tmp.file("big"), o);
    REQUIRE(env.is_ok());
    auto dbi = (*env)->open_dbi("d");
    REQUIRE(dbi.is_ok());
    const std::string value(4000, 'v');
    REQUIRE((*env)->write([&](divan::storage::WriteTxn& txn) {
      for (int i = 0; i < 8000; ++i) {
        char key[16];
        std::snprintf(key, sizeof key, "k%08d", i);
        if (divan::Status s = txn.put(*dbi, key, value); !s.is_ok()) return s;
      }
      return divan::Status::ok();
    }).is_ok());
    auto read_all = [&] {
      auto txn = (*env)->begin_read();
      REQUIRE(txn.is_ok());
      auto c = txn->cursor(*dbi);
      REQUIRE(c.is_ok());
      std::size_t n = 0, bytes = 0;
      for (bool ok = c->first(); ok; ok = c->next()) {
        ++n;
        bytes += c->value().size();
        CHECK(c->value().back() == 'v');
      }
      CHECK(n == 8000);
      CHECK(bytes == 8000 * value.size());
    };
    read_all();
    long before = divan::testing::rss_file_kib();
    REQUIRE(before > 0);
    // A reader running throughout keeps working.
    std::atomic<bool> stop{false};
    std::thread reader([&] {
      while (!stop) read_all();
    });
    Status released = (*env)->release_resident_pages();
    stop = true;
    reader.join();
    REQUIRE_MESSAGE(released.is_ok(), released.to_string());
    REQUIRE((*env)->release_resident_pages().is_ok());
    long after = divan::testing::rss_file_kib();
    CAPTURE(before);
    CAPTURE(after);
    CHECK(before - after > 20 * 1024);  // about 32 MB were mapped in
    read_all();
  }
}
