// Concurrent writers: every write lands exactly once, sequences are unique,
// and writers to one document conflict as CouchDB says.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "db_test_util.h"

using divan::ChangesOptions;
using divan::testing::TestDb;

TEST_SUITE("db") {
  TEST_CASE("sixteen threads writing at once all succeed with distinct sequences") {
    TestDb t;
    constexpr int kThreads = 16, kEach = 50;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        for (int j = 0; j < kEach; ++j) {
          auto r = t.db->put("{\"_id\":\"t" + std::to_string(i) + "_" + std::to_string(j) + "\"}");
          if (!r.is_ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(t.db->update_seq() == kThreads * kEach);
    auto ch = t.db->changes(ChangesOptions{});
    REQUIRE(ch->rows.size() == kThreads * kEach);
    std::set<std::uint64_t> seqs;
    for (const auto& row : ch->rows) seqs.insert(row.seq);
    CHECK(seqs.size() == kThreads * kEach);
    CHECK(t.db->info()->doc_count == kThreads * kEach);
  }

  TEST_CASE("racing updates of one document: exactly one wins each round") {
    TestDb t;
    std::string rev = t.put(R"({"_id":"x","n":0})");
    for (int round = 0; round < 20; ++round) {
      std::atomic<int> wins{0}, conflicts{0};
      std::vector<std::thread> threads;
      for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
          auto r = t.db->put(R"({"_id":"x","_rev":")" + rev + R"(","by":)" + std::to_string(i) + "}");
          if (r.is_ok()) ++wins;
          else if (r.status().code() == divan::ErrorCode::kConflict) ++conflicts;
        });
      }
      for (auto& th : threads) th.join();
      CHECK(wins == 1);
      CHECK(conflicts == 7);
      rev = t.db->get("x")->rev;
    }
    divan::GetOptions o;
    o.conflicts = true;
    CHECK(t.db->get("x", o)->conflicts.empty());
  }
}

TEST_SUITE("db") {
  TEST_CASE("groups that outgrow the map are re-applied whole, each write landing once") {
    divan::DataDirOptions o;
    o.initial_map_size = 64 * 1024;  // forces many map growths mid-group
    TestDb t(o);
    constexpr int kThreads = 8, kEach = 40;
    const std::string pad(3000, 'p');
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        for (int j = 0; j < kEach; ++j) {
          auto r = t.db->put("{\"_id\":\"g" + std::to_string(i) + "_" + std::to_string(j) +
                             "\",\"pad\":\"" + pad + "\"}");
          if (!r.is_ok() || r->rev.substr(0, 2) != "1-") ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(t.db->update_seq() == kThreads * kEach);
    auto info = t.db->info();
    CHECK(info->doc_count == kThreads * kEach);
    CHECK(t.db->changes(ChangesOptions{})->rows.size() == kThreads * kEach);
  }
}
