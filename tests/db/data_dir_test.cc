// DataDir: many databases in one folder.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "db_test_util.h"

using divan::DataDir;
using divan::DataDirOptions;
using divan::ErrorCode;
using divan::testing::FixedClock;
using divan::testing::TempDir;

TEST_SUITE("db") {
  TEST_CASE("databases are created, listed, opened and deleted") {
    TempDir tmp;
    auto dir = DataDir::open(tmp.path() + "/d");
    REQUIRE(dir.is_ok());
    for (const char* name : {"b", "a/b", "_users", "x$(y)+-_/z", "_replicator", "team/_users"}) {
      CAPTURE(name);
      REQUIRE((*dir)->create_database(name).is_ok());
    }
    auto list = (*dir)->list_databases();
    REQUIRE(list.is_ok());
    CHECK(*list == std::vector<std::string>{"_replicator", "_users", "a/b", "b", "team/_users",
                                            "x$(y)+-_/z"});
    auto dup = (*dir)->create_database("b");
    CHECK(dup.status().code() == ErrorCode::kFileExists);
    CHECK(dup.status().reason() == "The database could not be created, the file already exists.");
    CHECK((*dir)->open_database("nope").status().reason() == "Database does not exist.");
    CHECK((*dir)->delete_database("nope").reason() == "Database does not exist.");

    auto a = (*dir)->open_database("a/b");
    REQUIRE(a.is_ok());
    auto again = (*dir)->open_database("a/b");
    CHECK(a->get() == again->get());  // one Database per name
    REQUIRE((*a)->put(R"({"_id":"x"})").is_ok());
    REQUIRE((*dir)->delete_database("a/b").is_ok());
    // Handles held across the deletion fail from then on.
    CHECK((*a)->get("x").status().reason() == "Database does not exist.");
    CHECK((*a)->put(R"({"_id":"y"})").status().code() == ErrorCode::kNotFound);
    CHECK((*dir)->open_database("a/b").status().code() == ErrorCode::kNotFound);
    // Re-created, it is new and empty, even while the old handle lives.
    auto fresh = (*dir)->create_database("a/b");
    REQUIRE(fresh.is_ok());
    CHECK((*fresh)->info()->doc_count == 0);
    CHECK((*fresh)->get("x").status().reason() == "missing");
  }

  TEST_CASE("a second opener of the folder is refused") {
    TempDir tmp;
    auto first = DataDir::open(tmp.path());
    REQUIRE(first.is_ok());
    auto second = DataDir::open(tmp.path());
    REQUIRE_FALSE(second.is_ok());
    CHECK(second.status().code() == ErrorCode::kIoError);
    first.value().reset();
    CHECK(DataDir::open(tmp.path()).is_ok());
  }

  TEST_CASE("a database outlives its DataDir and still makes ids and parses large arrays") {
    TempDir tmp;
    std::shared_ptr<divan::Database> db;
    {
      auto dir = DataDir::open(tmp.path());
      REQUIRE(dir.is_ok());
      auto made = (*dir)->create_database("kept");
      REQUIRE(made.is_ok());
      db = *made;
    }  // the DataDir is gone; its id generator and helper thread live on
    auto one = db->put(R"({"v":1})");
    REQUIRE(one.is_ok());
    CHECK(one->id.size() == 32);
    std::string arr = "[";
    for (int i = 0; i < 1000; ++i) {  // about 100 KB: parsed on the helper thread
      if (i > 0) arr += ",";
      arr += R"({"n":)" + std::to_string(i) + R"(,"pad":")" + std::string(80, 'x') + R"("})";
    }
    arr += "]";
    auto many = db->bulk_docs(arr);
    REQUIRE(many.is_ok());
    REQUIRE(many->size() == 1000);
    for (const auto& r : *many) {
      CHECK(r.status.is_ok());
      CHECK(r.id.size() == 32);
    }
    CHECK(db->info()->doc_count == 1001);
  }

  TEST_CASE("a missing folder is created only when asked") {
    TempDir tmp;
    DataDirOptions o;
    o.create_if_missing = false;
    CHECK(DataDir::open(tmp.path() + "/none", o).status().code() == ErrorCode::kNotFound);
    CHECK(DataDir::open(tmp.path() + "/made").is_ok());
  }

  TEST_CASE("instance_start_time is the creation time and survives reopening") {
    TempDir tmp;
    FixedClock clock(1'700'000'123'456'789);
    DataDirOptions o;
    o.clock = &clock;
    {
      auto dir = DataDir::open(tmp.path(), o);
      auto db = (*dir)->create_database("x");
      CHECK((*db)->info()->instance_start_time == "1700000123");
    }
    FixedClock later(1'800'000'000'000'000);
    o.clock = &later;
    auto dir = DataDir::open(tmp.path(), o);
    CHECK((*(*dir)->open_database("x"))->info()->instance_start_time == "1700000123");
  }

  TEST_CASE("idle databases beyond max_open_databases are closed, held ones never") {
    TempDir tmp;
    DataDirOptions o;
    o.max_open_databases = 2;
    auto dir = DataDir::open(tmp.path(), o);
    std::shared_ptr<divan::Database> held;
    for (int i = 0; i < 20; ++i) {
      auto db = (*dir)->create_database("db" + std::to_string(i));
      REQUIRE(db.is_ok());
      REQUIRE((*db)->put("{\"_id\":\"d\"}").is_ok());
      if (i == 0) held = *db;
    }
    CHECK(held->get("d").is_ok());
    for (int i = 0; i < 20; ++i) {
      auto db = (*dir)->open_database("db" + std::to_string(i));
      REQUIRE(db.is_ok());
      CHECK((*db)->get("d").is_ok());
    }
    CHECK((*(*dir)->open_database("db0")).get() == held.get());
  }

  TEST_CASE("many threads create, write and open databases at once") {
    TempDir tmp;
    auto dir = DataDir::open(tmp.path());
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 10; ++i) {
          std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
          auto db = (*dir)->create_database(name);
          if (!db.is_ok() || !(*db)->put("{\"_id\":\"x\"}").is_ok()) ++failures;
          auto shared = (*dir)->open_database("t0_0");
          (void)shared;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK((*dir)->list_databases()->size() == 80);
  }
}

TEST_SUITE("db") {
  TEST_CASE("leftovers of an interrupted create or delete are cleaned up at open") {
    TempDir tmp;
    {
      auto dir = DataDir::open(tmp.path());
      REQUIRE((*dir)->create_database("keep").is_ok());
    }
    for (const char* junk : {".half.divan.creating", ".half.divan.creating-lock", ".gone.divan.deleted"}) {
      std::FILE* f = std::fopen((tmp.path() + "/" + junk).c_str(), "w");
      REQUIRE(f != nullptr);
      std::fclose(f);
    }
    auto dir = DataDir::open(tmp.path());
    REQUIRE(dir.is_ok());
    CHECK(*(*dir)->list_databases() == std::vector<std::string>{"keep"});
    for (const char* junk : {".half.divan.creating", ".half.divan.creating-lock", ".gone.divan.deleted"}) {
      CHECK_FALSE(std::filesystem::exists(tmp.path() + "/" + junk));
    }
  }
}

TEST_SUITE("db") {
  TEST_CASE("a data folder has a uuid of its own that lasts") {
    TempDir a, b;
    std::string first;
    {
      auto dir = DataDir::open(a.path());
      REQUIRE(dir.is_ok());
      first = (*dir)->uuid();
      CHECK(first.size() == 32);
      CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
    CHECK((*DataDir::open(a.path()))->uuid() == first);
    CHECK((*DataDir::open(b.path()))->uuid() != first);
  }
}


TEST_SUITE("db") {
  TEST_CASE("with release_pages_interval, file pages that reads mapped in are handed back") {
    // Without the releasing thread, reading the whole 30 MB database would
    // leave its pages mapped in for good; with it, the process's file-backed
    // memory falls back to about what it was before the database existed.
    const long baseline = divan::testing::rss_file_kib();
    REQUIRE(baseline > 0);
    TempDir tmp;
    DataDirOptions o;
    o.release_pages_interval = std::chrono::milliseconds(50);
    auto dir = DataDir::open(tmp.path(), o);
    REQUIRE(dir.is_ok());
    auto db = (*dir)->create_database("big");
    REQUIRE(db.is_ok());
    const std::string pad(3000, 'p');
    for (int batch = 0; batch < 10; ++batch) {
      std::string docs = "[";
      for (int i = 0; i < 1000; ++i) {
        docs += (i ? "," : "") + std::string("{\"_id\":\"d") + std::to_string(batch * 1000 + i) +
                "\",\"pad\":\"" + pad + "\"}";
      }
      REQUIRE((*db)->bulk_docs(docs + "]").is_ok());
    }
    divan::AllDocsOptions all;
    all.include_docs = true;
    auto r = (*db)->all_docs(all);  // maps every page in
    REQUIRE(r.is_ok());
    REQUIRE(r->rows.size() == 10000);
    long now = divan::testing::rss_file_kib();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (now > baseline + 10 * 1024 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      now = divan::testing::rss_file_kib();
    }
    CAPTURE(baseline);
    CAPTURE(now);
    CHECK(now <= baseline + 10 * 1024);
  }
}
