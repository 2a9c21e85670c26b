// Bad input to every public entry point: a clear CouchDB-style error, and
// nothing changes (couchdb-semantics.md §2.7).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "db_test_util.h"

using divan::AllDocsOptions;
using divan::BulkDocsOptions;
using divan::DataDir;
using divan::DataDirOptions;
using divan::ErrorCode;
using divan::GetOptions;
using divan::OpenRevsOptions;
using divan::PutOptions;
using divan::RevsDiffRequest;
using divan::testing::TestDb;

namespace {

struct Case {
  std::string json;
  ErrorCode code;
  const char* reason;  // nullptr: any
};

// Everything observable about a database, to show a failed call changed
// nothing.
std::string fingerprint(TestDb& t) {
  auto info = t.db->info();
  REQUIRE(info.is_ok());
  std::string s = std::to_string(info->update_seq) + "/" + std::to_string(info->doc_count) + "/" +
                  std::to_string(info->doc_del_count) + "/" + std::to_string(info->sizes_external);
  auto all = t.db->all_docs(AllDocsOptions{});
  REQUIRE(all.is_ok());
  for (const auto& row : all->rows) s += "|" + row.id + "=" + row.rev;
  AllDocsOptions local;
  local.local = true;
  auto locals = t.db->all_docs(local);
  REQUIRE(locals.is_ok());
  for (const auto& row : locals->rows) s += "|" + row.id + "=" + row.rev;
  return s;
}

const std::vector<Case> kBadDocuments = {
    {"", ErrorCode::kBadRequest, "invalid UTF-8 JSON"},
    {"{", ErrorCode::kBadRequest, "invalid UTF-8 JSON"},
    {"{\"a\":1}x", ErrorCode::kBadRequest, "invalid UTF-8 JSON"},
    {std::string("{\"a\":1}\0{", 9), ErrorCode::kBadRequest, "invalid UTF-8 JSON"},
    {"{\"a\":\"\xff\"}", ErrorCode::kBadRequest, "invalid UTF-8 JSON"},
    {"{\"a\":NaN}", ErrorCode::kBadRequest, "invalid UTF-8 JSON"},
    {"[1,2]", ErrorCode::kBadRequest, "Document must be a JSON object"},
    {"\"str\"", ErrorCode::kBadRequest, "Document must be a JSON object"},
    {"42", ErrorCode::kBadRequest, "Document must be a JSON object"},
    {"null", ErrorCode::kBadRequest, "Document must be a JSON object"},
    {R"({"_id":5})", ErrorCode::kBadRequest, "Document id must be a string"},
    {R"({"_id":{"a":1}})", ErrorCode::kBadRequest, "Document id must be a string"},
    {R"({"_id":""})", ErrorCode::kIllegalDocId, "Document id must not be empty"},
    {R"({"_id":"_bad"})", ErrorCode::kIllegalDocId,
     "Only reserved document ids may start with underscore."},
    {R"({"_id":"_design/"})", ErrorCode::kIllegalDocId, nullptr},
    {R"({"_id":"_local/"})", ErrorCode::kIllegalDocId, nullptr},
    {R"({"_id":"a","_rev":"bogus"})", ErrorCode::kBadRequest, "Invalid rev format"},
    {R"({"_id":"a","_rev":"1-"})", ErrorCode::kBadRequest, "Invalid rev format"},
    {R"({"_id":"a","_rev":7})", ErrorCode::kBadRequest, "Invalid rev format"},
    {R"({"_id":"a","_rev":"0-abc"})", ErrorCode::kBadRequest, "Invalid rev format"},
    {R"({"_id":"a","_rev":"1-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"})", ErrorCode::kBadRequest,
     "Invalid rev format"},
    {R"({"_id":"a","_deleted":"yes"})", ErrorCode::kDocValidation,
     "Bad special document member: _deleted"},
    {R"({"_id":"a","_revisions":7})", ErrorCode::kDocValidation, nullptr},
    {R"({"_id":"a","_revisions":{"start":"1","ids":["a"]}})", ErrorCode::kDocValidation,
     "_revisions.start isn't an integer."},
    {R"({"_id":"a","_revisions":{"start":1,"ids":"a"}})", ErrorCode::kDocValidation,
     "_revisions.ids isn't a array."},
    {R"({"_id":"a","_revisions":{"start":1,"ids":["a","b"]}})", ErrorCode::kBadRequest,
     "Invalid rev format"},
    {R"({"_id":"a","_revisions":{"start":1,"ids":[]}})", ErrorCode::kBadRequest,
     "Invalid rev format"},
    {R"({"_id":"a","_revisions":{"start":2,"ids":["a",3]}})", ErrorCode::kBadRequest,
     "Invalid rev format"},
    {R"({"_id":"a","_zzz":1})", ErrorCode::kDocValidation, "Bad special document member: _zzz"},
    {R"({"_id":"a","_rev":"1-)" + std::string(101, 'x') + R"("})", ErrorCode::kBadRequest,
     "Invalid rev format"},
    {R"({"_id":")" + std::string(385, 'x') + R"("})", ErrorCode::kIllegalDocId,
     "Document id is too long"},
    {R"({"_id":"a","_attachments":{"f.txt":{"data":"aGk=","content_type":"text/plain"}}})",
     ErrorCode::kBadRequest, nullptr},
    {R"({"_id":"a","_attachments":[1]})", ErrorCode::kBadRequest, nullptr},
};

std::string deep(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("put refuses malformed documents with CouchDB's errors and writes nothing") {
    TestDb t;
    t.put(R"({"_id":"a","v":1})");
    t.put(R"({"_id":"_local/x","v":1})");
    const std::string before = fingerprint(t);
    for (const Case& c : kBadDocuments) {
      std::string json(c.json);
      CAPTURE(json);
      auto r = t.db->put(json);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == c.code);
      if (c.reason) CHECK(r.status().reason() == c.reason);
      // The same document inside bulk_docs fails the whole request.
      auto b = t.db->bulk_docs("[{\"_id\":\"fine\"}," + json + "]");
      REQUIRE_FALSE(b.is_ok());
      CHECK(fingerprint(t) == before);
    }
    CHECK(fingerprint(t) == before);
  }

