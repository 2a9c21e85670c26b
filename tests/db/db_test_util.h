// Helpers for the database tests: a fresh data folder with one database,
// and short ways to write and read documents.
#ifndef DIVAN_TESTS_DB_DB_TEST_UTIL_H_
#define DIVAN_TESTS_DB_DB_TEST_UTIL_H_

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "divan/divan.h"
#include "test_util.h"

namespace divan::testing {

// A fixed clock, so instance_start_time and the like are known in tests.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t micros) : micros_(micros) {}
  std::int64_t now_micros() override { return micros_; }

 private:
  std::int64_t micros_;
};

struct TestDb {
  explicit TestDb(DataDirOptions options = {}, const std::string& name = "db") {
    auto dir_or = DataDir::open(tmp.path() + "/data", options);
    REQUIRE_MESSAGE(dir_or.is_ok(), dir_or.status().to_string());
    dir = std::move(dir_or.value());
    auto db_or = dir->create_database(name);
    REQUIRE_MESSAGE(db_or.is_ok(), db_or.status().to_string());
    db = db_or.value();
  }

  // Closes and reopens the data folder and the database.
  void reopen(DataDirOptions options = {}, const std::string& name = "db") {
    db.reset();
    dir.reset();
    auto dir_or = DataDir::open(tmp.path() + "/data", options);
    REQUIRE_MESSAGE(dir_or.is_ok(), dir_or.status().to_string());
    dir = std::move(dir_or.value());
    auto db_or = dir->open_database(name);
    REQUIRE_MESSAGE(db_or.is_ok(), db_or.status().to_string());
    db = db_or.value();
  }

  // Writes `json`; REQUIREs success and returns the new rev.
  std::string put(const std::string& json, PutOptions options = {}) {
    auto r = db->put(json, options);
    REQUIRE_MESSAGE(r.is_ok(), std::string(json + " -> " + r.status().to_string()));
    return r->rev;
  }

  // The winner's JSON (CouchDB form), or the error as "error: reason".
  std::string get_json(const std::string& id, GetOptions options = {}) {
    auto d = db->get(id, options);
    if (!d.is_ok()) return d.status().to_string();
    return d->to_json();
  }

  TempDir tmp;
  std::unique_ptr<DataDir> dir;
  std::shared_ptr<Database> db;
};

}  // namespace divan::testing

#endif  // DIVAN_TESTS_DB_DB_TEST_UTIL_H_
