// The server and database endpoints, from outside, against the real binary.
#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "server_process.h"

using divan::testing::Resp;
using divan::testing::ServerProcess;

TEST_SUITE("http") {
  TEST_CASE("GET / welcomes with CouchDB's fields, a lasting uuid and divan as vendor") {
    std::string uuid;
    divan::testing::TempDir tmp;
    {
      ServerProcess s({}, tmp.path() + "/data");
      Resp r = s.get("/");
      REQUIRE(r.status == 200);
      CHECK(r.header("Content-Type").starts_with("application/json"));
      auto j = r.json();
      CHECK(std::string(j["couchdb"].GetString()) == "Welcome");
      CHECK(std::string(j["version"].GetString()).starts_with("3."));
      CHECK(std::string(j["vendor"]["name"].GetString()) == "divan");
      uuid = j["uuid"].GetString();
      CHECK(uuid.size() == 32);
      CHECK(s.stop() == 0);
    }
    ServerProcess again({}, tmp.path() + "/data");
    CHECK(std::string(again.get("/").json()["uuid"].GetString()) == uuid);
  }

  TEST_CASE("_up, _uuids and _session") {
    ServerProcess s;
    CHECK(s.get("/_up").body == "{\"status\":\"ok\"}\n");
    auto u = s.get("/_uuids?count=3").json();
    REQUIRE(u["uuids"].Size() == 3);
    CHECK(std::string(u["uuids"][0].GetString()).size() == 32);
    CHECK(s.get("/_uuids?count=x").status == 400);
    CHECK(s.get("/_uuids?count=100000").status == 400);
    CHECK(s.get("/_session").json()["ok"].GetBool());
    CHECK(s.post("/_up", "{}").status == 405);
  }

  TEST_CASE("databases are created, read, listed and deleted with CouchDB's answers") {
    ServerProcess s;
    Resp created = s.put("/db1");
    CHECK(created.status == 201);
    CHECK(created.body == "{\"ok\":true}\n");
    CHECK(created.header("Location").ends_with("/db1"));
    Resp again = s.put("/db1");
    CHECK(again.status == 412);
    CHECK(std::string(again.json()["error"].GetString()) == "file_exists");
    Resp bad = s.put("/Bad");
    CHECK(bad.status == 400);
    CHECK(std::string(bad.json()["error"].GetString()) == "illegal_database_name");
    CHECK(s.put("/a%2Fb").status == 201);  // a name with '/'

    Resp info = s.get("/db1");
    REQUIRE(info.status == 200);
    auto j = info.json();
    CHECK(std::string(j["db_name"].GetString()) == "db1");
    CHECK(j["update_seq"].GetUint64() == 0);
    CHECK(j["doc_count"].GetUint64() == 0);
    CHECK(j["doc_del_count"].GetUint64() == 0);
    CHECK(j.HasMember("instance_start_time"));
    CHECK(j["sizes"]["file"].GetUint64() > 0);
    CHECK(j["compact_running"].IsBool());

    CHECK(s.request("HEAD", "/db1").status == 200);
    CHECK(s.request("HEAD", "/nope").status == 404);
    Resp missing = s.get("/nope");
    CHECK(missing.status == 404);
    CHECK(missing.body == "{\"error\":\"not_found\",\"reason\":\"Database does not exist.\"}\n");

    // _replicator is made at start, as CouchDB's single-node set-up does.
    CHECK(s.get("/_all_dbs").body == "[\"_replicator\",\"_users\",\"a/b\",\"db1\"]\n");
    CHECK(s.get("/_all_dbs?descending=true&limit=1").body == "[\"db1\"]\n");
    CHECK(s.get("/_all_dbs?startkey=%22b%22").body == "[\"db1\"]\n");

    CHECK(s.request("DELETE", "/db1?rev=1-abc").status == 400);
    CHECK(s.del("/db1").status == 200);
    CHECK(s.del("/db1").status == 404);
    CHECK(s.get("/_all_dbs").body == "[\"_replicator\",\"_users\",\"a/b\"]\n");
  }

  TEST_CASE("_dbs_info: GET lists databases with their info as _all_dbs does, POST answers keys") {
    ServerProcess s;
    for (const char* db : {"/alpha", "/beta", "/gamma"}) REQUIRE(s.put(db).status == 201);
    REQUIRE(s.put("/beta/x", "{}").status == 201);
    Resp all = s.get("/_dbs_info");
    REQUIRE(all.status == 200);
    auto rows = all.json();
    REQUIRE(rows.IsArray());
    std::vector<std::string> keys;
    for (const auto& r : rows.GetArray()) {
      keys.emplace_back(r["key"].GetString());
      CHECK(std::string(r["info"]["db_name"].GetString()) == keys.back());
    }
    // The same names as _all_dbs (which includes _replicator and _users).
    auto all_dbs = s.get("/_all_dbs").json();
    REQUIRE(all_dbs.Size() == keys.size());
    for (rapidjson::SizeType i = 0; i < all_dbs.Size(); ++i) CHECK(keys[i] == all_dbs[i].GetString());
    // _all_dbs's parameters.
    auto some = s.get("/_dbs_info?startkey=%22b%22&endkey=%22h%22&descending=false&limit=1").json();
    REQUIRE(some.Size() == 1);
    CHECK(std::string(some[0]["key"].GetString()) == "beta");
    CHECK(some[0]["info"]["doc_count"].GetUint64() == 1);
    CHECK(s.get("/_dbs_info?limit=x").status == 400);

    Resp post = s.post("/_dbs_info", R"({"keys":["gamma","nope","beta"]})");
    REQUIRE(post.status == 200);
    auto got = post.json();
    REQUIRE(got.Size() == 3);
    CHECK(std::string(got[0]["key"].GetString()) == "gamma");
    CHECK(got[0]["info"]["doc_count"].GetUint64() == 0);
    CHECK(std::string(got[1]["key"].GetString()) == "nope");
    CHECK(std::string(got[1]["error"].GetString()) == "not_found");
    CHECK_FALSE(got[1].HasMember("info"));
    CHECK(got[2]["info"]["doc_count"].GetUint64() == 1);
    // Bad requests, as CouchDB answers them.
    CHECK(s.post("/_dbs_info", R"({"missingkeys":["a"]})").status == 400);
    CHECK(s.post("/_dbs_info", R"({"keys":"alpha"})").status == 400);
    CHECK(s.post("/_dbs_info", R"({"keys":[1]})").status == 400);
    std::string many = R"({"keys":[)";
    for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + "\"db" + std::to_string(i) + "\"";
    CHECK(s.post("/_dbs_info", many + "]}").status == 400);
    CHECK(s.request("PUT", "/_dbs_info", "{}").status == 405);
  }

  TEST_CASE("a bodiless PUT or DELETE, as curl sends them, is answered at once") {
    ServerProcess s;
    httplib::Client c = s.client();
    c.set_read_timeout(5, 0);
    auto start = std::chrono::steady_clock::now();
    // cpp-httplib's client sends Content-Length: 0; send raw requests
    // without any length, as `curl -X PUT` does.
    httplib::Request req;
    req.method = "PUT";
    req.path = "/raw";
    auto r = c.send(req);
    REQUIRE(r);
    CHECK(r->status == 201);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
  }

  TEST_CASE("POST /db writes a document with a generated id; needs JSON") {
    ServerProcess s;
    s.put("/db");
    Resp r = s.post("/db", R"({"a":1})");
    REQUIRE(r.status == 201);
    auto j = r.json();
    CHECK(j["ok"].GetBool());
    CHECK(std::string(j["id"].GetString()).size() == 32);
    CHECK(std::string(j["rev"].GetString()).starts_with("1-"));
    CHECK(r.header("ETag") == "\"" + std::string(j["rev"].GetString()) + "\"");
    CHECK(r.header("Location").ends_with(std::string("/db/") + j["id"].GetString()));
    CHECK(s.post("/db", R"({"_id":"named"})").json()["id"] == "named");
    CHECK(s.request("POST", "/db", "{}", "text/plain").status == 415);
    Resp bad = s.post("/db", "{nope");
    CHECK(bad.status == 400);
    CHECK(std::string(bad.json()["error"].GetString()) == "bad_request");
    CHECK(s.post("/db", "[]").status == 400);
    CHECK(s.post("/nodb", "{}").status == 404);
    CHECK(s.get("/db").json()["doc_count"].GetUint64() == 2);
  }

  TEST_CASE("_revs_limit, _security, _ensure_full_commit and _compact") {
    ServerProcess s;
    s.put("/db");
    CHECK(s.get("/db/_revs_limit").body == "1000\n");
    CHECK(s.put("/db/_revs_limit", "7").status == 200);
    CHECK(s.get("/db/_revs_limit").body == "7\n");
    CHECK(s.put("/db/_revs_limit", "0").status == 400);
    CHECK(s.put("/db/_revs_limit", "\"x\"").status == 400);
    CHECK(s.get("/db/_revs_limit").body == "7\n");

    // New databases are admin-only, as in CouchDB 3.
    CHECK(s.get("/db/_security").body ==
          R"({"members":{"roles":["_admin"]},"admins":{"roles":["_admin"]}})" "\n");
    const std::string sec = R"({"admins":{"names":["a"],"roles":[]},"members":{"names":[],"roles":["r"]}})";
    CHECK(s.put("/db/_security", sec).status == 200);
    CHECK(s.get("/db/_security").body == sec + "\n");
    CHECK(s.put("/db/_security", R"({"members":{"names":"x"}})").status == 400);
    CHECK(s.get("/db/_security").body == sec + "\n");

    Resp efc = s.post("/db/_ensure_full_commit", "");
    CHECK(efc.status == 201);
    CHECK(efc.json()["instance_start_time"] == s.get("/db").json()["instance_start_time"]);
    CHECK(s.request("POST", "/db/_ensure_full_commit", "", "text/plain").status == 415);

    CHECK(s.post("/db/_compact", "").status == 202);
    CHECK(s.request("POST", "/db/_compact", "", "text/plain").status == 415);
    CHECK(s.get("/db/_compact").status == 405);
    // compact_running goes back to false.
    bool done = false;
    for (int i = 0; i < 500 && !done; ++i) {
      done = !s.get("/db").json()["compact_running"].GetBool();
      if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(done);
  }

  TEST_CASE("unknown endpoints and methods get CouchDB's errors") {
    ServerProcess s;
    s.put("/db");
    CHECK(s.get("/_nope").status == 400);
    CHECK(s.request("PATCH", "/db").status == 405);
    Resp bad_url = s.get("/db/%zz");
    CHECK(bad_url.status == 400);
    CHECK(s.get("/db/_design").status == 404);
  }

  TEST_CASE("CouchDB endpoints divan does not serve answer 501 not_implemented, naming the feature") {
    ServerProcess s;
    s.put("/db");
    REQUIRE(s.put("/db/_design/app", R"({"views":{"v":{"map":"function(d){emit(d._id)}"}}})").status == 201);
    const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
        {"POST", "/db/_find", "Mango"},
        {"POST", "/db/_index", "Mango"},
        {"GET", "/db/_index", "Mango"},
        {"POST", "/db/_explain", "Mango"},
        {"POST", "/db/_purge", "Purge"},
        {"GET", "/db/_design/app/_view/v", "views"},
        {"GET", "/db/_design/app/_info", "views"},
        {"POST", "/db/_view_cleanup", "views"},
        {"POST", "/db/_compact/app", "views"},
        {"POST", "/db/_all_docs/queries", "queries"},
        {"GET", "/db/_partition/p/_all_docs", "Partitioned"},
        {"GET", "/db/_shards", "single node"},
    };
    for (const auto& [method, path, word] : cases) {
      Resp r = s.request(method, path, "{}");
      INFO(method << " " << path << ": " << r.body);
      CHECK(r.status == 501);
      CHECK(r.json()["error"] == "not_implemented");
      CHECK(std::string(r.json()["reason"].GetString()).find(word) != std::string::npos);
    }
    // A database that does not exist is still 404, as for any request about it.
    CHECK(s.request("POST", "/nodb/_find", "{}").status == 404);
    // Nothing was written.
    CHECK(s.get("/db").json()["doc_count"].GetUint64() == 1);
  }

  TEST_CASE("requests over the size limit get 413 with an error body") {
    ServerProcess s;
    s.put("/db");
    // The default limit is 64 MiB; a Content-Length beyond it is refused
    // before the body is read.
    httplib::Client c = s.client();
    httplib::Request req;
    req.method = "POST";
    req.path = "/db";
    req.set_header("Content-Type", "application/json");
    req.body = std::string(65u << 20, ' ');
    auto r = c.send(req);
    if (r) {  // the server may also close the connection mid-upload
      CHECK(r->status == 413);
      CHECK(r->body.find("too_large") != std::string::npos);
    }
    CHECK(s.get("/db").json()["doc_count"].GetUint64() == 0);
  }

  TEST_CASE("CORS: allowed origins get headers and preflights are answered") {
    ServerProcess s({"--cors-origins", "http://app.example"});
    Resp pre = s.request("OPTIONS", "/", "", "",
                         {{"Origin", "http://app.example"}, {"Access-Control-Request-Method", "PUT"}});
    CHECK(pre.status == 204);
    CHECK(pre.header("Access-Control-Allow-Origin") == "http://app.example");
    CHECK(pre.header("Access-Control-Allow-Methods").find("PUT") != std::string::npos);
    Resp get = s.get("/", {{"Origin", "http://app.example"}});
    CHECK(get.header("Access-Control-Allow-Origin") == "http://app.example");
    Resp other = s.get("/", {{"Origin", "http://evil.example"}});
    CHECK(other.header("Access-Control-Allow-Origin").empty());
  }

  TEST_CASE("gzip is used when the client accepts it") {
    ServerProcess s;
    s.put("/db");
    httplib::Client c = s.client();
    c.set_decompress(false);
    auto r = c.Get("/db", {{"Accept-Encoding", "gzip"}});
    REQUIRE(r);
    CHECK(r->get_header_value("Content-Encoding") == "gzip");
  }

  TEST_CASE("the server logs a line per request and stops cleanly on SIGTERM") {
    ServerProcess s;
    s.get("/");
    CHECK(s.stop() == 0);
    CHECK(s.log().find("GET / 200") != std::string::npos);
    CHECK(s.log().find("stopped") != std::string::npos);
  }
}