  TEST_CASE("a NUL byte inside the JSON text is refused") {
    TestDb t;
    std::string json("{\"_id\":\"a\"}\0", 12);
    CHECK(t.db->put(json).status().reason() == "invalid UTF-8 JSON");
    CHECK_FALSE(t.db->get("a").is_ok());
  }

  TEST_CASE("text cut inside a UTF-8 sequence is refused without reading past its end") {
    // The fuzz test found rapidjson reading past the terminator here (seen
    // by AddressSanitizer; short texts sit in std::string's inline buffer
    // on the stack).
    TestDb t;
    for (std::string json : {std::string("{\"x\":2,\"y$:[1]\xe7"), std::string("{\"a\":\"\xf0"),
                             std::string("{\"a\":\"\xf0\x9f"), std::string("{\"a\":\"\xf4\x8f\xbf"),
                             std::string("{\"_id\":\"\xe2\x82")}) {
      CAPTURE(json);
      auto r = t.db->put(json);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kBadRequest);
      CHECK_FALSE(t.db->bulk_docs("[" + json).is_ok());
    }
    CHECK(t.db->info()->update_seq == 0);
  }

  TEST_CASE("deeply nested JSON is refused without crashing") {
    TestDb t;
    auto r = t.db->put("{\"_id\":\"a\",\"x\":" + deep(100000) + "}");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kBadRequest);
    CHECK(t.db->put("{\"_id\":\"b\",\"x\":" + deep(100) + "}").is_ok());
  }

  TEST_CASE("in a large bulk array (parsed recursively on the helper), nesting is bounded too") {
    TestDb t;
    // Over 64 KiB, so that the array is streamed through the helper thread.
    std::string filler;
    for (int i = 0; i < 400; ++i) filler += R"({"_id":"f)" + std::to_string(i) + R"(","pad":")" + std::string(200, 'p') + R"("},)";
    // The document's own object is one level and the array around it another.
    auto at_limit = t.db->bulk_docs("[" + filler + R"({"_id":"ok","x":)" + deep(510) + "}]");
    REQUIRE(at_limit.is_ok());
    CHECK(at_limit->back().status.is_ok());
    for (int depth : {511, 100000}) {
      CAPTURE(depth);
      auto over = t.db->bulk_docs("[" + filler + R"({"_id":"no","x":)" + deep(depth) + "}]");
      REQUIRE_FALSE(over.is_ok());
      CHECK(over.status().code() == ErrorCode::kBadRequest);
    }
    CHECK(t.db->info()->doc_count == 401);  // the refused array wrote nothing
  }

  TEST_CASE("documents over max_document_size are refused with document_too_large") {
    DataDirOptions o;
    o.max_document_size = 1000;
    TestDb t(o);
    std::string big = R"({"_id":"big","s":")" + std::string(2000, 'x') + R"("})";
    auto r = t.db->put(big);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kDocumentTooLarge);
    CHECK(r.status().reason() == "big");
    CHECK(t.db->bulk_docs("[" + big + "]").status().code() == ErrorCode::kDocumentTooLarge);
    CHECK(t.db->info()->doc_count == 0);
  }

  TEST_CASE("bulk_docs needs an array of objects") {
    TestDb t;
    for (const char* json : {"{}", "7", "\"x\"", "[1]", "[[]]", "[{}, 3]", "", "[{}"}) {
      CAPTURE(json);
      auto r = t.db->bulk_docs(json);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kBadRequest);
    }
    CHECK(t.db->info()->update_seq == 0);
    auto empty = t.db->bulk_docs("[]");
    REQUIRE(empty.is_ok());
    CHECK(empty->empty());
  }

  TEST_CASE("replicated writes refuse histories that are malformed") {
    TestDb t;
    BulkDocsOptions replicated{false};
    for (const char* json :
         {R"([{"_id":"a"}])", R"([{"_id":"a","_rev":"0-1"}])",
          R"([{"_id":"a","_revisions":{"start":0,"ids":["a"]}}])"}) {
      CAPTURE(json);
      auto r = t.db->bulk_docs(json, replicated);
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kBadRequest);
    }
    CHECK(t.db->info()->update_seq == 0);
  }

  TEST_CASE("reads refuse bad ids and bad revisions") {
    TestDb t;
    t.put(R"({"_id":"a"})");
    CHECK(t.db->get("").status().code() == ErrorCode::kIllegalDocId);
    CHECK(t.db->get("_nope").status().code() == ErrorCode::kIllegalDocId);
    CHECK(t.db->get(std::string("\xc3\x28", 2)).status().code() == ErrorCode::kIllegalDocId);
    GetOptions o;
    o.rev = "x";
    CHECK(t.db->get("a", o).status().code() == ErrorCode::kBadRequest);
    OpenRevsOptions orv;
    orv.revs = {"1-abc", "nope"};
    CHECK(t.db->open_revs("a", orv).status().code() == ErrorCode::kBadRequest);
    CHECK(t.db->open_revs("", orv).status().code() == ErrorCode::kIllegalDocId);
    auto diff = t.db->revs_diff({RevsDiffRequest{"a", {"1-abc", "bad"}}});
    CHECK(diff.status().code() == ErrorCode::kBadRequest);
    CHECK(t.db->remove("a", "junk").status().code() == ErrorCode::kBadRequest);
    CHECK(t.db->remove("", "1-a").status().code() == ErrorCode::kIllegalDocId);
  }

  TEST_CASE("put refuses a bad id or revision given from outside the body") {
    TestDb t;
    CHECK(t.db->put("{}", PutOptions{true, "_x", std::nullopt}).status().code() ==
          ErrorCode::kIllegalDocId);
    CHECK(t.db->put("{}", PutOptions{true, "a", "junk"}).status().code() == ErrorCode::kBadRequest);
    CHECK(t.db->info()->update_seq == 0);
  }

  TEST_CASE("revs_limit must be positive") {
    TestDb t;
    CHECK(t.db->set_revs_limit(0).code() == ErrorCode::kBadRequest);
    CHECK(*t.db->revs_limit() == 1000);
  }

  TEST_CASE("data folder calls refuse bad names with CouchDB's reason") {
    TestDb t;
    for (const char* name : {"", "A", "1abc", "_nope", "a b", "a.b", "abc\xc3\xa9", "a\\b"}) {
      CAPTURE(name);
      auto c = t.dir->create_database(name);
      REQUIRE_FALSE(c.is_ok());
      CHECK(c.status().code() == ErrorCode::kIllegalDatabaseName);
      CHECK(t.dir->open_database(name).status().code() == ErrorCode::kIllegalDatabaseName);
      CHECK(t.dir->delete_database(name).code() == ErrorCode::kIllegalDatabaseName);
    }
    CHECK(DataDir::validate_database_name("A").reason() ==
          "Name: 'A'. Only lowercase characters (a-z), digits (0-9), and any of the characters "
          "_, $, (, ), +, -, and / are allowed. Must begin with a letter.");
    CHECK(DataDir::validate_database_name(std::string(239, 'a')).code() ==
          ErrorCode::kIllegalDatabaseName);
    CHECK(t.dir->list_databases()->size() == 1);
  }
}

