// The bulk endpoints from outside, against the real binary: _bulk_docs,
// _bulk_get, _revs_diff, and _all_docs, _design_docs and _local_docs.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "server_process.h"

using divan::testing::error_of;
using divan::testing::reason_of;
using divan::testing::Resp;
using divan::testing::ServerProcess;
using divan::testing::str;

namespace {



struct DbCounts {
  std::uint64_t update_seq = 0;
  std::uint64_t doc_count = 0;
  bool operator==(const DbCounts&) const = default;
};

DbCounts counts(ServerProcess& s, const std::string& db) {
  auto j = s.get("/" + db).json();
  return {j["update_seq"].GetUint64(), j["doc_count"].GetUint64()};
}

std::string put_doc(ServerProcess& s, const std::string& path, const std::string& body) {
  Resp r = s.put(path, body);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return str(r.json()["rev"]);
}

// The ids of an _all_docs answer's rows, in order ("!key" for error rows).
std::vector<std::string> row_ids(const Resp& r) {
  REQUIRE_MESSAGE(r.status == 200, r.body);
  std::vector<std::string> out;
  auto j = r.json();
  for (const auto& row : j["rows"].GetArray()) {
    out.push_back(row.HasMember("error") ? "!" + str(row["key"]) : str(row["id"]));
  }
  return out;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("_bulk_docs writes in order and reports per-document results and conflicts") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string a1 = put_doc(s, "/db/a", R"({"v":1})");
    std::string b1 = put_doc(s, "/db/b", R"({"v":1})");
    Resp r = s.post("/db/_bulk_docs", R"({"docs":[
        {"_id":"new","v":1},
        {"v":"no id"},
        {"_id":"a","_rev":")" + a1 + R"(","v":2},
        {"_id":"b","_rev":"1-00000000000000000000000000000000","v":2},
        {"_id":"b","_rev":")" + b1 + R"(","_deleted":true}]})");
    REQUIRE(r.status == 201);
    auto j = r.json();
    REQUIRE(j.IsArray());
    REQUIRE(j.Size() == 5);
    CHECK(str(j[0]["id"]) == "new");
    CHECK(j[0]["ok"].GetBool());
    CHECK(str(j[0]["rev"]).starts_with("1-"));
    std::string generated = str(j[1]["id"]);
    CHECK(generated.size() == 32);
    CHECK(j[1]["ok"].GetBool());
    CHECK(str(j[2]["rev"]).starts_with("2-"));
    // A conflict: id, error, reason, and no rev.
    CHECK(str(j[3]["id"]) == "b");
    CHECK(str(j[3]["error"]) == "conflict");
    CHECK(str(j[3]["reason"]) == "Document update conflict.");
    CHECK(!j[3].HasMember("rev"));
    CHECK(!j[3].HasMember("ok"));
    CHECK(str(j[4]["rev"]).starts_with("2-"));

    CHECK(s.get("/db/" + generated).status == 200);
    CHECK(s.get("/db/a").json()["v"].GetInt() == 2);
    CHECK(reason_of(s.get("/db/b")) == "deleted");
    CHECK(s.post("/db/_bulk_docs", R"({"docs":[]})").body == "[]\n");
    // X-Couch-Full-Commit is accepted and ignored.
    Resp full = s.request("POST", "/db/_bulk_docs", R"({"docs":[{"_id":"fc"}]})", "application/json",
                          {{"X-Couch-Full-Commit", "false"}});
    CHECK(full.status == 201);
  }

  TEST_CASE("_bulk_docs keeps numbers exactly as sent") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    const std::string fields =
        R"("price":1.50,"big":123456789012345678901234567890,"neg":-0.0,"exp":1E+5,"tiny":1e-7,)"
        R"("nested":[1.10,{"x":2.000}])";
    Resp r = s.post("/db/_bulk_docs", R"({"docs":[{"_id":"n",)" + fields + "}]}");
    REQUIRE(r.status == 201);
    std::string rev = str(r.json()[0]["rev"]);
    std::string expected = R"({"_id":"n","_rev":")" + rev + "\"," + fields + "}";
    CHECK(s.get("/db/n").body == expected + "\n");
    // Every read path renders the same text.
    CHECK(s.get("/db/_all_docs?include_docs=true").body.find(expected) != std::string::npos);
    CHECK(s.get("/db/n?open_revs=all").body == "[{\"ok\":" + expected + "}]\n");
    Resp bg = s.post("/db/_bulk_get", R"({"docs":[{"id":"n"}]})");
    CHECK(bg.body.find(expected) != std::string::npos);
    // Whitespace around the array and inside it does not matter.
    Resp spaced = s.post("/db/_bulk_docs", "{ \"new_edits\" : true ,\n \"docs\" :\n [ {\"_id\":\"m\",\"v\":0.10} ] }");
    REQUIRE(spaced.status == 201);
    CHECK(s.get("/db/m").body.find("\"v\":0.10") != std::string::npos);
  }

  TEST_CASE("_bulk_docs with new_edits=false stores given revisions and lists only failures") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    const std::string body = R"({"new_edits":false,"docs":[
        {"_id":"x","_rev":"2-b","_revisions":{"start":2,"ids":["b","a"]},"v":"b"},
        {"_id":"x","_rev":"2-c","_revisions":{"start":2,"ids":["c","a"]},"v":"c"},
        {"_id":"y","_rev":"1-z","v":1}]})";
    Resp r = s.post("/db/_bulk_docs", body);
    REQUIRE(r.status == 201);
    CHECK(r.body == "[]\n");
    auto x = s.get("/db/x?conflicts=true").json();
    CHECK(str(x["_rev"]) == "2-c");
    CHECK(str(x["_conflicts"][0]) == "2-b");
    CHECK(str(s.get("/db/y").json()["_rev"]) == "1-z");
    DbCounts before = counts(s, "db");
    // Sending the same revisions again changes nothing.
    Resp again = s.post("/db/_bulk_docs", body);
    CHECK(again.body == "[]\n");
    CHECK(counts(s, "db") == before);
  }

  TEST_CASE("malformed _bulk_docs requests are 400 and write nothing") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    put_doc(s, "/db/a", "{}");
    DbCounts before = counts(s, "db");
    struct Case {
      std::string body;
      std::string error;
      std::string reason;
    };
    std::vector<Case> cases = {
        {R"({"docs":[{"_id":"x"})", "bad_request", "invalid UTF-8 JSON"},
        {R"({"docs":[]} trailing)", "bad_request", "invalid UTF-8 JSON"},
        {R"([{"_id":"x"}])", "bad_request", "Request body must be a JSON object"},
        {R"({"doc":[]})", "bad_request", "POST body must include `docs` parameter."},
        {R"({"docs":{"_id":"x"}})", "bad_request", "`docs` parameter must be an array."},
        {R"({"docs":"x"})", "bad_request", "`docs` parameter must be an array."},
        {R"({"docs":[{"_id":"x"}],"new_edits":"no"})", "bad_request",
         "`new_edits` parameter must be a boolean."},
        {R"({"docs":[{"_id":"good"},{"_id":"_bad"}]})", "illegal_docid",
         "Only reserved document ids may start with underscore."},
        {R"({"docs":[{"_id":"good"},[1]]})", "bad_request", "Document must be a JSON object"},
        {R"({"docs":[{"_id":"good"},{"_id":"x","_zap":1}]})", "doc_validation",
         "Bad special document member: _zap"},
        {R"({"docs":[{"_id":"good"},{"_id":"x","_rev":"bad"}]})", "bad_request", "Invalid rev format"},
        {R"({"new_edits":false,"docs":[{"_id":"good","_rev":"1-a"},{"_id":"x"}]})", "bad_request",
         "When `new_edits: false`, the document needs `_rev` or `_revisions` specified"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.body);
      Resp r = s.post("/db/_bulk_docs", c.body);
      CHECK(r.status == 400);
      CHECK(error_of(r) == c.error);
      CHECK(reason_of(r) == c.reason);
    }
    CHECK(counts(s, "db") == before);
    CHECK(s.get("/db/good").status == 404);
    CHECK(s.post("/nodb/_bulk_docs", R"({"docs":[]})").status == 404);
  }

  TEST_CASE("_bulk_docs needs application/json (415), POST (405), and refuses all_or_nothing (417)") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string a1 = put_doc(s, "/db/a", "{}");
    DbCounts before = counts(s, "db");
    Resp ct = s.request("POST", "/db/_bulk_docs", R"({"docs":[{"_id":"x"}]})", "text/plain");
    CHECK(ct.status == 415);
    CHECK(ct.body ==
          "{\"error\":\"bad_content_type\",\"reason\":\"Content-Type must be application/json\"}\n");
    Resp get = s.get("/db/_bulk_docs");
    CHECK(get.status == 405);
    CHECK(get.header("Allow") == "POST");

    Resp aon = s.post("/db/_bulk_docs", R"({"all_or_nothing":true,"docs":[
        {"_id":"x","v":1},{"_id":"a","_rev":")" + a1 + R"("},{"v":2}]})");
    CHECK(aon.status == 417);
    auto j = aon.json();
    REQUIRE(j.Size() == 3);
    for (const auto& e : j.GetArray()) {
      CHECK(str(e["error"]) == "not_implemented");
      CHECK(str(e["reason"]) == "all_or_nothing is not supported");
    }
    CHECK(str(j[0]["id"]) == "x");
    CHECK(str(j[0]["rev"]) == "0-");
    CHECK(str(j[1]["rev"]) == a1);
    CHECK(str(j[2]["id"]).size() == 32);
    CHECK(counts(s, "db") == before);
    // all_or_nothing:false is an ordinary request.
    CHECK(s.post("/db/_bulk_docs", R"({"all_or_nothing":false,"docs":[{"_id":"x"}]})").status == 201);
  }

  TEST_CASE("_bulk_get returns all leaves without rev, the revision asked for, and per-entry errors") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    Resp w = s.post("/db/_bulk_docs", R"({"new_edits":false,"docs":[
        {"_id":"x","_rev":"2-b","_revisions":{"start":2,"ids":["b","a"]},"v":"b"},
        {"_id":"x","_rev":"2-c","_revisions":{"start":2,"ids":["c","a"]},"v":"c"},
        {"_id":"d","_rev":"1-d","_deleted":true}]})");
    REQUIRE(w.body == "[]\n");
    // Extra top-level members, as CouchDB's replicator sends, are ignored.
    Resp r = s.post("/db/_bulk_get?revs=true", R"({"revs":true,"latest":true,"attachments":false,"docs":[
        {"id":"x"},
        {"id":"x","rev":"2-b"},
        {"id":"x","rev":"9-z"},
        {"id":"nope"},
        {"id":"nope","rev":"1-a"},
        {"id":"d"},
        7,
        {},
        {"rev":"1-a"},
        {"id":"_bad"},
        {"id":5},
        {"id":"x","rev":"bad"},
        {"id":"x","rev":12},
        {"id":"x","rev":"2-b","atts_since":["1-a"]},
        {"id":"x","rev":"2-b","atts_since":"1-a"},
        {"id":"x","rev":"2-b","atts_since":["junk"]}]})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto j = r.json();
    const auto& results = j["results"];
    REQUIRE(results.Size() == 16);
    auto err = [&](int i) -> const rapidjson::Value& {
      REQUIRE(results[i]["docs"].Size() == 1);
      REQUIRE(results[i]["docs"][0].HasMember("error"));
      return results[i]["docs"][0]["error"];
    };

    // No rev: every leaf, winner first, with _revisions (revs=true).
    CHECK(str(results[0]["id"]) == "x");
    REQUIRE(results[0]["docs"].Size() == 2);
    CHECK(str(results[0]["docs"][0]["ok"]["_rev"]) == "2-c");
    CHECK(str(results[0]["docs"][1]["ok"]["_rev"]) == "2-b");
    CHECK(results[0]["docs"][0]["ok"]["_revisions"]["ids"].Size() == 2);
    // One rev: exactly it.
    REQUIRE(results[1]["docs"].Size() == 1);
    CHECK(str(results[1]["docs"][0]["ok"]["v"]) == "b");
    // Missing revision / document.
    CHECK(str(err(2)["id"]) == "x");
    CHECK(str(err(2)["rev"]) == "9-z");
    CHECK(str(err(2)["error"]) == "not_found");
    CHECK(str(err(2)["reason"]) == "missing");
    CHECK(str(results[3]["id"]) == "nope");
    CHECK(str(err(3)["rev"]) == "undefined");
    CHECK(str(err(3)["reason"]) == "missing");
    CHECK(str(err(4)["rev"]) == "1-a");
    // A deleted leaf is returned like any other.
    CHECK(results[5]["docs"][0]["ok"]["_deleted"].GetBool());
    // Entry errors.
    CHECK(results[6]["id"].IsNull());
    CHECK(err(6)["rev"].IsNull());
    CHECK(str(err(6)["error"]) == "bad_request");
    CHECK(str(err(6)["reason"]) == "document must be a JSON object");
    CHECK(str(err(7)["reason"]) == "document must be a JSON object");
    CHECK(results[8]["id"].IsNull());
    CHECK(str(err(8)["reason"]) == "document id missed");
    CHECK(str(results[9]["id"]) == "_bad");
    CHECK(str(err(9)["error"]) == "illegal_docid");
    CHECK(err(9)["rev"].IsNull());
    CHECK(results[10]["id"].GetInt() == 5);
    CHECK(str(err(10)["error"]) == "illegal_docid");
    CHECK(str(err(11)["rev"]) == "bad");
    CHECK(str(err(11)["error"]) == "bad_request");
    CHECK(str(err(11)["reason"]) == "Invalid rev format");
    CHECK(err(12)["rev"].GetInt() == 12);
    CHECK(str(results[13]["docs"][0]["ok"]["_rev"]) == "2-b");
    CHECK(str(err(14)["rev"]) == "1-a");
    CHECK(str(err(14)["reason"]) == "att_since value must be array of revs.");
    CHECK(str(err(15)["rev"]) == "junk");
    CHECK(str(err(15)["reason"]) == "Invalid rev format");

    // latest=true: an inner revision stands for its leaves.
    Resp latest = s.post("/db/_bulk_get?latest=true", R"({"docs":[{"id":"x","rev":"1-a"}]})");
    auto l = latest.json();
    REQUIRE(l["results"][0]["docs"].Size() == 2);
    CHECK(!l["results"][0]["docs"][0]["ok"].HasMember("_revisions"));
    Resp inner = s.post("/db/_bulk_get", R"({"docs":[{"id":"x","rev":"1-a"}]})");
    CHECK(str(inner.json()["results"][0]["docs"][0]["error"]["rev"]) == "1-a");
    CHECK(s.post("/db/_bulk_get", R"({"docs":[]})").body == "{\"results\":[]}\n");
  }

  TEST_CASE("_bulk_get rejects malformed requests and forbidden query parameters") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    CHECK(s.request("POST", "/db/_bulk_get", R"({"docs":[]})", "text/plain").status == 415);
    CHECK(s.get("/db/_bulk_get").status == 405);
    Resp missing = s.post("/db/_bulk_get", R"({"doc":[]})");
    CHECK(missing.status == 400);
    CHECK(reason_of(missing) == "Missing JSON list of 'docs'.");
    CHECK(reason_of(s.post("/db/_bulk_get", R"({"docs":{}})")) == "Missing JSON list of 'docs'.");
    CHECK(s.post("/db/_bulk_get", R"({"docs":[)").status == 400);
    CHECK(s.post("/db/_bulk_get", R"([])").status == 400);
    for (std::string p : {"rev", "open_revs", "new_edits", "w", "atts_since"}) {
      Resp r = s.post("/db/_bulk_get?" + p + "=x", R"({"docs":[]})");
      CHECK(r.status == 400);
      CHECK(reason_of(r) == "\"" + p + "\" query parameter is not acceptable");
    }
    CHECK(s.post("/db/_bulk_get?revs=maybe", R"({"docs":[]})").status == 400);
    CHECK(s.post("/db/_bulk_get?attachments=true&att_encoding_info=true", R"({"docs":[]})").status ==
          200);
    CHECK(s.post("/nodb/_bulk_get", R"({"docs":[]})").status == 404);
  }

  TEST_CASE("_revs_diff reports missing revisions and possible ancestors, omitting complete documents") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    Resp w = s.post("/db/_bulk_docs", R"({"new_edits":false,"docs":[
        {"_id":"x","_rev":"2-b","_revisions":{"start":2,"ids":["b","a"]}},
        {"_id":"x","_rev":"3-c","_revisions":{"start":3,"ids":["c","b2","a"]}},
        {"_id":"y","_rev":"1-y"}]})");
    REQUIRE(w.body == "[]\n");
    Resp r = s.post("/db/_revs_diff", R"({"x":["2-b","4-d","1-a"],"y":["1-y"],"z":["1-q","2-r"]})");
    REQUIRE(r.status == 200);
    CHECK(r.body == R"({"x":{"missing":["4-d"],"possible_ancestors":["2-b","3-c"]},"z":{"missing":["1-q","2-r"]}})"
                    "\n");
    CHECK(s.post("/db/_revs_diff", R"({"x":["2-b"],"y":["1-y"]})").body == "{}\n");
    CHECK(s.post("/db/_revs_diff", "{}").body == "{}\n");
    // A lower missing revision has no possible ancestors below it.
    CHECK(s.post("/db/_revs_diff", R"({"x":["1-zz"]})").body == "{\"x\":{\"missing\":[\"1-zz\"]}}\n");

    CHECK(s.post("/db/_revs_diff", "[]").status == 400);
    CHECK(s.post("/db/_revs_diff", R"({"x":"2-b"})").status == 400);
    CHECK(s.post("/db/_revs_diff", R"({"x":[1]})").status == 400);
    Resp bad = s.post("/db/_revs_diff", R"({"x":["nodash"]})");
    CHECK(bad.status == 400);
    CHECK(reason_of(bad) == "Invalid rev format");
    CHECK(s.post("/db/_revs_diff", R"({"x":)").status == 400);
    CHECK(s.request("POST", "/db/_revs_diff", "{}", "text/plain").status == 415);
    CHECK(s.get("/db/_revs_diff").status == 405);
  }

  TEST_CASE("_all_docs lists live documents in raw id order with CouchDB's range parameters") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    for (std::string id : {"b", "A", "c", "Z", "a", "_design/x", "d"}) put_doc(s, "/db/" + id, "{}");
    std::string d1 = str(s.get("/db/d").json()["_rev"]);
    REQUIRE(s.del("/db/d?rev=" + d1).status == 200);
    put_doc(s, "/db/_local/l", "{}");

    Resp all = s.get("/db/_all_docs");
    CHECK(row_ids(all) == Ids{"A", "Z", "_design/x", "a", "b", "c"});
    auto j = all.json();
    CHECK(j["total_rows"].GetUint64() == 6);
    CHECK(j["offset"].GetUint64() == 0);
    CHECK(!j.HasMember("update_seq"));
    const auto& row = j["rows"][0];
    CHECK(str(row["key"]) == "A");
    CHECK(str(row["value"]["rev"]).starts_with("1-"));
    CHECK(!row.HasMember("doc"));

    auto ids = [&](const std::string& q) { return row_ids(s.get("/db/_all_docs?" + q)); };
    CHECK(ids("startkey=%22a%22") == Ids{"a", "b", "c"});
    CHECK(ids("start_key=%22a%22&endkey=%22b%22") == Ids{"a", "b"});
    CHECK(ids("startkey=%22a%22&end_key=%22b%22&inclusive_end=false") == Ids{"a"});
    CHECK(ids("key=%22b%22") == Ids{"b"});
    CHECK(ids("key=%22d%22").empty());  // deleted
    CHECK(ids("descending=true") == Ids{"c", "b", "a", "_design/x", "Z", "A"});
    CHECK(ids("descending=true&startkey=%22b%22&endkey=%22Z%22") == Ids{"b", "a", "_design/x", "Z"});
    CHECK(ids("descending=true&startkey=%22b%22&endkey=%22Z%22&inclusive_end=false") ==
          Ids{"b", "a", "_design/x"});
    CHECK(ids("limit=2") == Ids{"A", "Z"});
    CHECK(ids("limit=0").empty());
    CHECK(ids("skip=4") == Ids{"b", "c"});
    CHECK(ids("skip=1&limit=2&startkey=%22Z%22") == Ids{"_design/x", "a"});
    CHECK(ids("startkey_docid=b") == Ids{"b", "c"});
    CHECK(ids("endkey_docid=A") == Ids{"A"});
    CHECK(ids("startkey=%22a%22&startkey_docid=c") == Ids{"a", "b", "c"});
    // Non-string keys: startkey/endkey set no bound; key matches nothing.
    CHECK(ids("startkey=null&endkey=%7B%7D") == Ids{"A", "Z", "_design/x", "a", "b", "c"});
    CHECK(ids("key=1").empty());

    auto offset = [&](const std::string& q) {
      return s.get("/db/_all_docs?" + q).json()["offset"].GetUint64();
    };
    CHECK(offset("startkey=%22a%22") == 3);
    CHECK(offset("startkey=%22a%22&skip=1") == 4);
    CHECK(offset("descending=true&startkey=%22a%22") == 2);
    CHECK(offset("startkey=%22zzz%22") == 6);

    auto seq = s.get("/db/_all_docs?update_seq=true&limit=0").json();
    CHECK(seq["update_seq"].GetUint64() == counts(s, "db").update_seq);
  }

  TEST_CASE("_all_docs include_docs adds documents, with conflicts when asked") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    put_doc(s, "/db/a", R"({"v":1})");
    Resp w = s.post("/db/_bulk_docs", R"({"new_edits":false,"docs":[
        {"_id":"c","_rev":"1-b","v":"b"},{"_id":"c","_rev":"1-c","v":"c"}]})");
    REQUIRE(w.body == "[]\n");
    auto j = s.get("/db/_all_docs?include_docs=true").json();
    REQUIRE(j["rows"].Size() == 2);
    CHECK(j["rows"][0]["doc"]["v"].GetInt() == 1);
    CHECK(str(j["rows"][0]["doc"]["_id"]) == "a");
    CHECK(str(j["rows"][1]["doc"]["_rev"]) == "1-c");
    CHECK(!j["rows"][1]["doc"].HasMember("_conflicts"));
    auto c = s.get("/db/_all_docs?include_docs=true&conflicts=true").json();
    CHECK(str(c["rows"][1]["doc"]["_conflicts"][0]) == "1-b");
  }

  TEST_CASE("_all_docs keys gives rows in key order, for deleted and unknown ids too") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    std::string a = put_doc(s, "/db/a", R"({"v":1})");
    put_doc(s, "/db/b", R"({"v":2})");
    std::string d = put_doc(s, "/db/d", "{}");
    Resp del = s.del("/db/d?rev=" + d);
    std::string tomb = str(del.json()["rev"]);
    std::uint64_t seq = counts(s, "db").update_seq;

    Resp post = s.post("/db/_all_docs", R"({"keys":["b","nope","d","a",7]})");
    REQUIRE(post.status == 200);
    CHECK(post.body == R"({"total_rows":2,"offset":null,"rows":[)"
                       R"({"id":"b","key":"b","value":{"rev":")" +
                           str(s.get("/db/b").json()["_rev"]) + R"("}},)"
                       R"({"key":"nope","error":"not_found"},)"
                       R"({"id":"d","key":"d","value":{"rev":")" + tomb + R"(","deleted":true}},)"
                       R"({"id":"a","key":"a","value":{"rev":")" + a + R"("}},)"
                       R"({"key":7,"error":"not_found"}]})"
                       "\n");

    auto docs = s.post("/db/_all_docs?include_docs=true", R"({"keys":["d","a","nope"]})").json();
    CHECK(docs["rows"][0]["doc"].IsNull());
    CHECK(docs["rows"][1]["doc"]["v"].GetInt() == 1);
    CHECK(!docs["rows"][2].HasMember("doc"));

    CHECK(row_ids(s.get("/db/_all_docs?keys=%5B%22a%22,%22x%22%5D")) == Ids{"a", "!x"});
    CHECK(row_ids(s.post("/db/_all_docs?descending=true", R"({"keys":["a","b","x"]})")) ==
          Ids{"!x", "b", "a"});
    CHECK(row_ids(s.post("/db/_all_docs?skip=1&limit=2", R"({"keys":["a","b","x","d"]})")) ==
          Ids{"b", "!x"});
    // Body members are parameters too; the query string wins.
    CHECK(row_ids(s.post("/db/_all_docs", R"({"keys":["a","b"],"limit":1})")) == Ids{"a"});
    CHECK(row_ids(s.post("/db/_all_docs?limit=2", R"({"keys":["a","b"],"limit":1})")) ==
          Ids{"a", "b"});
    CHECK(row_ids(s.post("/db/_all_docs", R"({"startkey":"b"})")) == Ids{"b"});
    CHECK(row_ids(s.post("/db/_all_docs", "{}")) == Ids{"a", "b"});
    auto with_seq = s.post("/db/_all_docs?update_seq=true", R"({"keys":["a"]})").json();
    CHECK(with_seq["update_seq"].GetUint64() == seq);

    Resp both = s.get("/db/_all_docs?keys=%5B%22a%22%5D&key=%22a%22");
    CHECK(both.status == 400);
    CHECK(error_of(both) == "query_parse_error");
    CHECK(reason_of(both) == "`keys` is incompatible with `key`, `start_key` and `end_key`");
    Resp not_list = s.get("/db/_all_docs?keys=%22a%22");
    CHECK(not_list.status == 400);
    CHECK(reason_of(not_list) == "`keys` parameter must be an array.");
    Resp body_not_list = s.post("/db/_all_docs", R"({"keys":"a"})");
    CHECK(body_not_list.status == 400);
    CHECK(reason_of(body_not_list) == "`keys` body member must be an array.");
    CHECK(s.request("POST", "/db/_all_docs", R"({"keys":[]})", "text/plain").status == 415);
    CHECK(s.post("/db/_all_docs", "[]").status == 400);
    CHECK(s.post("/db/_all_docs", "{").status == 400);
    CHECK(s.request("PATCH", "/db/_all_docs", "{}").status == 405);
  }

  TEST_CASE("_all_docs rejects malformed parameters as CouchDB does") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    struct Case {
      std::string query;
      std::string error;
      std::string reason;
    };
    std::vector<Case> cases = {
        {"limit=-1", "query_parse_error", "Invalid value for non negative integer: \"-1\""},
        {"limit=abc", "query_parse_error", "Invalid value for integer: \"abc\""},
        {"skip=1.5", "query_parse_error", "Invalid value for integer: \"1.5\""},
        {"descending=maybe", "query_parse_error", "Invalid boolean: \"maybe\""},
        {"include_docs=1", "query_parse_error", "Invalid boolean: \"1\""},
        {"startkey=abc", "bad_request", ""},
        {"key=%22unterminated", "bad_request", ""},
        {"keys=%5B", "bad_request", ""},
    };
    for (const Case& c : cases) {
      CAPTURE(c.query);
      Resp r = s.get("/db/_all_docs?" + c.query);
      CHECK(r.status == 400);
      CHECK(error_of(r) == c.error);
      if (!c.reason.empty()) CHECK(reason_of(r) == c.reason);
    }
    CHECK(s.get("/db/_all_docs?descending=TRUE").status == 200);
    Resp body_bool = s.post("/db/_all_docs", R"({"include_docs":"sometimes"})");
    CHECK(body_bool.status == 400);
    CHECK(error_of(body_bool) == "query_parse_error");
    CHECK(s.get("/nodb/_all_docs").status == 404);
  }

  TEST_CASE("_design_docs lists only design documents and counts them") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    for (std::string id : {"A", "a", "_design/b", "_design/a", "_design/c", "z"}) {
      put_doc(s, "/db/" + id, "{}");
    }
    Resp r = s.get("/db/_design_docs");
    CHECK(row_ids(r) == Ids{"_design/a", "_design/b", "_design/c"});
    auto j = r.json();
    CHECK(j["total_rows"].GetUint64() == 3);
    CHECK(j["offset"].GetUint64() == 1);  // "A" sorts before "_design/"
    auto ids = [&](const std::string& q) { return row_ids(s.get("/db/_design_docs?" + q)); };
    CHECK(ids("descending=true") == Ids{"_design/c", "_design/b", "_design/a"});
    CHECK(ids("startkey=%22_design%2Fb%22") == Ids{"_design/b", "_design/c"});
    CHECK(ids("endkey=%22_design%2Fb%22&inclusive_end=false") == Ids{"_design/a"});
    CHECK(ids("startkey=%22A%22&endkey=%22zz%22") == Ids{"_design/a", "_design/b", "_design/c"});
    CHECK(ids("descending=true&startkey=%22_design%2Fb%22") == Ids{"_design/b", "_design/a"});
    CHECK(ids("limit=1&skip=1") == Ids{"_design/b"});
    CHECK(ids("include_docs=true").size() == 3);
    CHECK(row_ids(s.post("/db/_design_docs", R"({"keys":["_design/c","_design/q"]})")) ==
          Ids{"_design/c", "!_design/q"});
  }

  TEST_CASE("_local_docs lists _local documents with null totals, ranges and keys") {
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);
    put_doc(s, "/db/plain", "{}");
    for (std::string id : {"b", "a", "c"}) put_doc(s, "/db/_local/" + id, R"({"n":")" + id + "\"}");
    Resp r = s.get("/db/_local_docs?update_seq=true");
    CHECK(row_ids(r) == Ids{"_local/a", "_local/b", "_local/c"});
    CHECK(r.body.starts_with(R"({"total_rows":null,"offset":null,"update_seq":null,"rows":[)"));
    auto j = r.json();
    CHECK(str(j["rows"][0]["value"]["rev"]) == "0-1");
    auto ids = [&](const std::string& q) { return row_ids(s.get("/db/_local_docs?" + q)); };
    CHECK(ids("descending=true") == Ids{"_local/c", "_local/b", "_local/a"});
    CHECK(ids("startkey=%22_local%2Fb%22") == Ids{"_local/b", "_local/c"});
    CHECK(ids("endkey=%22_local%2Fb%22&inclusive_end=false") == Ids{"_local/a"});
    CHECK(ids("descending=true&startkey=%22_local%2Fb%22") == Ids{"_local/b", "_local/a"});
    CHECK(ids("skip=1&limit=1") == Ids{"_local/b"});
    CHECK(ids("key=%22_local%2Fc%22") == Ids{"_local/c"});
    auto docs = s.get("/db/_local_docs?include_docs=true&limit=1").json();
    CHECK(str(docs["rows"][0]["doc"]["n"]) == "a");
    CHECK(str(docs["rows"][0]["doc"]["_id"]) == "_local/a");
    CHECK(row_ids(s.post("/db/_local_docs", R"({"keys":["_local/c","_local/x","plain"]})")) ==
          Ids{"_local/c", "!_local/x", "!plain"});
    auto kd = s.post("/db/_local_docs?include_docs=true", R"({"keys":["_local/b"]})").json();
    CHECK(str(kd["rows"][0]["doc"]["n"]) == "b");
  }
}
