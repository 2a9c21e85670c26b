// all_docs: CouchDB's raw id order, ranges, keys, skip/limit/descending.
#include <doctest/doctest.h>

#include "db_test_util.h"

using divan::AllDocsOptions;
using divan::testing::TestDb;

namespace {

std::vector<std::string> ids(const divan::AllDocsResult& r) {
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(row.id);
  return out;
}

struct Fixture {
  Fixture() {
    for (const char* id : {"b", "a", "Z", "_design/d", "c", "\xc3\xa9", "d"}) {
      t.put(std::string("{\"_id\":\"") + id + "\",\"n\":1}");
    }
    std::string rd = t.db->get("d")->rev;
    REQUIRE(t.db->remove("d", rd).is_ok());
  }
  TestDb t;
};

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("all_docs lists live documents in raw byte order") {
    Fixture f;
    auto r = f.t.db->all_docs({});
    REQUIRE(r.is_ok());
    CHECK(ids(*r) == std::vector<std::string>{"Z", "_design/d", "a", "b", "c", "\xc3\xa9"});
    CHECK(r->total_rows == 6);
    CHECK(r->offset == 0);
    CHECK(r->update_seq == 8);
    CHECK(r->rows[0].rev == f.t.db->get("Z")->rev);
    CHECK_FALSE(r->rows[0].doc);
  }

  TEST_CASE("ranges, inclusive_end, skip, limit, offset") {
    Fixture f;
    AllDocsOptions o;
    o.start_key = "a";
    o.end_key = "c";
    CHECK(ids(*f.t.db->all_docs(o)) == std::vector<std::string>{"a", "b", "c"});
    o.inclusive_end = false;
    CHECK(ids(*f.t.db->all_docs(o)) == std::vector<std::string>{"a", "b"});
    o.inclusive_end = true;
    o.skip = 1;
    o.limit = 1;
    auto r = f.t.db->all_docs(o);
    CHECK(ids(*r) == std::vector<std::string>{"b"});
    CHECK(r->offset == 3);  // Z, _design/d, then a skipped
    AllDocsOptions tail;
    tail.start_key = "bb";
    r = f.t.db->all_docs(tail);
    CHECK(ids(*r) == std::vector<std::string>{"c", "\xc3\xa9"});
    CHECK(r->offset == 4);
    tail.start_key = "\xc3\xaa";  // just after the last id
    r = f.t.db->all_docs(tail);
    CHECK(r->rows.empty());
    CHECK(r->offset == 6);
  }

  TEST_CASE("descending ranges start at the high end") {
    Fixture f;
    AllDocsOptions o;
    o.descending = true;
    CHECK(ids(*f.t.db->all_docs(o)) ==
          std::vector<std::string>{"\xc3\xa9", "c", "b", "a", "_design/d", "Z"});
    o.start_key = "bz";
    o.end_key = "a";
    auto r = f.t.db->all_docs(o);
    CHECK(ids(*r) == std::vector<std::string>{"b", "a"});
    CHECK(r->offset == 2);
    o.inclusive_end = false;
    CHECK(ids(*f.t.db->all_docs(o)) == std::vector<std::string>{"b"});
  }

  TEST_CASE("keys: rows in key order, deleted and unknown documents included") {
    Fixture f;
    AllDocsOptions o;
    o.keys = std::vector<std::string>{"c", "nope", "d", "a"};
    o.include_docs = true;
    auto r = f.t.db->all_docs(o);
    REQUIRE(r->rows.size() == 4);
    CHECK(r->rows[0].id == "c");
    CHECK(r->rows[0].doc->to_json().find("\"n\":1") != std::string::npos);
    CHECK(r->rows[1].not_found);
    CHECK(r->rows[2].deleted);
    CHECK_FALSE(r->rows[2].doc);
    CHECK(r->rows[3].id == "a");
  }

  TEST_CASE("include_docs with conflicts") {
    TestDb t;
    t.put(R"({"_id":"x","_rev":"1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})",
          divan::PutOptions{false, std::nullopt, std::nullopt});
    t.put(R"({"_id":"x","_rev":"1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"})",
          divan::PutOptions{false, std::nullopt, std::nullopt});
    AllDocsOptions o;
    o.include_docs = true;
    o.conflicts = true;
    auto r = t.db->all_docs(o);
    REQUIRE(r->rows.size() == 1);
    CHECK(r->rows[0].doc->conflicts == std::vector<std::string>{"1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"});
  }
}