TEST_SUITE("db") {
  TEST_CASE("opening a data folder that is a file fails cleanly") {
    divan::testing::TempDir tmp;
    std::string file = tmp.file("plain");
    std::FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fclose(f);
    auto dir = DataDir::open(file);
    REQUIRE_FALSE(dir.is_ok());
    CHECK(dir.status().code() == ErrorCode::kIoError);
  }

  TEST_CASE("a damaged database file is reported as an error, not a crash") {
    divan::testing::TempDir tmp;
    {
      auto dir = DataDir::open(tmp.path());
      REQUIRE((*dir)->create_database("bad").is_ok());
    }
    std::FILE* f = std::fopen((tmp.path() + "/bad.divan").c_str(), "w");
    REQUIRE(f != nullptr);
    std::string junk(64 * 1024, '\x5a');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
    auto dir = DataDir::open(tmp.path());
    REQUIRE(dir.is_ok());
    auto db = (*dir)->open_database("bad");
    REQUIRE_FALSE(db.is_ok());
    CHECK((db.status().code() == ErrorCode::kCorruption || db.status().code() == ErrorCode::kIoError));
    // The folder still works for other databases.
    CHECK((*dir)->create_database("good").is_ok());
  }

  TEST_CASE("ranges that select nothing and feeds past the end answer empty, not errors") {
    TestDb t;
    t.put(R"({"_id":"a"})");
    AllDocsOptions o;
    o.start_key = "z";
    o.end_key = "a";
    auto r = t.db->all_docs(o);
    REQUIRE(r.is_ok());
    CHECK(r->rows.empty());
    divan::ChangesOptions c;
    c.since = 1'000'000;
    auto ch = t.db->changes(c);
    REQUIRE(ch.is_ok());
    CHECK(ch->rows.empty());
    c.filter = divan::ChangesFilter::kDocIds;
    c.doc_ids = {"", "_bad", std::string("\xff", 1), std::string(600, 'x')};
    c.since = 0;
    ch = t.db->changes(c);
    REQUIRE(ch.is_ok());
    CHECK(ch->rows.empty());
    AllDocsOptions keys;
    keys.keys = std::vector<std::string>{"", std::string(600, 'x'), "a"};
    auto rows = t.db->all_docs(keys);
    REQUIRE(rows.is_ok());
    REQUIRE(rows->rows.size() == 3);
    CHECK(rows->rows[0].not_found);
    CHECK(rows->rows[1].not_found);
    CHECK_FALSE(rows->rows[2].not_found);
    auto diff = t.db->revs_diff({RevsDiffRequest{"", {"1-a"}}, RevsDiffRequest{std::string(600, 'x'), {"1-a"}}});
    REQUIRE(diff.is_ok());
    CHECK(diff->size() == 2);
  }
}
