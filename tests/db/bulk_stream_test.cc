// Large `_bulk_docs` arrays are parsed on a second thread while the writer
// applies what is already parsed (DatabaseImpl::bulk_docs_streamed). These
// tests drive arrays above that size: they must behave exactly as small
// ones do, bad input included (the whole array refused, nothing written).
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "db_test_util.h"

using divan::BulkDocsOptions;
using divan::ChangesOptions;
using divan::ErrorCode;
using divan::testing::TestDb;

namespace {

// A document of about 300 bytes; 1000 of them make about 300 KB, well above
// the size from which an array is streamed.
std::string doc(int i, const std::string& extra = "") {
  std::string id = "doc" + std::to_string(100000 + i);
  return "{\"_id\":\"" + id + "\"" + extra + ",\"n\":" + std::to_string(i) + ",\"pad\":\"" +
         std::string(250, static_cast<char>('a' + i % 26)) + "\"}";
}

std::string array(int n, int from = 0) {
  std::string out = "[";
  for (int i = from; i < from + n; ++i) {
    if (i > from) out += ",";
    out += doc(i);
  }
  return out + "]";
}

// Breaks the JSON of the last document (a member without its colon).
std::string break_last(std::string arr) {
  std::size_t pos = arr.rfind(",\"n\":");
  REQUIRE(pos != std::string::npos);
  return arr.replace(pos, 5, ",\"n\" ");
}

// Inserts `text` before the document at index `at` of an array made by array().
std::string with_doc_at(const std::string& arr, int at, const std::string& text) {
  std::size_t pos = arr.find(doc(at));
  REQUIRE(pos != std::string::npos);
  return arr.substr(0, pos) + text + "," + arr.substr(pos);
}

void check_unchanged(TestDb& t, std::uint64_t seq, std::uint64_t docs) {
  auto info = t.db->info();
  REQUIRE(info.is_ok());
  CHECK(info->update_seq == seq);
  CHECK(info->doc_count == docs);
  CHECK(t.db->changes(ChangesOptions{})->rows.size() == docs);
}

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("a large bulk array is written whole, in order, each document once") {
    TestDb t;
    const std::string arr = array(1000);
    REQUIRE(arr.size() > 200 * 1024);
    auto r = t.db->bulk_docs(arr);
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 1000);
    for (int i = 0; i < 1000; ++i) {
      CHECK((*r)[i].status.is_ok());
      CHECK((*r)[i].id == "doc" + std::to_string(100000 + i));
      CHECK((*r)[i].rev.substr(0, 2) == "1-");
    }
    auto info = t.db->info();
    CHECK(info->doc_count == 1000);
    CHECK(info->update_seq == 1000);
    // The same revision as a small write of the same document makes.
    TestDb small;
    auto one = small.db->bulk_docs("[" + doc(7) + "]");
    REQUIRE(one.is_ok());
    CHECK((*r)[7].rev == (*one)[0].rev);
    CHECK(t.get_json("doc100007") == small.get_json("doc100007"));
  }

  TEST_CASE("large arrays after others, reusing their memory, store every body exactly") {
    // The bodies and records of one array are kept for the next (StringPool):
    // arrays of long, then short, then longer bodies must each store exactly
    // what they sent, with the revisions a small write would make.
    TestDb t;
    TestDb small;
    auto body = [](int i, std::size_t pad) {
      return "{\"n\":" + std::to_string(i) + ",\"pad\":\"" +
             std::string(pad, static_cast<char>('a' + i % 26)) + "\"}";
    };
    auto id_of = [](int i) { return "reuse" + std::to_string(100000 + i); };
    const std::size_t pads[] = {250, 60, 600};
    for (int a = 0; a < 3; ++a) {
      std::string arr = "[";
      for (int i = a * 1000; i < (a + 1) * 1000; ++i) {
        if (i > a * 1000) arr += ",";
        arr += "{\"_id\":\"" + id_of(i) + "\"," + body(i, pads[a]).substr(1);
      }
      arr += "]";
      REQUIRE(arr.size() > 64 * 1024);  // streamed
      auto r = t.db->bulk_docs(arr);
      REQUIRE(r.is_ok());
      REQUIRE(r->size() == 1000);
      for (int i = a * 1000; i < (a + 1) * 1000; ++i) {
        const divan::DocResult& row = (*r)[static_cast<std::size_t>(i - a * 1000)];
        REQUIRE(row.status.is_ok());
        CHECK(row.id == id_of(i));
        auto got = t.db->get(id_of(i), {});
        REQUIRE(got.is_ok());
        CHECK(got->body == body(i, pads[a]));
        CHECK(got->rev == row.rev);
        if (i % 97 == 0) {
          auto one = small.db->bulk_docs("[{\"_id\":\"" + id_of(i) + "\"," +
                                         body(i, pads[a]).substr(1) + "]");
          REQUIRE(one.is_ok());
          CHECK((*one)[0].rev == row.rev);
        }
      }
    }
    CHECK(t.db->info()->doc_count == 3000);
  }

  TEST_CASE("a large bulk array gives each document without _id a new id") {
    TestDb t;
    std::string arr = "[";
    for (int i = 0; i < 800; ++i) {
      if (i > 0) arr += ",";
      arr += "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'x') + "\"}";
    }
    arr += "]";
    auto r = t.db->bulk_docs(arr);
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 800);
    std::set<std::string> ids;
    for (const auto& row : *r) {
      CHECK(row.status.is_ok());
      CHECK(row.id.size() == 32);
      ids.insert(row.id);
    }
    CHECK(ids.size() == 800);
    CHECK(t.db->info()->doc_count == 800);
  }

  TEST_CASE("a large bulk array with bad JSON near its end writes nothing") {
    TestDb t;
    REQUIRE(t.db->bulk_docs(array(10, 5000)).is_ok());
    auto r = t.db->bulk_docs(break_last(array(1000)));
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kBadRequest);
    check_unchanged(t, 10, 10);
    CHECK(t.get_json("doc100000").find("not_found") != std::string::npos);
  }

  TEST_CASE("a large bulk array refuses a bad document whichever its place, writing nothing") {
    TestDb t;
    const std::string arr = array(1000);
    SUBCASE("bad special member in the middle") {
      auto r = t.db->bulk_docs(with_doc_at(arr, 600, "{\"_id\":\"x\",\"_bad\":1}"));
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kDocValidation);
    }
    SUBCASE("bad _rev as the last document") {
      auto r = t.db->bulk_docs(arr.substr(0, arr.size() - 1) + ",{\"_id\":\"y\",\"_rev\":\"x\"}]");
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kBadRequest);
    }
    SUBCASE("bad id at the start") {
      auto r = t.db->bulk_docs(with_doc_at(arr, 0, "{\"_id\":\"_bad\"}"));
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kIllegalDocId);
    }
    SUBCASE("new_edits=false without revisions, with a JSON error after it: the JSON error wins") {
      std::string broken = break_last(arr);
      BulkDocsOptions o;
      o.new_edits = false;
      auto r = t.db->bulk_docs(broken, o);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kBadRequest);
      CHECK(r.status().reason() == "invalid UTF-8 JSON");
    }
    check_unchanged(t, 0, 0);
  }

  TEST_CASE("a large bulk array with a repeated key keeps the last value, as a small one does") {
    TestDb t;
    const std::string arr =
        with_doc_at(array(1000), 700, "{\"_id\":\"rep\",\"k\":1,\"other\":true,\"k\":2}");
    auto r = t.db->bulk_docs(arr);
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 1001);
    CHECK((*r)[700].id == "rep");
    CHECK(t.db->info()->doc_count == 1001);
    auto d = t.db->get("rep");
    REQUIRE(d.is_ok());
    CHECK(d->body == "{\"other\":true,\"k\":2}");
    CHECK(t.get_json("doc100000") != "");
  }

  TEST_CASE("a large bulk array reports conflicts per document and writes the rest") {
    TestDb t;
    t.put(doc(3));
    auto r = t.db->bulk_docs(array(1000));
    REQUIRE(r.is_ok());
    CHECK((*r)[3].status.code() == ErrorCode::kConflict);
    CHECK((*r)[4].status.is_ok());
    CHECK(t.db->info()->doc_count == 1000);
    CHECK(t.db->update_seq() == 1000);  // 1 + 999
  }

  TEST_CASE("a large new_edits=false array merges its histories") {
    TestDb t;
    std::string arr = "[";
    for (int i = 0; i < 600; ++i) {
      if (i > 0) arr += ",";
      arr += "{\"_id\":\"r" + std::to_string(i) +
             "\",\"_revisions\":{\"start\":2,\"ids\":[\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
             "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]},\"pad\":\"" +
             std::string(200, 'z') + "\"}";
    }
    arr += "]";
    BulkDocsOptions o;
    o.new_edits = false;
    auto r = t.db->bulk_docs(arr, o);
    REQUIRE(r.is_ok());
    CHECK(r->size() == 600);
    auto d = t.db->get("r599");
    REQUIRE(d.is_ok());
    CHECK(d->rev == "2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    // Idempotent: the same array again changes nothing.
    REQUIRE(t.db->bulk_docs(arr, o).is_ok());
    CHECK(t.db->update_seq() == 600);
  }

  TEST_CASE("a large bulk array that outgrows the map lands once; a bad one leaves nothing") {
    divan::DataDirOptions opts;
    opts.initial_map_size = 64 * 1024;  // several growths during one array
    TestDb t(opts);
    auto r = t.db->bulk_docs(array(3000));
    REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
    CHECK(r->size() == 3000);
    CHECK(t.db->info()->doc_count == 3000);
    CHECK(t.db->update_seq() == 3000);

    auto b = t.db->bulk_docs(break_last(array(3000, 10000)));
    REQUIRE_FALSE(b.is_ok());
    CHECK(b.status().code() == ErrorCode::kBadRequest);
    check_unchanged(t, 3000, 3000);
  }

  TEST_CASE("large bulk arrays and single writes from other threads all land") {
    TestDb t;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 3; ++k) {
      threads.emplace_back([&, k] {
        auto r = t.db->bulk_docs(array(500, 20000 + 1000 * k));
        if (!r.is_ok() || r->size() != 500) ++failures;
      });
    }
    for (int k = 0; k < 2; ++k) {
      threads.emplace_back([&, k] {
        for (int i = 0; i < 50; ++i) {
          if (!t.db->put(doc(50000 + 100 * k + i)).is_ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(t.db->info()->doc_count == 1600);
    CHECK(t.db->update_seq() == 1600);
  }
}
