// The changes feed: one row per document at its latest sequence, styles,
// filters, limits, pending, and waiting for the next change (§5).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "db_test_util.h"

using divan::BulkDocsOptions;
using divan::ChangesFilter;
using divan::ChangesOptions;
using divan::ChangesStyle;
using divan::testing::TestDb;

namespace {

std::vector<std::string> ids_of(const divan::ChangesResult& r) {
  std::vector<std::string> ids;
  for (const auto& row : r.rows) ids.push_back(row.id);
  return ids;
}

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("each document appears once, at its latest sequence") {
    TestDb t;
    std::string ra = t.put(R"({"_id":"a"})");  // seq 1
    t.put(R"({"_id":"b"})");                   // seq 2
    t.put(R"({"_id":"a","_rev":")" + ra + R"(","v":2})");  // seq 3
    auto r = t.db->changes({});
    REQUIRE(r.is_ok());
    CHECK(ids_of(*r) == std::vector<std::string>{"b", "a"});
    CHECK(r->rows[0].seq == 2);
    CHECK(r->rows[1].seq == 3);
    CHECK(r->rows[1].changes == std::vector<std::string>{t.db->get("a")->rev});
    CHECK(r->last_seq == 3);
    CHECK(r->pending == 0);
  }

  TEST_CASE("since, limit, last_seq and pending") {
    TestDb t;
    for (int i = 0; i < 10; ++i) t.put("{\"_id\":\"d" + std::to_string(i) + "\"}");
    ChangesOptions o;
    o.since = 3;
    o.limit = 4;
    auto r = t.db->changes(o);
    REQUIRE(r.is_ok());
    CHECK(ids_of(*r) == std::vector<std::string>{"d3", "d4", "d5", "d6"});
    CHECK(r->last_seq == 7);
    CHECK(r->pending == 3);
    o.limit = 0;
    r = t.db->changes(o);
    CHECK(r->rows.empty());
    CHECK(r->last_seq == 3);
    CHECK(r->pending == 7);
    // Reading from the end: nothing, last_seq the current sequence.
    o.since = 10;
    o.limit.reset();
    r = t.db->changes(o);
    CHECK(r->rows.empty());
    CHECK(r->last_seq == 10);
    // A since beyond the end is never moved backwards.
    o.since = 99;
    CHECK(t.db->changes(o)->last_seq == 99);
  }

  TEST_CASE("pending is counted across many sequence blocks and after updates") {
    TestDb t;
    std::string docs = "[";
    for (int i = 0; i < 5000; ++i) docs += (i ? "," : "") + std::string("{\"_id\":\"d") + std::to_string(i) + "\"}";
    docs += "]";
    REQUIRE(t.db->bulk_docs(docs).is_ok());
    // Update every tenth document: their old entries leave the feed.
    auto all = t.db->all_docs({});
    std::string updates = "[";
    for (std::size_t i = 0; i < all->rows.size(); i += 10) {
      updates += (i ? "," : "") + std::string("{\"_id\":\"") + all->rows[i].id + "\",\"_rev\":\"" +
                 all->rows[i].rev + "\"}";
    }
    updates += "]";
    REQUIRE(t.db->bulk_docs(updates).is_ok());
    for (std::uint64_t since : {0u, 1u, 1023u, 1024u, 1500u, 4999u, 5000u, 5300u, 5499u}) {
      ChangesOptions o;
      o.since = since;
      o.limit = 7;
      auto r = t.db->changes(o);
      REQUIRE(r.is_ok());
      ChangesOptions rest;
      rest.since = r->last_seq;
      CAPTURE(since);
      CHECK(r->pending == t.db->changes(rest)->rows.size());
    }
  }

  TEST_CASE("descending lists newest first") {
    TestDb t;
    for (int i = 0; i < 5; ++i) t.put("{\"_id\":\"d" + std::to_string(i) + "\"}");
    ChangesOptions o;
    o.descending = true;
    o.limit = 2;
    auto r = t.db->changes(o);
    CHECK(ids_of(*r) == std::vector<std::string>{"d4", "d3"});
    CHECK(r->last_seq == 4);
    CHECK(r->pending == 3);
  }

