// divan as the source and as the target of Apache CouchDB 3.x's replicator.
// No CouchDB runs here (neither Debian nor npm package it), so this test
// plays CouchDB's replicator: the requests couch_replicator_api_wrap and
// couch_replicator_worker send, in their order, with their headers and
// bodies (couchdb-semantics.md §6 and §9), carrying documents, conflicts,
// a deletion and a design document from one divan server to another.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "http/context.h"
#include "http_side.h"
#include "multipart_parse.h"

using namespace divan::testing;

namespace {

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string json_string(const std::string& s) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(sb.GetString(), sb.GetSize());
}

std::string enc(const std::string& s) { return divan::http::percent_encode(s, ""); }

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("CouchDB 3.x's replicator's requests carry a database from one divan to another") {
    ServerProcess one, two;
    HttpSide src(one, "src");
    std::vector<std::string> first;
    for (int i = 0; i < 12; ++i) first.push_back(src.put(R"({"_id":"d)" + std::to_string(i) + R"(","n":)" + std::to_string(i) + "}"));
    src.put(R"({"_id":"d1","_rev":")" + first[1] + R"(","n":"edited"})");
    src.put(R"({"_id":"d2","_rev":")" + first[2] + R"(","_deleted":true})");
    src.put(R"({"_id":"d3","_rev":")" + first[3] + R"(","n":"here"})");
    src.put_replicated(R"({"_id":"d3","_rev":"2-ffffffffffffffffffffffffffffffff","_revisions":{"start":2,"ids":["ffffffffffffffffffffffffffffffff",")" +
                       first[3].substr(2) + R"("]},"branch":true})");
    src.put(R"({"_id":"_design/app","views":{"by_n":{"map":"function(doc){emit(doc.n)}"}}})");
    const std::string rep = "4b5e8d5a0ad6d0d2d2f5b6c4d0e0c1a2";
    const std::string tgt_url = "/tgt";

    // Both endpoints are opened with GET /db (create_target: PUT first).
    Resp si = one.get("/src");
    REQUIRE(si.status == 200);
    CHECK(si.json().HasMember("update_seq"));
    const std::string src_start = str(si.json()["instance_start_time"]);
    REQUIRE(two.put(tgt_url).status == 201);
    CHECK(two.put(tgt_url).status == 412);  // a second create_target is harmless
    Resp ti = two.get(tgt_url);
    REQUIRE(ti.status == 200);
    const std::string tgt_start = str(ti.json()["instance_start_time"]);

    // No checkpoint yet: 404 with "error":"not_found" on both sides.
    for (auto [server, db] : {std::pair{&one, std::string("/src")}, std::pair{&two, tgt_url}}) {
      Resp r = server->get(db + "/_local/" + rep);
      CHECK(r.status == 404);
      CHECK(error_of(r) == "not_found");
    }

    // The changes feed, all leaves, no limit (the replicator batches itself).
    Resp ch = one.get("/src/_changes?feed=normal&style=all_docs&since=0&timeout=10000");
    REQUIRE(ch.status == 200);
    auto feed = ch.json();
    std::map<std::string, std::vector<std::string>> leaves;
    for (const auto& row : feed["results"].GetArray()) {
      for (const auto& c : row["changes"].GetArray()) leaves[str(row["id"])].push_back(str(c["rev"]));
    }
    const std::string last_seq = to_json(feed["last_seq"]);
    CHECK(leaves.size() == 13);
    CHECK(leaves["d3"].size() == 2);

    // _revs_diff on the target.
    std::string diff = "{";
    for (const auto& [id, revs] : leaves) {
      diff += (diff.size() > 1 ? "," : "") + json_string(id) + ":[";
      for (std::size_t i = 0; i < revs.size(); ++i) diff += (i ? "," : "") + json_string(revs[i]);
      diff += "]";
    }
    diff += "}";
    Resp rd = two.post(tgt_url + "/_revs_diff", diff);
    REQUIRE(rd.status == 200);
    auto missing = rd.json();
    CHECK(missing.MemberCount() == 13);

    // Documents through _bulk_get (with atts_since from possible ancestors);
    // design documents one by one, open_revs as multipart/mixed.
    std::string bulk = R"({"docs":[)";
    std::vector<std::pair<std::string, std::string>> design;
    bool first_entry = true;
    for (const auto& m : missing.GetObject()) {
      std::string id = m.name.GetString();
      for (const auto& rev : m.value["missing"].GetArray()) {
        if (id.rfind("_design/", 0) == 0) {
          design.emplace_back(id, str(rev));
          continue;
        }
        bulk += std::string(first_entry ? "" : ",") + R"({"id":)" + json_string(id) + R"(,"rev":)" + json_string(str(rev));
        if (m.value.HasMember("possible_ancestors")) bulk += R"(,"atts_since":)" + to_json(m.value["possible_ancestors"]);
        bulk += "}";
        first_entry = false;
      }
    }
    bulk += R"(],"latest":true,"revs":true,"attachments":false})";
    Resp bg = one.request("POST", "/src/_bulk_get?latest=true&revs=true&attachments=false", bulk,
                          "application/json", {{"Accept", "application/json"}});
    REQUIRE(bg.status == 200);
    std::string docs = R"({"new_edits":false,"docs":[)";
    int fetched = 0;
    auto got = bg.json();
    for (const auto& result : got["results"].GetArray()) {
      REQUIRE(result["docs"].Size() == 1);
      const auto& entry = result["docs"][0];
      REQUIRE(entry.HasMember("ok"));
      CHECK(entry["ok"].HasMember("_revisions"));
      docs += std::string(fetched++ ? "," : "") + to_json(entry["ok"]);
    }
    docs += "]}";
    CHECK(fetched == 13);  // 12 documents (d3 twice), not the design document

    // Written with new_edits=false; only failures are listed.
    Resp wr = two.request("POST", tgt_url + "/_bulk_docs", docs, "application/json",
                          {{"X-Couch-Full-Commit", "false"}});
    REQUIRE(wr.status == 201);
    CHECK(wr.json().IsArray());
    CHECK(wr.json().Size() == 0);
    REQUIRE(design.size() == 1);
    for (const auto& [id, rev] : design) {
      Resp mp = one.get("/src/" + enc(id) + "?revs=true&open_revs=" + enc("[" + json_string(rev) + "]") + "&latest=true",
                        {{"Accept", "multipart/mixed"}});
      REQUIRE(mp.status == 200);
      std::string ct = mp.header("Content-Type");
      REQUIRE(ct.starts_with("multipart/mixed; boundary=\""));
      std::vector<Part> parts = parse_multipart(mp.body, ct.substr(27, ct.size() - 28));
      REQUIRE(parts.size() == 1);
      CHECK(parts[0].headers["Content-Type"] == "application/json");
      Resp put = two.request("PUT", tgt_url + "/" + enc(id) + "?new_edits=false", parts[0].body,
                             "application/json");
      INFO(put.body);
      CHECK(put.status == 201);
    }

    // The checkpoint: _ensure_full_commit on both (same instance_start_time),
    // then the same document on the source and the target.
    for (auto [server, db, start] : {std::tuple{&one, std::string("/src"), src_start},
                                     std::tuple{&two, tgt_url, tgt_start}}) {
      Resp fc = server->post(db + "/_ensure_full_commit", "");
      REQUIRE(fc.status == 201);
      CHECK(str(fc.json()["instance_start_time"]) == start);
    }
    std::string log = R"({"session_id":"s1","source_last_seq":)" + last_seq +
                      R"(,"replication_id_version":4,"history":[{"session_id":"s1","recorded_seq":)" + last_seq + "}]}";
    for (auto [server, db] : {std::pair{&one, std::string("/src")}, std::pair{&two, tgt_url}}) {
      Resp put = server->put(db + "/_local/" + rep, log);
      REQUIRE(put.status == 201);
      std::string rev = str(put.json()["rev"]);
      CHECK(rev == "0-1");
      Resp again = server->put(db + "/_local/" + rep, log.substr(0, log.size() - 1) + R"(,"_rev":")" + rev + "\"}");
      CHECK(again.status == 201);
      CHECK(str(again.json()["rev"]) == "0-2");
      Resp read = server->get(db + "/_local/" + rep);
      CHECK(str(read.json()["session_id"]) == "s1");
    }

    HttpSide tgt(two, "tgt", false);
    check_same(src, tgt);

    // A restarted job reads both checkpoints, starts at source_last_seq and
    // finds nothing new.
    Resp next = one.get("/src/_changes?feed=normal&style=all_docs&since=" + enc(str(one.get("/src/_local/" + rep).json()["session_id"]) == "s1" ? last_seq : "0"));
    CHECK(next.json()["results"].Size() == 0);
  }

  TEST_CASE("CouchDB 3.x's replicator's session login (couch_replicator_auth_session) against a secured divan") {
    // A source with an admin, whose database only `repl` may read. CouchDB's
    // replicator, given http://repl:pw@host/src, first POSTs a form to
    // /_session at the server root, then sends the cookie, not Basic.
    TempDir tmp;
    std::ofstream(tmp.file("divan.ini")) << "[admins]\nroot = pw\n[chttpd_auth]\niterations = 10\n";
    ServerProcess one({"--config", tmp.file("divan.ini")});
    const httplib::Headers root = {httplib::make_basic_authentication_header("root", "pw")};
    REQUIRE(one.request("PUT", "/src", "", "application/json", root).status == 201);
    REQUIRE(one.request("PUT", "/_users/org.couchdb.user:repl", R"({"type":"user","name":"repl","roles":[],"password":"p w&="})",
                        "application/json", root).status == 201);
    REQUIRE(one.request("PUT", "/src/_security", R"({"members":{"names":["repl"]}})", "application/json", root).status == 200);
    REQUIRE(one.request("PUT", "/src/d1", R"({"n":1})", "application/json", root).status == 201);

    // Without credentials the endpoint check fails for good: 401, and no
    // WWW-Authenticate (which would make CouchDB retry with Basic).
    Resp anon = one.get("/src");
    CHECK(anon.status == 401);
    CHECK(anon.header("WWW-Authenticate").empty());

    // The login: form-encoded, with CouchDB's percent-encoding.
    Resp wrong = one.request("POST", "/_session", "name=repl&password=nope", "application/x-www-form-urlencoded");
    CHECK(wrong.status == 401);
    Resp login = one.request("POST", "/_session", "name=repl&password=p%20w%26%3D", "application/x-www-form-urlencoded");
    REQUIRE(login.status == 200);
    CHECK(str(login.json()["name"]) == "repl");
    std::string set = login.header("Set-Cookie");
    // The replicator reads the cookie and its Max-Age, to refresh it in time.
    CHECK(set.find("AuthSession=") == 0);
    CHECK(set.find("Max-Age=600") != std::string::npos);
    const httplib::Headers cookie = {{"Cookie", set.substr(0, set.find(';'))}};

    // Then its usual requests, each with the cookie.
    Resp info = one.get("/src", cookie);
    REQUIRE(info.status == 200);
    CHECK(info.json().HasMember("instance_start_time"));
    Resp ch = one.get("/src/_changes?feed=normal&style=all_docs&since=0", cookie);
    REQUIRE(ch.status == 200);
    CHECK(ch.json()["results"].Size() == 1);
    CHECK(one.request("POST", "/src/_revs_diff", R"({"d1":["1-0123456789abcdef0123456789abcdef"]})", "application/json", cookie).status == 200);
    CHECK(one.request("POST", "/src/_bulk_get?revs=true&latest=true", R"({"docs":[{"id":"d1"}]})", "application/json", cookie).status == 200);
    CHECK(one.request("PUT", "/src/_local/4b5e8d5a0ad6d0d2d2f5b6c4d0e0c1a2", R"({"history":[]})", "application/json", cookie).status == 201);
    CHECK(one.request("POST", "/src/_ensure_full_commit", "", "application/json", cookie).status == 201);
    // A user who is not a member is refused (403), as CouchDB would.
    REQUIRE(one.request("PUT", "/src/_security", R"({"members":{"names":["other"]}})", "application/json", root).status == 200);
    CHECK(one.get("/src", cookie).status == 403);
  }
}
