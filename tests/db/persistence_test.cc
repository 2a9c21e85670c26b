// Close and reopen: identical data, feed and counts.
#include <doctest/doctest.h>

#include "db_test_util.h"

using divan::AllDocsOptions;
using divan::ChangesOptions;
using divan::ChangesStyle;
using divan::GetOptions;
using divan::testing::TestDb;

namespace {

// Everything observable about the database, as one string.
std::string snapshot(TestDb& t) {
  std::string s;
  auto info = t.db->info();
  REQUIRE(info.is_ok());
  s += std::to_string(info->update_seq) + " " + std::to_string(info->doc_count) + " " +
       std::to_string(info->doc_del_count) + " " + std::to_string(info->sizes_external) + " " +
       info->instance_start_time + " " + std::to_string(info->revs_limit) + "\n";
  ChangesOptions c;
  c.style = ChangesStyle::kAllDocs;
  c.include_docs = true;
  c.conflicts = true;
  auto ch = t.db->changes(c);
  REQUIRE(ch.is_ok());
  for (const auto& row : ch->rows) {
    s += std::to_string(row.seq) + " " + row.id + (row.deleted ? " deleted" : "");
    for (const auto& r : row.changes) s += " " + r;
    s += " " + row.doc->to_json() + "\n";
    GetOptions o;
    o.revs = true;
    o.revs_info = true;
    o.deleted = true;
    s += t.db->get(row.id, o)->to_json() + "\n";
  }
  AllDocsOptions local;
  local.local = true;
  local.include_docs = true;
  auto locals = t.db->all_docs(local);
  REQUIRE(locals.is_ok());
  for (const auto& row : locals->rows) s += row.doc->to_json() + "\n";
  return s;
}

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("closing and reopening keeps documents, trees, the feed and counts") {
    TestDb t;
    std::string r1 = t.put(R"({"_id":"a","v":1})");
    t.put(R"({"_id":"a","_rev":")" + r1 + R"(","v":2})");
    std::string rb = t.put(R"({"_id":"b"})");
    REQUIRE(t.db->remove("b", rb).is_ok());
    t.put(R"({"_id":"c","_rev":"3-cccccccccccccccccccccccccccccccc","x":[1,2]})",
          divan::PutOptions{false, std::nullopt, std::nullopt});
    t.put(R"({"_id":"c","_rev":"2-dddddddddddddddddddddddddddddddd"})",
          divan::PutOptions{false, std::nullopt, std::nullopt});
    t.put(R"({"_id":"_local/check","seq":5})");
    REQUIRE(t.db->set_revs_limit(77).is_ok());
    const std::string before = snapshot(t);
    t.reopen();
    CHECK(snapshot(t) == before);
    CHECK(t.db->update_seq() == 6);
    // And it keeps working where it left off.
    t.put(R"({"_id":"d"})");
    CHECK(t.db->update_seq() == 7);
    CHECK(*t.db->revs_limit() == 77);
  }
}