  TEST_CASE("all_docs style lists every leaf, winner first; deleted marks the winner") {
    TestDb t;
    t.put(R"({"_id":"c","_revisions":{"start":2,"ids":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}})",
          divan::PutOptions{false, std::nullopt, std::nullopt});
    t.put(R"({"_id":"c","_revisions":{"start":2,"ids":["cccccccccccccccccccccccccccccccc","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}})",
          divan::PutOptions{false, std::nullopt, std::nullopt});
    ChangesOptions o;
    o.style = ChangesStyle::kAllDocs;
    auto r = t.db->changes(o);
    REQUIRE(r->rows.size() == 1);
    CHECK(r->rows[0].changes == std::vector<std::string>{"2-cccccccccccccccccccccccccccccccc",
                                                         "2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"});
    CHECK_FALSE(r->rows[0].deleted);
    auto main = t.db->changes({});
    CHECK(main->rows[0].changes == std::vector<std::string>{"2-cccccccccccccccccccccccccccccccc"});
    REQUIRE(t.db->remove("c", "2-cccccccccccccccccccccccccccccccc").is_ok());
    REQUIRE(t.db->remove("c", "2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").is_ok());
    auto gone = t.db->changes({});
    REQUIRE(gone->rows.size() == 1);
    CHECK(gone->rows[0].deleted);
  }

  TEST_CASE("include_docs gives the winner, tombstones included, with conflicts on request") {
    TestDb t;
    std::string r = t.put(R"({"_id":"a","v":1})");
    REQUIRE(t.db->remove("a", r).is_ok());
    t.put(R"({"_id":"b","v":2})");
    ChangesOptions o;
    o.include_docs = true;
    o.conflicts = true;
    auto res = t.db->changes(o);
    REQUIRE(res->rows.size() == 2);
    REQUIRE(res->rows[0].doc);
    CHECK(res->rows[0].doc->deleted);
    CHECK(res->rows[0].doc->to_json().find("\"_deleted\":true") != std::string::npos);
    CHECK(res->rows[1].doc->to_json().find("\"v\":2") != std::string::npos);
  }

  TEST_CASE("doc_ids and design filters") {
    TestDb t;
    t.put(R"({"_id":"a"})");
    t.put(R"({"_id":"_design/x"})");
    t.put(R"({"_id":"b"})");
    t.put(R"({"_id":"c"})");
    ChangesOptions o;
    o.filter = ChangesFilter::kDocIds;
    o.doc_ids = {"c", "a", "zzz", "a"};
    auto r = t.db->changes(o);
    CHECK(ids_of(*r) == std::vector<std::string>{"a", "c"});
    CHECK(r->last_seq == 4);
    o.since = 1;
    CHECK(ids_of(*t.db->changes(o)) == std::vector<std::string>{"c"});
    o.since = 0;
    o.limit = 1;
    r = t.db->changes(o);
    CHECK(ids_of(*r) == std::vector<std::string>{"a"});
    CHECK(r->pending == 1);
    CHECK(r->last_seq == 1);
    ChangesOptions d;
    d.filter = ChangesFilter::kDesign;
    CHECK(ids_of(*t.db->changes(d)) == std::vector<std::string>{"_design/x"});
  }

  TEST_CASE("replicated revisions already present take no new sequence") {
    TestDb t;
    const char* doc = R"([{"_id":"a","_rev":"1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}])";
    REQUIRE(t.db->bulk_docs(doc, BulkDocsOptions{false}).is_ok());
    REQUIRE(t.db->bulk_docs(doc, BulkDocsOptions{false}).is_ok());
    CHECK(t.db->update_seq() == 1);
    CHECK(t.db->changes({})->rows.size() == 1);
  }

  TEST_CASE("wait_for_change wakes on a write and times out without one") {
    TestDb t;
    CHECK_FALSE(t.db->wait_for_change(0, std::chrono::milliseconds(20)));
    std::thread writer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      t.put(R"({"_id":"a"})");
    });
    CHECK(t.db->wait_for_change(0, std::chrono::seconds(10)));
    writer.join();
    CHECK(t.db->update_seq() == 1);
    // Already past: returns at once.
    CHECK(t.db->wait_for_change(0, std::chrono::milliseconds(0)));
  }

  TEST_CASE("subscribers are called after each commit and not after unsubscribing") {
    TestDb t;
    std::atomic<std::uint64_t> last{0};
    std::atomic<int> calls{0};
    {
      divan::Subscription sub = t.db->subscribe([&](std::uint64_t seq) {
        last = seq;
        ++calls;
      });
      CHECK(sub.active());
      t.put(R"({"_id":"a"})");
      t.put(R"({"_id":"b"})");
      CHECK(last == 2);
      CHECK(calls == 2);
      // _local writes and no-op replicated writes do not notify.
      t.put(R"({"_id":"_local/x"})");
      CHECK(calls == 2);
    }
    t.put(R"({"_id":"c"})");
    CHECK(calls == 2);
  }

  TEST_CASE("waiters wake when the database is deleted") {
    TestDb t;
    std::thread deleter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      CHECK(t.dir->delete_database("db").is_ok());
    });
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(t.db->wait_for_change(0, std::chrono::seconds(30)));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(25));
    deleter.join();
  }
}
