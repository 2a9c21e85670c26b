// The document endpoints from outside, against the real binary:
// GET/HEAD/PUT/DELETE /{db}/{docid}, _design and _local documents, ETags,
// open_revs (JSON and multipart/mixed) and the attachment URL.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "multipart_parse.h"
#include "server_process.h"

using divan::testing::error_of;
using divan::testing::parse_multipart;
using divan::testing::Part;
using divan::testing::reason_of;
using divan::testing::Resp;
using divan::testing::ServerProcess;
using divan::testing::str;

namespace {



struct DbCounts {
  std::uint64_t update_seq = 0;
  std::uint64_t doc_count = 0;
  std::uint64_t doc_del_count = 0;
  bool operator==(const DbCounts&) const = default;
};

DbCounts counts(ServerProcess& s, const std::string& db) {
  Resp r = s.get("/" + db);
  REQUIRE(r.status == 200);
  auto j = r.json();
  return {j["update_seq"].GetUint64(), j["doc_count"].GetUint64(), j["doc_del_count"].GetUint64()};
}

// PUTs `body` at /db/id and returns the new rev (REQUIREs 201).
std::string put_doc(ServerProcess& s, const std::string& path, const std::string& body) {
  Resp r = s.put(path, body);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return str(r.json()["rev"]);
}

Resp put_with(ServerProcess& s, const std::string& path, const std::string& body,
              const httplib::Headers& h) {
  return s.request("PUT", path, body, "application/json", h);
}

Resp post_json(ServerProcess& s, const std::string& path, const std::string& body) {
  return s.post(path, body);
}


// Two conflicting leaves of doc "c" in db: 2-b (from 1-a) and 2-c (from 1-a),
// written with new_edits=false.
void make_conflict(ServerProcess& s, const std::string& db) {
  Resp r = post_json(s, "/" + db + "/_bulk_docs", R"({"new_edits":false,"docs":[
      {"_id":"c","_rev":"2-b","v":"b","_revisions":{"start":2,"ids":["b","a"]}},
      {"_id":"c","_rev":"2-c","v":"c","_revisions":{"start":2,"ids":["c","a"]}}]})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  REQUIRE(r.body == "[]\n");
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("PUT creates a document with 201, ETag and Location, and GET returns it") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    Resp created = s.put("/db/doc1", R"({"name":"x","n":[1,2.50,{"k":null}]})");
    REQUIRE(created.status == 201);
    auto j = created.json();
    CHECK(j["ok"].GetBool());
    CHECK(str(j["id"]) == "doc1");
    std::string rev = str(j["rev"]);
    CHECK(rev.starts_with("1-"));
    CHECK(rev.size() == 34);
    CHECK(created.header("ETag") == "\"" + rev + "\"");
    CHECK(created.header("Location").ends_with("/db/doc1"));
    CHECK(created.header("Location").starts_with("http://"));

    Resp got = s.get("/db/doc1");
    REQUIRE(got.status == 200);
    CHECK(got.header("Content-Type").starts_with("application/json"));
    CHECK(got.header("ETag") == "\"" + rev + "\"");
    CHECK(got.body == R"({"_id":"doc1","_rev":")" + rev + R"(","name":"x","n":[1,2.50,{"k":null}]})" + "\n");

    // Content-Type is not checked on PUT.
    Resp plain = s.request("PUT", "/db/doc2", R"({"a":1})", "text/plain");
    CHECK(plain.status == 201);
    CHECK(counts(s, "db") == DbCounts{2, 2, 0});
  }

  TEST_CASE("PUT answers CouchDB's errors and a failed write changes nothing") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string rev = put_doc(s, "/db/a", R"({"v":1})");
    DbCounts before = counts(s, "db");

    Resp bad_json = s.put("/db/b", R"({"v":)");
    CHECK(bad_json.status == 400);
    CHECK(error_of(bad_json) == "bad_request");
    CHECK(reason_of(bad_json) == "invalid UTF-8 JSON");

    Resp not_object = s.put("/db/b", "[1,2]");
    CHECK(not_object.status == 400);
    CHECK(reason_of(not_object) == "Document must be a JSON object");

    Resp illegal = s.put("/db/_bad", "{}");
    CHECK(illegal.status == 400);
    CHECK(error_of(illegal) == "illegal_docid");
    CHECK(reason_of(illegal) == "Only reserved document ids may start with underscore.");

    Resp special = s.put("/db/b", R"({"_foo":1})");
    CHECK(special.status == 400);
    CHECK(error_of(special) == "doc_validation");
    CHECK(reason_of(special) == "Bad special document member: _foo");

    Resp no_rev = s.put("/db/a", R"({"v":2})");
    CHECK(no_rev.status == 409);
    CHECK(no_rev.body == "{\"error\":\"conflict\",\"reason\":\"Document update conflict.\"}\n");
    Resp stale = s.put("/db/a", R"({"_rev":"1-00000000000000000000000000000000","v":2})");
    CHECK(stale.status == 409);
    Resp bad_rev = s.put("/db/a", R"({"_rev":"nodash","v":2})");
    CHECK(bad_rev.status == 400);
    CHECK(reason_of(bad_rev) == "Invalid rev format");
    Resp bad_bool = s.put("/db/a?new_edits=perhaps", "{}");
    CHECK(bad_bool.status == 400);

    Resp no_db = s.put("/nodb/a", "{}");
    CHECK(no_db.status == 404);
    CHECK(reason_of(no_db) == "Database does not exist.");

    CHECK(counts(s, "db") == before);
    CHECK(str(s.get("/db/a").json()["_rev"]) == rev);
    CHECK(s.get("/db/b").status == 404);
  }

  TEST_CASE("updates take the rev from the body, ?rev= or If-Match, and disagreements are 400") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string r1 = put_doc(s, "/db/a", R"({"v":1})");
    std::string r2 = put_doc(s, "/db/a", R"({"_rev":")" + r1 + R"(","v":2})");
    CHECK(r2.starts_with("2-"));
    std::string r3 = put_doc(s, "/db/a?rev=" + r2, R"({"v":3})");
    CHECK(r3.starts_with("3-"));
    Resp r4 = put_with(s, "/db/a", R"({"v":4})", {{"If-Match", "\"" + r3 + "\""}});
    REQUIRE(r4.status == 201);
    std::string rev4 = str(r4.json()["rev"]);
    CHECK(rev4.starts_with("4-"));
    CHECK(s.get("/db/a").json()["v"].GetInt() == 4);
    DbCounts before = counts(s, "db");

    Resp body_vs_query = s.put("/db/a?rev=" + r1, R"({"_rev":")" + rev4 + R"(","v":5})");
    CHECK(body_vs_query.status == 400);
    CHECK(reason_of(body_vs_query) ==
          "Document rev from request body and query string have different values");
    Resp query_vs_etag = put_with(s, "/db/a?rev=" + rev4, R"({"v":5})", {{"If-Match", "\"" + r1 + "\""}});
    CHECK(query_vs_etag.status == 400);
    CHECK(reason_of(query_vs_etag) == "Document rev and etag have different values");
    Resp body_vs_etag =
        put_with(s, "/db/a", R"({"_rev":")" + rev4 + R"(","v":5})", {{"If-Match", "\"" + r1 + "\""}});
    CHECK(body_vs_etag.status == 400);
    CHECK(reason_of(body_vs_etag) == "Document rev and etag have different values");
    // A stale If-Match is a conflict like any stale rev.
    Resp stale = put_with(s, "/db/a", R"({"v":5})", {{"If-Match", "\"" + r1 + "\""}});
    CHECK(stale.status == 409);
    CHECK(counts(s, "db") == before);

    // All three agreeing is fine.
    Resp agree = put_with(s, "/db/a?rev=" + rev4, R"({"_rev":")" + rev4 + R"(","v":5})",
                          {{"If-Match", "\"" + rev4 + "\""}});
    CHECK(agree.status == 201);
  }

  TEST_CASE("the URL's id wins over the body's _id") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    Resp r = s.put("/db/url-id", R"({"_id":"body-id","v":1})");
    REQUIRE(r.status == 201);
    CHECK(str(r.json()["id"]) == "url-id");
    CHECK(str(s.get("/db/url-id").json()["_id"]) == "url-id");
    CHECK(s.get("/db/body-id").status == 404);
  }

  TEST_CASE("DELETE needs the current rev, answers 200 with the tombstone, and GET then says deleted") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string r1 = put_doc(s, "/db/a", R"({"v":1})");

    Resp missing = s.del("/db/nope?rev=" + r1);
    CHECK(missing.status == 404);
    CHECK(reason_of(missing) == "missing");
    Resp no_rev = s.del("/db/a");
    CHECK(no_rev.status == 409);
    CHECK(error_of(no_rev) == "conflict");
    Resp wrong_rev = s.del("/db/a?rev=1-00000000000000000000000000000000");
    CHECK(wrong_rev.status == 409);
    Resp bad_rev = s.del("/db/a?rev=junk");
    CHECK(bad_rev.status == 400);
    CHECK(counts(s, "db") == DbCounts{1, 1, 0});

    Resp deleted = s.del("/db/a?rev=" + r1);
    REQUIRE(deleted.status == 200);
    auto j = deleted.json();
    CHECK(j["ok"].GetBool());
    CHECK(str(j["id"]) == "a");
    std::string tomb = str(j["rev"]);
    CHECK(tomb.starts_with("2-"));
    CHECK(deleted.header("ETag") == "\"" + tomb + "\"");
    CHECK(counts(s, "db") == DbCounts{2, 0, 1});

    Resp gone = s.get("/db/a");
    CHECK(gone.status == 404);
    CHECK(gone.body == "{\"error\":\"not_found\",\"reason\":\"deleted\"}\n");
    Resp again = s.del("/db/a?rev=" + tomb);
    CHECK(again.status == 404);
    CHECK(reason_of(again) == "deleted");
    Resp with_deleted = s.get("/db/a?deleted=true");
    REQUIRE(with_deleted.status == 200);
    CHECK(with_deleted.json()["_deleted"].GetBool());
    Resp by_rev = s.get("/db/a?rev=" + tomb);
    REQUIRE(by_rev.status == 200);
    CHECK(by_rev.json()["_deleted"].GetBool());
    CHECK(str(s.get("/db/a?rev=" + r1).json()["_rev"]) == r1);

    // Re-creating: no rev (the tombstone's rev is a conflict).
    Resp stale = s.put("/db/a", R"({"_rev":")" + tomb + R"(","v":2})");
    CHECK(stale.status == 409);
    std::string r3 = put_doc(s, "/db/a", R"({"v":2})");
    CHECK(r3.starts_with("3-"));
    CHECK(s.get("/db/a").json()["v"].GetInt() == 2);
    CHECK(counts(s, "db") == DbCounts{3, 1, 0});

    // If-Match supplies the rev; disagreeing with ?rev= is 400.
    Resp mismatch = s.request("DELETE", "/db/a?rev=" + r1, "", "application/json",
                              {{"If-Match", "\"" + r3 + "\""}});
    CHECK(mismatch.status == 400);
    CHECK(reason_of(mismatch) == "Document rev and etag have different values");
    Resp by_etag = s.request("DELETE", "/db/a", "", "application/json", {{"If-Match", "\"" + r3 + "\""}});
    CHECK(by_etag.status == 200);
    CHECK(s.get("/db/a").status == 404);
  }

  TEST_CASE("PUT with _deleted true deletes and answers 200") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string r1 = put_doc(s, "/db/a", R"({"v":1})");
    Resp r = s.put("/db/a", R"({"_rev":")" + r1 + R"(","_deleted":true})");
    CHECK(r.status == 200);
    CHECK(str(r.json()["rev"]).starts_with("2-"));
    CHECK(reason_of(s.get("/db/a")) == "deleted");
  }

  TEST_CASE("GET reports missing documents, revisions and bad parameters with CouchDB's reasons") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string r1 = put_doc(s, "/db/a", R"({"v":1})");
    Resp missing = s.get("/db/nope");
    CHECK(missing.status == 404);
    CHECK(missing.body == "{\"error\":\"not_found\",\"reason\":\"missing\"}\n");
    Resp no_rev = s.get("/db/a?rev=1-00000000000000000000000000000000");
    CHECK(no_rev.status == 404);
    CHECK(reason_of(no_rev) == "missing");
    Resp bad_rev = s.get("/db/a?rev=xyz");
    CHECK(bad_rev.status == 400);
    CHECK(reason_of(bad_rev) == "Invalid rev format");
    CHECK(s.get("/db/a?revs=yes").status == 400);
    CHECK(s.get("/db/a?conflicts=1").status == 400);
    Resp illegal = s.get("/db/_nope");
    CHECK(illegal.status == 400);
    CHECK(error_of(illegal) == "illegal_docid");
    Resp no_db = s.get("/nodb/a");
    CHECK(no_db.status == 404);
    CHECK(reason_of(no_db) == "Database does not exist.");
    CHECK(s.request("HEAD", "/db/nope").status == 404);
  }

  TEST_CASE("ETag and If-None-Match give 304 with an empty body; meta options drop the ETag") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string r1 = put_doc(s, "/db/a", R"({"v":1})");
    std::string r2 = put_doc(s, "/db/a", R"({"_rev":")" + r1 + R"(","v":2})");
    std::string etag = "\"" + r2 + "\"";

    Resp same = s.get("/db/a", {{"If-None-Match", etag}});
    CHECK(same.status == 304);
    CHECK(same.body.empty());
    CHECK(same.header("ETag") == etag);
    Resp listed = s.get("/db/a", {{"If-None-Match", "\"1-x\", " + etag}});
    CHECK(listed.status == 304);
    Resp other = s.get("/db/a", {{"If-None-Match", "\"" + r1 + "\""}});
    CHECK(other.status == 200);
    CHECK(other.json()["v"].GetInt() == 2);

    Resp head = s.request("HEAD", "/db/a");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.header("ETag") == etag);

    // An older revision has its own ETag.
    CHECK(s.get("/db/a?rev=" + r1).header("ETag") == "\"" + r1 + "\"");
    // revs=true keeps the ETag; revs_info and local_seq drop it; conflicts
    // drops it only when there are conflicts to show.
    CHECK(s.get("/db/a?revs=true").header("ETag") == etag);
    CHECK(s.get("/db/a?revs_info=true").header("ETag").empty());
    CHECK(s.get("/db/a?local_seq=true").header("ETag").empty());
    CHECK(s.get("/db/a?meta=true").header("ETag").empty());
    CHECK(s.get("/db/a?conflicts=true").header("ETag") == etag);
    make_conflict(s, "db");
    Resp c = s.get("/db/c?conflicts=true");
    CHECK(c.header("ETag").empty());
    CHECK(c.json()["_conflicts"].Size() == 1);
    CHECK(s.get("/db/c?conflicts=true", {{"If-None-Match", "\"2-c\""}}).status == 200);
  }

  TEST_CASE("revs, revs_info, conflicts, deleted_conflicts, meta and local_seq add CouchDB's fields") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    make_conflict(s, "db");  // leaves 2-b, 2-c; winner 2-c
    // A third, deleted branch.
    Resp del = post_json(s, "/db/_bulk_docs", R"({"new_edits":false,"docs":[
        {"_id":"c","_rev":"3-d","_deleted":true,"_revisions":{"start":3,"ids":["d","b2","a"]}}]})");
    REQUIRE(del.status == 201);

    Resp plain = s.get("/db/c");
    CHECK(plain.body == R"({"_id":"c","_rev":"2-c","v":"c"})" "\n");

    auto revs = s.get("/db/c?revs=true").json();
    CHECK(revs["_revisions"]["start"].GetUint64() == 2);
    REQUIRE(revs["_revisions"]["ids"].Size() == 2);
    CHECK(str(revs["_revisions"]["ids"][0]) == "c");
    CHECK(str(revs["_revisions"]["ids"][1]) == "a");

    auto info = s.get("/db/c?revs_info=true").json();
    REQUIRE(info["_revs_info"].Size() == 2);
    CHECK(str(info["_revs_info"][0]["rev"]) == "2-c");
    CHECK(str(info["_revs_info"][0]["status"]) == "available");
    CHECK(str(info["_revs_info"][1]["rev"]) == "1-a");
    CHECK(str(info["_revs_info"][1]["status"]) == "missing");

    auto conflicts = s.get("/db/c?conflicts=true").json();
    REQUIRE(conflicts["_conflicts"].Size() == 1);
    CHECK(str(conflicts["_conflicts"][0]) == "2-b");
    CHECK(!conflicts.HasMember("_deleted_conflicts"));

    auto dc = s.get("/db/c?deleted_conflicts=true").json();
    REQUIRE(dc["_deleted_conflicts"].Size() == 1);
    CHECK(str(dc["_deleted_conflicts"][0]) == "3-d");

    auto meta = s.get("/db/c?meta=true").json();
    CHECK(meta.HasMember("_revs_info"));
    CHECK(meta.HasMember("_conflicts"));
    CHECK(meta.HasMember("_deleted_conflicts"));
    CHECK(!meta.HasMember("_local_seq"));

    auto seq = s.get("/db/c?local_seq=true").json();
    CHECK(seq["_local_seq"].GetUint64() == counts(s, "db").update_seq);

    // With ?rev= the meta fields are left out (CouchDB adds them to the
    // winner only), but revs=true still works.
    auto old = s.get("/db/c?rev=2-b&revs=true&conflicts=true&revs_info=true").json();
    CHECK(str(old["_rev"]) == "2-b");
    CHECK(old["_revisions"]["ids"].Size() == 2);
    CHECK(!old.HasMember("_conflicts"));
    CHECK(!old.HasMember("_revs_info"));
  }

  TEST_CASE("PUT with new_edits=false stores the given revision and its history") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string body = R"({"_rev":"3-c","_revisions":{"start":3,"ids":["c","b","a"]},"v":3})";
    Resp r = s.put("/db/x?new_edits=false", body);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    CHECK(str(r.json()["rev"]) == "3-c");
    CHECK(r.header("ETag") == "\"3-c\"");
    auto revs = s.get("/db/x?revs=true").json();
    CHECK(str(revs["_rev"]) == "3-c");
    CHECK(revs["_revisions"]["ids"].Size() == 3);
    DbCounts before = counts(s, "db");
    // The same revision again: a success that changes nothing.
    Resp again = s.put("/db/x?new_edits=false", body);
    CHECK(again.status == 201);
    CHECK(counts(s, "db") == before);
    // A branch beside it: a conflict is accepted without a check.
    Resp branch = s.put("/db/x?new_edits=false",
                        R"({"_rev":"3-d","_revisions":{"start":3,"ids":["d","b","a"]},"v":4})");
    CHECK(branch.status == 201);
    CHECK(s.get("/db/x?conflicts=true").json()["_conflicts"].Size() == 1);
    // Without any rev: 400.
    Resp no_rev = s.put("/db/y?new_edits=false", R"({"v":1})");
    CHECK(no_rev.status == 400);
    CHECK(reason_of(no_rev) ==
          "When `new_edits: false`, the document needs `_rev` or `_revisions` specified");
  }

  TEST_CASE("open_revs answers JSON with every leaf, the revisions listed, missing ones and latest") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    make_conflict(s, "db");

    auto all = s.get("/db/c?open_revs=all").json();
    REQUIRE(all.IsArray());
    REQUIRE(all.Size() == 2);
    CHECK(str(all[0]["ok"]["_rev"]) == "2-c");  // the winner first
    CHECK(str(all[1]["ok"]["_rev"]) == "2-b");
    CHECK(!all[0]["ok"].HasMember("_revisions"));

    Resp listed = s.get("/db/c?open_revs=%5B%222-b%22,%223-zz%22%5D&revs=true");
    REQUIRE(listed.status == 200);
    CHECK(listed.header("ETag").empty());
    auto l = listed.json();
    REQUIRE(l.Size() == 2);
    CHECK(str(l[0]["ok"]["_rev"]) == "2-b");
    CHECK(str(l[0]["ok"]["v"]) == "b");
    CHECK(l[0]["ok"]["_revisions"]["start"].GetUint64() == 2);
    CHECK(str(l[0]["ok"]["_revisions"]["ids"][1]) == "a");
    CHECK(str(l[1]["missing"]) == "3-zz");

    // latest=true: 1-a stands for the leaves below it.
    auto latest = s.get("/db/c?open_revs=%5B%221-a%22%5D&latest=true").json();
    REQUIRE(latest.Size() == 2);
    CHECK(latest[0].HasMember("ok"));
    CHECK(latest[1].HasMember("ok"));
    // Without latest, 1-a has no body any more: missing.
    auto old = s.get("/db/c?open_revs=%5B%221-a%22%5D").json();
    REQUIRE(old.Size() == 1);
    CHECK(str(old[0]["missing"]) == "1-a");

    // A deleted leaf comes back with _deleted.
    std::string r1 = put_doc(s, "/db/d", "{}");
    REQUIRE(s.del("/db/d?rev=" + r1).status == 200);
    auto tomb = s.get("/db/d?open_revs=all").json();
    REQUIRE(tomb.Size() == 1);
    CHECK(tomb[0]["ok"]["_deleted"].GetBool());

    // Unknown document: all -> 404, a list -> 200 with everything missing.
    Resp unknown_all = s.get("/db/nope?open_revs=all");
    CHECK(unknown_all.status == 404);
    CHECK(reason_of(unknown_all) == "missing");
    Resp unknown_list = s.get("/db/nope?open_revs=%5B%221-a%22%5D");
    CHECK(unknown_list.status == 200);
    CHECK(unknown_list.body == "[{\"missing\":\"1-a\"}]\n");
    CHECK(s.get("/db/c?open_revs=%5B%5D").body == "[]\n");

    CHECK(s.get("/db/c?open_revs=%5Bbroken").status == 400);
    CHECK(s.get("/db/c?open_revs=%5B1%5D").status == 400);
    CHECK(s.get("/db/c?open_revs=%7B%7D").status == 400);
    Resp bad_rev = s.get("/db/c?open_revs=%5B%22nodash%22%5D");
    CHECK(bad_rev.status == 400);
    CHECK(reason_of(bad_rev) == "Invalid rev format");
    // Accept: application/json keeps JSON even when multipart is listed.
    Resp json = s.get("/db/c?open_revs=all", {{"Accept", "application/json, multipart/mixed"}});
    CHECK(json.header("Content-Type").starts_with("application/json"));
  }

  TEST_CASE("open_revs answers multipart/mixed when asked, as CouchDB's replicator expects") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    make_conflict(s, "db");
    Resp r = s.get("/db/c?open_revs=%5B%222-b%22,%224-zz%22,%222-c%22%5D&revs=true",
                   {{"Accept", "multipart/mixed"}});
    REQUIRE(r.status == 200);
    std::string ct = r.header("Content-Type");
    REQUIRE(ct.starts_with("multipart/mixed; boundary=\""));
    REQUIRE(ct.ends_with("\""));
    std::string boundary = ct.substr(27, ct.size() - 28);
    CHECK(boundary.size() == 32);
    std::vector<Part> parts = parse_multipart(r.body, boundary);
    REQUIRE(parts.size() == 3);
    CHECK(parts[0].headers["Content-Type"] == "application/json");
    rapidjson::Document d0;
    d0.Parse(parts[0].body.data(), parts[0].body.size());
    REQUIRE(!d0.HasParseError());
    CHECK(str(d0["_id"]) == "c");
    CHECK(str(d0["_rev"]) == "2-b");
    CHECK(d0["_revisions"]["ids"].Size() == 2);
    CHECK(parts[1].headers["Content-Type"] == "application/json; error=\"true\"");
    CHECK(parts[1].body == R"({"missing":"4-zz"})");
    rapidjson::Document d2;
    d2.Parse(parts[2].body.data(), parts[2].body.size());
    CHECK(str(d2["_rev"]) == "2-c");

    Resp all = s.get("/db/c?open_revs=all", {{"Accept", "multipart/mixed"}});
    std::string ct2 = all.header("Content-Type");
    CHECK(parse_multipart(all.body, ct2.substr(27, ct2.size() - 28)).size() == 2);
    // Nothing found still makes a well-formed body.
    Resp none = s.get("/db/nope?open_revs=%5B%221-a%22%5D", {{"Accept", "multipart/mixed"}});
    std::string ct3 = none.header("Content-Type");
    auto missing = parse_multipart(none.body, ct3.substr(27, ct3.size() - 28));
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].body == R"({"missing":"1-a"})");
  }

  TEST_CASE("latest=true without open_revs reads the winner, but a malformed rev is still 400") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string r1 = put_doc(s, "/db/a", R"({"v":1})");
    std::string r2 = put_doc(s, "/db/a", R"({"_rev":")" + r1 + R"(","v":2})");
    CHECK(str(s.get("/db/a?rev=" + r1).json()["_rev"]) == r1);
    CHECK(str(s.get("/db/a?rev=" + r1 + "&latest=true").json()["_rev"]) == r2);
    CHECK(s.get("/db/a?rev=bad&latest=true").status == 400);
  }

  TEST_CASE("_local documents take 0-N revisions, keep no history and are not counted") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    DbCounts before = counts(s, "db");
    Resp first = s.put("/db/_local/cp", R"({"seq":1})");
    REQUIRE(first.status == 201);
    CHECK(str(first.json()["id"]) == "_local/cp");
    CHECK(str(first.json()["rev"]) == "0-1");
    CHECK(str(s.put("/db/_local/cp", R"({"_rev":"0-1","seq":2})").json()["rev"]) == "0-2");
    // No MVCC: a stale rev still writes, as in CouchDB 3.x.
    CHECK(str(s.put("/db/_local/cp", R"({"_rev":"0-1","seq":3})").json()["rev"]) == "0-2");
    // The replicator's checkpoint body also carries _revisions: dropped.
    Resp replicator = s.put("/db/_local/cp",
                            R"({"_rev":"0-2","_revisions":{"start":0,"ids":["2"]},"seq":4})");
    CHECK(replicator.status == 201);
    Resp got = s.get("/db/_local/cp");
    REQUIRE(got.status == 200);
    CHECK(got.body == R"({"_id":"_local/cp","_rev":"0-3","seq":4})" "\n");
    // The encoded form names the same document.
    CHECK(s.get("/db/_local%2Fcp").body == got.body);
    Resp bad = s.put("/db/_local/cp", R"({"_rev":"1-abc"})");
    CHECK(bad.status == 400);
    CHECK(reason_of(bad) == "Invalid rev format");

    CHECK(counts(s, "db") == before);
    CHECK(s.get("/db/_all_docs").json()["rows"].Size() == 0);

    Resp deleted = s.del("/db/_local/cp");
    REQUIRE(deleted.status == 200);
    CHECK(str(deleted.json()["rev"]) == "0-0");
    CHECK(s.get("/db/_local/cp").status == 404);
    Resp again = s.del("/db/_local/cp");
    CHECK(again.status == 404);
    CHECK(reason_of(again) == "missing");
    CHECK(counts(s, "db") == before);
    // _local documents take no attachments.
    Resp att = s.get("/db/_local/cp/file.txt");
    CHECK(att.status == 400);
    CHECK(reason_of(att) == "_local documents do not accept attachments.");
  }

  TEST_CASE("design documents live at /db/_design/name and in the %2F form") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    Resp r = s.put("/db/_design/app", R"({"views":{}})");
    REQUIRE(r.status == 201);
    CHECK(str(r.json()["id"]) == "_design/app");
    std::string rev = str(r.json()["rev"]);
    Resp got = s.get("/db/_design%2Fapp");
    REQUIRE(got.status == 200);
    CHECK(str(got.json()["_id"]) == "_design/app");
    CHECK(s.get("/db/_design/app").body == got.body);
    CHECK(counts(s, "db").doc_count == 1);
    Resp illegal = s.put("/db/_design%2F", "{}");
    CHECK(illegal.status == 400);
    CHECK(error_of(illegal) == "illegal_docid");
    CHECK(s.del("/db/_design/app?rev=" + rev).status == 200);
    CHECK(reason_of(s.get("/db/_design/app")) == "deleted");
  }

  TEST_CASE("an encoded slash makes one document id; the attachment URL has no attachments yet") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string rev = put_doc(s, "/db/a%2Fb", R"({"v":1})");
    Resp got = s.get("/db/a%2Fb");
    REQUIRE(got.status == 200);
    CHECK(str(got.json()["_id"]) == "a/b");
    auto listing = s.get("/db/_all_docs").json();
    auto rows = listing["rows"].GetArray();
    REQUIRE(rows.Size() == 1);
    CHECK(str(rows[0]["id"]) == "a/b");

    // /db/a/b is attachment "b" of document "a".
    Resp no_doc = s.get("/db/a/b");
    CHECK(no_doc.status == 404);
    CHECK(reason_of(no_doc) == "missing");
    put_doc(s, "/db/a", "{}");
    Resp no_att = s.get("/db/a/b");
    CHECK(no_att.status == 404);
    CHECK(no_att.body == "{\"error\":\"not_found\",\"reason\":\"Document is missing attachment\"}\n");
    CHECK(s.request("PUT", "/db/a/b", "hello", "text/plain").status == 501);
    CHECK(s.del("/db/a/b").status == 501);
    CHECK(s.request("PATCH", "/db/a/b", "x").status == 405);
    CHECK(s.del("/db/a%2Fb?rev=" + rev).status == 200);
  }

  TEST_CASE("other methods are 405 with an Allow header; POST to a document wants a form") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    put_doc(s, "/db/a", "{}");
    Resp patch = s.request("PATCH", "/db/a", "{}");
    CHECK(patch.status == 405);
    CHECK(error_of(patch) == "method_not_allowed");
    CHECK(reason_of(patch) == "Only DELETE,GET,HEAD,POST,PUT,COPY allowed");
    CHECK(patch.header("Allow") == "DELETE,GET,HEAD,POST,PUT,COPY");
    Resp post = s.post("/db/a", "{}");
    CHECK(post.status == 415);
    CHECK(error_of(post) == "bad_content_type");
  }

  TEST_CASE("PUT with batch=ok answers 202 and the write is there") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    Resp r = s.put("/db/a?batch=ok", R"({"v":1})");
    CHECK(r.status == 202);
    CHECK(r.json()["ok"].GetBool());
    CHECK(str(r.json()["id"]) == "a");
    CHECK(s.get("/db/a").status == 200);
  }
}
