// Compaction: non-leaf bodies go, trees are stemmed, leaves stay, space
// comes back, and the database keeps working throughout.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "db_test_util.h"

using divan::GetOptions;
using divan::testing::TestDb;

TEST_SUITE("db") {
  TEST_CASE("compaction drops old revision bodies and keeps every leaf") {
    TestDb t;
    std::vector<std::string> revs{t.put(R"({"_id":"a","v":0})")};
    for (int i = 1; i < 5; ++i) {
      revs.push_back(t.put(R"({"_id":"a","_rev":")" + revs.back() + R"(","v":)" + std::to_string(i) + "}"));
    }
    t.put(R"({"_id":"a","_rev":"2-ffffffffffffffffffffffffffffffff","branch":true,
              "_revisions":{"start":2,"ids":["ffffffffffffffffffffffffffffffff",")" + revs[0].substr(2) + R"("]}})",
          divan::PutOptions{false, std::nullopt, std::nullopt});
    GetOptions old;
    old.rev = revs[1];
    CHECK(t.db->get("a", old).is_ok());  // before compaction, old bodies are readable
    std::uint64_t seq = t.db->update_seq();
    REQUIRE(t.db->compact().is_ok());
    CHECK(t.db->get("a", old).status().reason() == "missing");
    old.rev = "2-ffffffffffffffffffffffffffffffff";
    CHECK(t.db->get("a", old).is_ok());  // a conflicting leaf keeps its body
    CHECK(t.db->get("a")->rev == revs.back());
    GetOptions info;
    info.revs_info = true;
    auto d = t.db->get("a", info);
    CHECK(d->revs_info[0].status == "available");
    CHECK(d->revs_info[1].status == "missing");
    CHECK(t.db->update_seq() == seq);  // compaction is not a change
    CHECK_FALSE(t.db->info()->compact_running);
  }

  TEST_CASE("compaction stems trees to revs_limit") {
    TestDb t;
    std::string rev = t.put(R"({"_id":"a"})");
    for (int i = 0; i < 30; ++i) rev = t.put(R"({"_id":"a","_rev":")" + rev + R"("})");
    REQUIRE(t.db->set_revs_limit(5).is_ok());
    GetOptions o;
    o.revs = true;
    CHECK(t.db->get("a", o)->revisions->ids.size() == 5);  // reads are capped at once
    REQUIRE(t.db->compact().is_ok());
    o.revs_info = true;
    CHECK(t.db->get("a", o)->revs_info.size() == 5);  // the tree itself now holds five
  }

  TEST_CASE("compaction gives space back to the file system") {
    TestDb t;
    std::string big(4000, 'x');
    std::string docs = "[";
    for (int i = 0; i < 500; ++i) {
      docs += (i ? "," : "") + std::string("{\"_id\":\"d") + std::to_string(i) + "\",\"s\":\"" + big + "\"}";
    }
    docs += "]";
    auto written = t.db->bulk_docs(docs);
    REQUIRE(written.is_ok());
    // Update every document: the old bodies become non-leaf.
    std::string updates = "[";
    for (int i = 0; i < 500; ++i) {
      updates += (i ? "," : "") + std::string("{\"_id\":\"d") + std::to_string(i) + "\",\"_rev\":\"" +
                 (*written)[i].rev + "\",\"s\":\"small\"}";
    }
    updates += "]";
    REQUIRE(t.db->bulk_docs(updates).is_ok());
    auto before = t.db->info()->sizes_file;
    REQUIRE(t.db->compact().is_ok());
    auto after = t.db->info();
    CAPTURE(before);
    CAPTURE(after->sizes_file);
    CHECK(after->sizes_file < before / 2);
    CHECK(after->doc_count == 500);
    CHECK(t.db->get("d7")->body == R"({"s":"small"})");
  }

  TEST_CASE("reads and writes go on while compaction runs") {
    TestDb t;
    std::string rev = t.put(R"({"_id":"a","n":0})");
    for (int i = 0; i < 200; ++i) t.put("{\"_id\":\"d" + std::to_string(i) + "\"}");
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::thread writer([&] {
      int n = 0;
      while (!stop) {
        auto r = t.db->put(R"({"_id":"a","_rev":")" + rev + R"(","n":)" + std::to_string(++n) + "}");
        if (!r.is_ok()) ++failures;
        else rev = r->rev;
        if (!t.db->get("d5").is_ok()) ++failures;
      }
    });
    for (int i = 0; i < 3; ++i) REQUIRE(t.db->compact().is_ok());
    stop = true;
    writer.join();
    CHECK(failures == 0);
    CHECK(t.db->get("a")->rev == rev);
  }
}
