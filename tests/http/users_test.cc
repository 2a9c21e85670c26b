// Users and credentials from outside, against the real binary on secured
// servers: signing up in `_users` and its rules (couchdb-semantics.md §7.4),
// design documents from non-admins in POST /db and _bulk_docs, `_replicator`
// credentials never shown but kept through a read-edit-write, and who may
// POST /_replicate (§6.13-6.14).
#include <doctest/doctest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "divan/auth.h"
#include "server_process.h"

using divan::testing::error_of;
using divan::testing::reason_of;
using divan::testing::Resp;
using divan::testing::ServerProcess;
using divan::testing::str;
using divan::testing::TempDir;

namespace {

httplib::Headers basic(const std::string& user, const std::string& password) {
  return {httplib::make_basic_authentication_header(user, password)};
}

const httplib::Headers kAnonymous;

// A server with one admin, `root`, and cheap password hashes (10 PBKDF2
// iterations), so that logins in tests are fast.
struct SecuredServer {
  TempDir tmp;
  ServerProcess s;
  httplib::Headers root;

  explicit SecuredServer(const std::string& root_password = "pw")
      : s(args(tmp, root_password)), root(basic("root", root_password)) {}

  Resp as(const httplib::Headers& who, const std::string& method, const std::string& path,
          const std::string& body = "") {
    return s.request(method, path, body, "application/json", who);
  }
  // The URL of database `db` of this server, with `user:password@`.
  std::string url(const std::string& db, const std::string& user = "",
                  const std::string& password = "") const {
    std::string creds = user.empty() ? "" : user + ":" + password + "@";
    return "http://" + creds + "127.0.0.1:" + std::to_string(s.port()) + "/" + db;
  }

 private:
  static std::vector<std::string> args(const TempDir& tmp, const std::string& root_password) {
    std::ofstream(tmp.file("divan.ini"))
        << "[admins]\nroot = " << root_password << "\n[chttpd_auth]\niterations = 10\n";
    return {"--config", tmp.file("divan.ini")};
  }
};

// Polls `done` until it holds or `limit` passes; true if it held.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool has(const rapidjson::Value& obj, const char* name) {
  return obj.IsObject() && obj.HasMember(name);
}

std::string user_doc(const std::string& name, const std::string& password,
                     const std::string& roles = "[]") {
  return R"({"type":"user","name":")" + name + R"(","roles":)" + roles + R"(,"password":")" +
         password + R"("})";
}

std::string user_path(const std::string& name) { return "/_users/org.couchdb.user:" + name; }

// Creates user `name` as root; REQUIREs it worked.
void add_user(SecuredServer& srv, const std::string& name, const std::string& password,
              const std::string& roles = "[]") {
  Resp r = srv.as(srv.root, "PUT", user_path(name), user_doc(name, password, roles));
  REQUIRE_MESSAGE(r.status == 201, r.body);
}

// Who the server says is asking (GET /_session), "(anonymous)" if nobody.
std::string session_name(SecuredServer& srv, const httplib::Headers& h) {
  Resp r = srv.as(h, "GET", "/_session");
  REQUIRE(r.status == 200);
  auto d = r.json();
  const auto& name = d["userCtx"]["name"];
  return name.IsNull() ? "(anonymous)" : str(name);
}

// A document as JSON text with some members replaced or removed: `set`
// members (JSON values) added or replaced, `remove` members dropped.
std::string edited(const std::string& json, const std::vector<std::pair<std::string, std::string>>& set,
                   const std::vector<std::string>& remove = {}) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  REQUIRE(d.IsObject());
  auto& a = d.GetAllocator();
  for (const auto& name : remove) d.RemoveMember(name.c_str());
  for (const auto& [name, value] : set) {
    rapidjson::Document v(&a);
    v.Parse(value.data(), value.size());
    REQUIRE(!v.HasParseError());
    d.RemoveMember(name.c_str());
    d.AddMember(rapidjson::Value(name.c_str(), a), rapidjson::Value(v, a), a);
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  d.Accept(w);
  return sb.GetString();
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("users: an anonymous sign-up stores a PBKDF2 hash, and the user logs in with Basic and /_session") {
    SecuredServer srv;
    Resp signup = srv.as(kAnonymous, "PUT", user_path("bob"), user_doc("bob", "b0b-pa55"));
    REQUIRE_MESSAGE(signup.status == 201, signup.body);

    // Stored: no password, but CouchDB's PBKDF2 fields, which verify.
    Resp stored = srv.as(srv.root, "GET", user_path("bob"));
    REQUIRE(stored.status == 200);
    auto d = stored.json();
    CHECK_FALSE(has(d, "password"));
    CHECK(stored.body.find("b0b-pa55") == std::string::npos);
    CHECK(str(d["password_scheme"]) == "pbkdf2");
    CHECK(str(d["pbkdf2_prf"]) == "sha256");
    CHECK(d["iterations"].GetUint() == 10);
    std::string salt = str(d["salt"]);
    CHECK(salt.size() == 32);
    CHECK(str(d["derived_key"]) == divan::pbkdf2_hex("sha256", "b0b-pa55", salt, 10).value());
    CHECK(d["roles"].IsArray());
    CHECK(d["roles"].Empty());

    // bob reads his own document, still without the password.
    Resp own = srv.as(basic("bob", "b0b-pa55"), "GET", user_path("bob"));
    REQUIRE(own.status == 200);
    CHECK_FALSE(has(own.json(), "password"));
    CHECK(has(own.json(), "derived_key"));

    CHECK(session_name(srv, basic("bob", "b0b-pa55")) == "bob");
    CHECK(srv.as(basic("bob", "wrong"), "GET", "/_session").status == 401);
    Resp login = srv.s.request("POST", "/_session", "name=bob&password=b0b-pa55",
                               "application/x-www-form-urlencoded");
    REQUIRE(login.status == 200);
    CHECK(str(login.json()["name"]) == "bob");
    std::string cookie = login.header("Set-Cookie");
    cookie = cookie.substr(0, cookie.find(';'));
    REQUIRE(cookie.starts_with("AuthSession="));
    CHECK(session_name(srv, {{"Cookie", cookie}}) == "bob");

    // Signing up cannot take over an existing user, grant roles, or break
    // the rules of a user document.
    CHECK(srv.as(kAnonymous, "PUT", user_path("bob"), user_doc("bob", "mine")).status == 404);
    CHECK(session_name(srv, basic("bob", "b0b-pa55")) == "bob");
    Resp roles = srv.as(kAnonymous, "PUT", user_path("eve"), user_doc("eve", "x", R"(["boss"])"));
    CHECK(roles.status == 403);
    CHECK(reason_of(roles) == "Only _admin may set roles");
    Resp admin = srv.as(kAnonymous, "PUT", user_path("eve"), user_doc("eve", "x", R"(["_admin"])"));
    CHECK(admin.status == 403);
    Resp other = srv.as(kAnonymous, "PUT", user_path("eve"), user_doc("mallory", "x"));
    CHECK(other.status == 403);
    CHECK(reason_of(other) == "Doc ID must be of the form org.couchdb.user:name");
    CHECK(srv.as(kAnonymous, "PUT", user_path("eve"), R"({"type":"admin","name":"eve","roles":[]})")
              .status == 403);
    CHECK(srv.as(srv.root, "GET", user_path("eve")).status == 404);
    // No password reaches the log.
    CHECK(srv.s.log().find("b0b-pa55") == std::string::npos);
  }

  TEST_CASE("users: users read and update only their own document, and never its roles") {
    SecuredServer srv;
    add_user(srv, "alice", "alice-pw");
    add_user(srv, "bob", "bob-pw");
    const auto bob = basic("bob", "bob-pw");

    // Another user's document is missing, in every form of read.
    for (const char* query : {"", "?revs_info=true", "?open_revs=all", "?rev=1-abc", "?meta=true"}) {
      CAPTURE(query);
      Resp r = srv.as(bob, "GET", user_path("alice") + query);
      CHECK(r.status == 404);
      CHECK(error_of(r) == "not_found");
      CHECK(r.body.find("alice") == std::string::npos);
      CHECK(srv.as(kAnonymous, "GET", user_path("bob") + query).status == 404);
    }
    CHECK(srv.as(bob, "HEAD", user_path("alice")).status == 404);
    CHECK(srv.as(bob, "GET", user_path("alice") + "/attachment").status == 404);
    CHECK(srv.as(bob, "GET", user_path("bob") + "?open_revs=all").status == 200);
    CHECK(srv.as(bob, "HEAD", user_path("bob")).status == 200);

    // bob updates his own document; without a password the hash stays.
    Resp mine = srv.as(bob, "GET", user_path("bob"));
    REQUIRE(mine.status == 200);
    std::string key = str(mine.json()["derived_key"]);
    Resp update = srv.as(bob, "PUT", user_path("bob"), edited(mine.body, {{"fullname", R"("Bob B.")"}}));
    REQUIRE_MESSAGE(update.status == 201, update.body);
    Resp now = srv.as(bob, "GET", user_path("bob"));
    CHECK(str(now.json()["fullname"]) == "Bob B.");
    CHECK(str(now.json()["derived_key"]) == key);
    CHECK(session_name(srv, bob) == "bob");

    // ...but not its roles, and not alice's document.
    Resp roles = srv.as(bob, "PUT", user_path("bob"), edited(now.body, {{"roles", R"(["boss"])"}}));
    CHECK(roles.status == 403);
    CHECK(reason_of(roles) == "Only _admin may edit roles");
    Resp alice = srv.as(srv.root, "GET", user_path("alice"));
    std::string alice_rev = str(alice.json()["_rev"]);
    CHECK(srv.as(bob, "PUT", user_path("alice"), edited(alice.body, {{"password", R"("stolen")"}}))
              .status == 404);
    CHECK(srv.as(bob, "DELETE", user_path("alice") + "?rev=" + alice_rev).status == 404);
    CHECK(srv.as(kAnonymous, "DELETE", user_path("alice") + "?rev=" + alice_rev).status == 404);
    CHECK(session_name(srv, basic("alice", "alice-pw")) == "alice");
    CHECK(srv.as(basic("alice", "stolen"), "GET", "/_session").status == 401);

    // Listings of _users are for server admins: 401 to anyone else.
    for (const auto* who : {&kAnonymous, &bob}) {
      for (const char* path : {"/_users/_all_docs", "/_users/_changes"}) {
        CAPTURE(path);
        Resp r = srv.as(*who, "GET", path);
        CHECK(r.status == 401);
        CHECK(error_of(r) == "unauthorized");
      }
      CHECK(srv.as(*who, "POST", "/_users/_bulk_docs", R"({"docs":[]})").status == 401);
      CHECK(srv.as(*who, "POST", "/_users/_bulk_get", R"({"docs":[{"id":"org.couchdb.user:alice"}]})")
                .status == 401);
    }
    Resp all = srv.as(srv.root, "GET", "/_users/_all_docs");
    CHECK(all.status == 200);
    CHECK(all.json()["rows"].Size() == 2);

    // bob may delete himself.
    std::string bob_rev = str(srv.as(bob, "GET", user_path("bob")).json()["_rev"]);
    CHECK(srv.as(bob, "DELETE", user_path("bob") + "?rev=" + bob_rev).status == 200);
    CHECK(srv.as(bob, "GET", "/_session").status == 401);
  }

  TEST_CASE("users: roles an admin gives count from the next request, and a new password replaces the old") {
    SecuredServer srv;
    add_user(srv, "bob", "old-pw");
    const auto bob_old = basic("bob", "old-pw");
    REQUIRE(srv.as(srv.root, "PUT", "/staffdb").status == 201);
    REQUIRE(srv.as(srv.root, "PUT", "/staffdb/_security", R"({"members":{"roles":["staff"]}})").status == 200);
    REQUIRE(srv.as(srv.root, "PUT", "/staffdb/doc", R"({"v":1})").status == 201);
    CHECK(srv.as(bob_old, "GET", "/staffdb/doc").status == 403);
    Resp login = srv.s.request("POST", "/_session", "name=bob&password=old-pw",
                               "application/x-www-form-urlencoded");
    REQUIRE(login.status == 200);
    std::string cookie = login.header("Set-Cookie");
    cookie = cookie.substr(0, cookie.find(';'));

    // The admin makes bob staff: his very next request may read.
    Resp doc = srv.as(srv.root, "GET", user_path("bob"));
    Resp staff = srv.as(srv.root, "PUT", user_path("bob"), edited(doc.body, {{"roles", R"(["staff"])"}}));
    REQUIRE_MESSAGE(staff.status == 201, staff.body);
    CHECK(srv.as(bob_old, "GET", "/staffdb/doc").status == 200);
    CHECK(srv.as({{"Cookie", cookie}}, "GET", "/staffdb/doc").status == 200);

    // bob changes his password: the old one, and sessions made with it, are gone.
    doc = srv.as(bob_old, "GET", user_path("bob"));
    std::string old_key = str(doc.json()["derived_key"]);
    Resp change = srv.as(bob_old, "PUT", user_path("bob"), edited(doc.body, {{"password", R"("new-pw")"}}));
    REQUIRE_MESSAGE(change.status == 201, change.body);
    Resp stored = srv.as(srv.root, "GET", user_path("bob"));
    CHECK_FALSE(has(stored.json(), "password"));
    CHECK(str(stored.json()["derived_key"]) != old_key);
    Resp refused = srv.as(bob_old, "GET", "/staffdb/doc");
    CHECK(refused.status == 401);
    CHECK(reason_of(refused) == "Name or password is incorrect.");
    CHECK(session_name(srv, {{"Cookie", cookie}}) == "(anonymous)");
    CHECK(srv.as(basic("bob", "new-pw"), "GET", "/staffdb/doc").status == 200);

    // Taking the role away takes the access away.
    doc = srv.as(srv.root, "GET", user_path("bob"));
    REQUIRE(srv.as(srv.root, "PUT", user_path("bob"), edited(doc.body, {{"roles", "[]"}})).status == 201);
    CHECK(srv.as(basic("bob", "new-pw"), "GET", "/staffdb/doc").status == 403);
  }

  TEST_CASE("users: _bulk_docs into _users hashes passwords and refuses documents one by one") {
    SecuredServer srv;
    Resp r = srv.as(srv.root, "POST", "/_users/_bulk_docs",
                    R"({"docs":[)" + user_doc("carol", "carol-pw") + "," +
                        R"({"_id":"org.couchdb.user:dan","type":"user","name":"someone","roles":[]},)" +
                        R"({"_id":"org.couchdb.user:erin","type":"user","name":"erin","roles":["_admin"]}]})");
    REQUIRE(r.status == 201);
    auto results = r.json();
    REQUIRE(results.Size() == 3);
    // The first entry had no _id: the rules refuse it as CouchDB's do,
    // under a new random id (as CouchDB names it), not "".
    CHECK(str(results[0]["error"]) == "forbidden");
    CHECK(str(results[0]["id"]).size() == 32);
    CHECK(str(results[1]["id"]) == "org.couchdb.user:dan");
    CHECK(str(results[1]["error"]) == "forbidden");
    CHECK(str(results[2]["error"]) == "forbidden");

    r = srv.as(srv.root, "POST", "/_users/_bulk_docs",
               R"({"docs":[{"_id":"org.couchdb.user:carol","type":"user","name":"carol","roles":[],"password":"carol-pw"},)"
               R"({"_id":"org.couchdb.user:dan","type":"user","name":"someone","roles":[]}]})");
    REQUIRE(r.status == 201);
    results = r.json();
    REQUIRE(results.Size() == 2);
    CHECK(results[0]["ok"].GetBool());
    CHECK(str(results[1]["error"]) == "forbidden");
    Resp carol = srv.as(srv.root, "GET", user_path("carol"));
    CHECK_FALSE(has(carol.json(), "password"));
    CHECK(str(carol.json()["password_scheme"]) == "pbkdf2");
    CHECK(session_name(srv, basic("carol", "carol-pw")) == "carol");
    CHECK(srv.as(srv.root, "GET", user_path("dan")).status == 404);

    // Replicated writes (new_edits=false) are hashed too.
    r = srv.as(srv.root, "POST", "/_users/_bulk_docs",
               R"({"new_edits":false,"docs":[{"_id":"org.couchdb.user:dave","_rev":"1-abc","type":"user","name":"dave","roles":[],"password":"dave-pw"},)"
               R"({"_id":"org.couchdb.user:frank","_rev":"1-def","type":"user","name":"nobody","roles":[]}]})");
    REQUIRE(r.status == 201);
    results = r.json();
    REQUIRE(results.Size() == 1);
    CHECK(str(results[0]["id"]) == "org.couchdb.user:frank");
    CHECK(str(results[0]["rev"]) == "1-def");
    CHECK(str(results[0]["error"]) == "forbidden");
    Resp dave = srv.as(srv.root, "GET", user_path("dave"));
    REQUIRE(dave.status == 200);
    CHECK(str(dave.json()["_rev"]) == "1-abc");
    CHECK_FALSE(has(dave.json(), "password"));
    CHECK(session_name(srv, basic("dave", "dave-pw")) == "dave");
    // POST /_users (a server admin's) hashes as well.
    Resp post = srv.as(srv.root, "POST", "/_users",
                       R"({"_id":"org.couchdb.user:gina","type":"user","name":"gina","roles":[],"password":"gina-pw"})");
    REQUIRE_MESSAGE(post.status == 201, post.body);
    CHECK_FALSE(has(srv.as(srv.root, "GET", user_path("gina")).json(), "password"));
    CHECK(session_name(srv, basic("gina", "gina-pw")) == "gina");
  }

  TEST_CASE("design documents from users who are not db admins are refused in POST /db and _bulk_docs") {
    SecuredServer srv;
    add_user(srv, "member", "m-pw");
    add_user(srv, "dbadmin", "a-pw");
    const auto member = basic("member", "m-pw"), dbadmin = basic("dbadmin", "a-pw");
    REQUIRE(srv.as(srv.root, "PUT", "/db").status == 201);
    REQUIRE(srv.as(srv.root, "PUT", "/db/_security",
                   R"({"admins":{"names":["dbadmin"]},"members":{"names":["member"]}})")
                .status == 200);

    Resp post = srv.as(member, "POST", "/db", R"({"_id":"_design/app","views":{}})");
    CHECK(post.status == 401);
    CHECK(error_of(post) == "unauthorized");
    CHECK(reason_of(post) == "You are not a db or server admin.");
    CHECK(srv.as(srv.root, "GET", "/db/_design/app").status == 404);
    // An encoded slash names the same design document.
    CHECK(srv.as(member, "PUT", "/db/_design%2Fapp", "{}").status == 401);
    CHECK(srv.as(srv.root, "GET", "/db/_design/app").status == 404);
    CHECK(srv.as(member, "POST", "/db", R"({"_id":"plain","v":1})").status == 201);

    // _bulk_docs: the design document fails alone; the rest is written as sent.
    Resp bulk = srv.as(member, "POST", "/db/_bulk_docs",
                       R"({"docs":[ {"_id":"a","v":1.50} , {"_id":"_design/x"},{"_id":"b","n":[1,{"c":2}]}, {"v":"no id"}]})");
    REQUIRE(bulk.status == 201);
    auto r = bulk.json();
    REQUIRE(r.Size() == 4);
    CHECK(str(r[0]["id"]) == "a");
    CHECK(r[0]["ok"].GetBool());
    CHECK(str(r[1]["id"]) == "_design/x");
    CHECK(str(r[1]["error"]) == "unauthorized");
    CHECK(str(r[1]["reason"]) == "You are not a db or server admin.");
    CHECK_FALSE(has(r[1], "rev"));
    CHECK(str(r[2]["id"]) == "b");
    CHECK(r[2]["ok"].GetBool());
    CHECK(r[3]["ok"].GetBool());
    CHECK(srv.as(member, "GET", "/db/a").body.find("1.50") != std::string::npos);
    CHECK(srv.as(member, "GET", "/db/b").body.find(R"("n":[1,{"c":2}])") != std::string::npos);
    CHECK(srv.as(srv.root, "GET", "/db/_design/x").status == 404);

    // Replicated writes too, naming the revision that failed.
    bulk = srv.as(member, "POST", "/db/_bulk_docs",
                  R"({"new_edits":false,"docs":[{"_id":"_design/y","_rev":"1-abc"},{"_id":"c","_rev":"1-def"}]})");
    REQUIRE(bulk.status == 201);
    r = bulk.json();
    REQUIRE(r.Size() == 1);
    CHECK(str(r[0]["id"]) == "_design/y");
    CHECK(str(r[0]["rev"]) == "1-abc");
    CHECK(str(r[0]["error"]) == "unauthorized");
    CHECK(srv.as(member, "GET", "/db/c").status == 200);
    CHECK(srv.as(srv.root, "GET", "/db/_design/y").status == 404);

    // The db admin writes design documents either way.
    CHECK(srv.as(dbadmin, "POST", "/db", R"({"_id":"_design/app"})").status == 201);
    bulk = srv.as(dbadmin, "POST", "/db/_bulk_docs", R"({"docs":[{"_id":"_design/x"}]})");
    REQUIRE(bulk.status == 201);
    CHECK(bulk.json()[0]["ok"].GetBool());
    CHECK(srv.as(member, "GET", "/db/_design/x").status == 200);
  }

  TEST_CASE("_replicator: credentials are redacted on every read, and in job lists and the log") {
    SecuredServer srv;
    // The peer does not exist (port 1), so the job keeps retrying and stays listed.
    const std::string doc =
        R"({"source":"http://rep:s3cr3t-url@127.0.0.1:1/src",)"
        R"("target":{"url":"http://127.0.0.1:1/tgt","auth":{"basic":{"username":"rep","password":"s3cr3t-basic"}},)"
        R"("headers":{"AUTHORIZATION":"Basic s3cr3t-header","Cookie":"AuthSession=s3cr3t-cookie","X-Other":"shown"}},)"
        R"("continuous":true})";
    Resp put = srv.as(srv.root, "PUT", "/_replicator/job", doc);
    REQUIRE_MESSAGE(put.status == 201, put.body);
    std::string rev = str(put.json()["rev"]);
    REQUIRE(eventually([&] {
      return srv.as(srv.root, "GET", "/_scheduler/jobs").body.find("\"doc_id\":\"job\"") != std::string::npos;
    }));

    auto check_redacted = [&](const std::string& what, const Resp& r, bool whole_doc = true) {
      CAPTURE(what);
      CAPTURE(r.body);
      CHECK((r.status == 200 || r.status == 201));
      CHECK(r.body.find("s3cr3t") == std::string::npos);
      if (whole_doc) {
        CHECK(r.body.find("rep:*****@127.0.0.1:1/src") != std::string::npos);
        CHECK(r.body.find(R"("password":"*****")") != std::string::npos);
        CHECK(r.body.find(R"("AUTHORIZATION":"*****")") != std::string::npos);
        CHECK(r.body.find(R"("Cookie":"*****")") != std::string::npos);
        CHECK(r.body.find(R"("X-Other":"shown")") != std::string::npos);
      }
    };
    check_redacted("GET", srv.as(srv.root, "GET", "/_replicator/job"));
    check_redacted("GET ?rev", srv.as(srv.root, "GET", "/_replicator/job?rev=" + rev));
    check_redacted("GET ?meta", srv.as(srv.root, "GET", "/_replicator/job?meta=true&revs=true"));
    check_redacted("open_revs", srv.as(srv.root, "GET", "/_replicator/job?open_revs=all"));
    check_redacted("open_revs list",
                   srv.as(srv.root, "GET", "/_replicator/job?open_revs=[\"" + rev + "\"]&latest=true"));
    httplib::Headers multipart = srv.root;
    multipart.emplace("Accept", "multipart/mixed");
    check_redacted("open_revs multipart",
                   srv.s.request("GET", "/_replicator/job?open_revs=all", "", "", multipart));
    check_redacted("_all_docs", srv.as(srv.root, "GET", "/_replicator/_all_docs?include_docs=true"));
    check_redacted("POST _all_docs",
                   srv.as(srv.root, "POST", "/_replicator/_all_docs", R"({"keys":["job"],"include_docs":true})"));
    check_redacted("_changes", srv.as(srv.root, "GET", "/_replicator/_changes?include_docs=true"));
    check_redacted("_changes longpoll",
                   srv.as(srv.root, "GET", "/_replicator/_changes?include_docs=true&feed=longpoll&since=0"));
    check_redacted("_changes continuous",
                   srv.as(srv.root, "GET", "/_replicator/_changes?include_docs=true&feed=continuous&timeout=1"));
    check_redacted("_bulk_get",
                   srv.as(srv.root, "POST", "/_replicator/_bulk_get", R"({"docs":[{"id":"job"}]})"));
    check_redacted("_bulk_get rev",
                   srv.as(srv.root, "POST", "/_replicator/_bulk_get?revs=true",
                          R"({"docs":[{"id":"job","rev":")" + rev + R"("}]})"));
    check_redacted("_scheduler/docs", srv.as(srv.root, "GET", "/_scheduler/docs"), false);
    check_redacted("_scheduler/jobs", srv.as(srv.root, "GET", "/_scheduler/jobs"), false);
    check_redacted("_active_tasks", srv.as(srv.root, "GET", "/_active_tasks"), false);
    CHECK(srv.as(srv.root, "GET", "/_active_tasks").body.find("\"doc_id\":\"job\"") != std::string::npos);
    CHECK(srv.s.log().find("s3cr3t") == std::string::npos);
  }

  TEST_CASE("_replicator: a document read, edited and written back keeps its credentials and its job authenticates") {
    const std::string secret = "Adm1n-s3cret";
    SecuredServer a(secret), b(secret);
    REQUIRE(a.as(a.root, "PUT", "/src").status == 201);
    REQUIRE(a.as(a.root, "PUT", "/src2").status == 201);
    REQUIRE(a.as(a.root, "PUT", "/src/d1", R"({"v":1})").status == 201);
    REQUIRE(b.as(b.root, "PUT", "/tgt").status == 201);
    // The source's password in its URL, the target's in auth.basic.
    const std::string spec = R"({"source":")" + a.url("src", "root", secret) +
                             R"(","target":{"url":")" + b.url("tgt") +
                             R"(","auth":{"basic":{"username":"root","password":")" + secret + R"("}}}})";
    REQUIRE(a.as(a.root, "PUT", "/_replicator/job", spec).status == 201);

    // The state the job writes back into its document, once final.
    auto final_state = [&](std::string* body) {
      std::string state;
      bool done = eventually([&] {
        Resp r = a.as(a.root, "GET", "/_replicator/job");
        auto d = r.json();
        if (!has(d, "_replication_state")) return false;
        state = str(d["_replication_state"]);
        *body = r.body;
        return state == "completed" || state == "error" || state == "failed";
      });
      REQUIRE(done);
      return state;
    };
    std::string body;
    REQUIRE(final_state(&body) == "completed");
    CHECK(b.as(b.root, "GET", "/tgt/d1").status == 200);
    REQUIRE(body.find(secret) == std::string::npos);

    // GET, edit, PUT: the "*****" written back are the stored secrets again,
    // so the restarted job still gets in.
    REQUIRE(a.as(a.root, "PUT", "/src/d2", R"({"v":2})").status == 201);
    std::string edit = edited(body, {{"worker_batch_size", "7"}},
                              {"_replication_state", "_replication_state_time", "_replication_stats",
                               "_replication_id", "_replication_state_reason"});
    REQUIRE(edit.find("*****") != std::string::npos);
    Resp put = a.as(a.root, "PUT", "/_replicator/job", edit);
    REQUIRE_MESSAGE(put.status == 201, put.body);
    CAPTURE(body);
    REQUIRE(final_state(&body) == "completed");
    CHECK(b.as(b.root, "GET", "/tgt/d2").status == 200);
    CHECK(body.find(R"("worker_batch_size":7)") != std::string::npos);

    // A secret is not handed to an endpoint that changed: pointing the
    // source elsewhere with "*****" as its password fails to log in.
    std::string moved = edited(body, {{"source", "\"" + a.url("src2", "root", "*****") + "\""}},
                               {"_replication_state", "_replication_state_time", "_replication_stats",
                                "_replication_id", "_replication_state_reason"});
    REQUIRE(a.as(a.root, "PUT", "/_replicator/job", moved).status == 201);
    CHECK(final_state(&body) != "completed");

    for (const char* path : {"/_scheduler/docs", "/_scheduler/jobs", "/_active_tasks"}) {
      CAPTURE(path);
      CHECK(a.as(a.root, "GET", path).body.find(secret) == std::string::npos);
    }
    CHECK(a.s.log().find(secret) == std::string::npos);
    CHECK(b.s.log().find(secret) == std::string::npos);
  }

  TEST_CASE("POST /_replicate: anonymous users are refused, users replicate between URLs, admins anything") {
    SecuredServer srv;
    add_user(srv, "bob", "b0b-pa55word");
    const auto bob = basic("bob", "b0b-pa55word");
    for (const char* db : {"a", "b"}) {
      REQUIRE(srv.as(srv.root, "PUT", std::string("/") + db).status == 201);
      REQUIRE(srv.as(srv.root, "PUT", std::string("/") + db + "/_security",
                     R"({"members":{"names":["bob"]}})")
                  .status == 200);
    }
    REQUIRE(srv.as(srv.root, "PUT", "/a/doc", R"({"v":1})").status == 201);
    auto body = [](const std::string& source, const std::string& target) {
      return R"({"source":")" + source + R"(","target":")" + target + R"("})";
    };

    Resp anon = srv.as(kAnonymous, "POST", "/_replicate", body("a", "b"));
    CHECK(anon.status == 401);
    CHECK(error_of(anon) == "unauthorized");
    CHECK(reason_of(anon) == "You are not an authenticated user.");
    CHECK(srv.as(kAnonymous, "POST", "/_replicate",
                 body(srv.url("a", "bob", "b0b-pa55word"), srv.url("b", "bob", "b0b-pa55word")))
              .status == 401);

    // Local databases bypass _security: a user must name them by URL.
    for (const auto& [source, target] :
         {std::pair{std::string("a"), std::string("b")},
          std::pair{srv.url("a", "bob", "b0b-pa55word"), std::string("b")},
          std::pair{std::string("a"), srv.url("b", "bob", "b0b-pa55word")},
          std::pair{std::string("file:///etc"), srv.url("b", "bob", "b0b-pa55word")}}) {
      CAPTURE(source);
      CAPTURE(target);
      Resp r = srv.as(bob, "POST", "/_replicate", body(source, target));
      CHECK(r.status == 403);
      CHECK(error_of(r) == "forbidden");
      CHECK(reason_of(r).find("local database") != std::string::npos);
    }
    CHECK(srv.as(srv.root, "GET", "/b/doc").status == 404);
    Resp cancel = srv.as(bob, "POST", "/_replicate", R"({"cancel":true,"replication_id":"abc"})");
    CHECK(cancel.status == 404);  // no such job

    // Between URLs, with bob's own credentials, which the peers check.
    Resp ok = srv.as(bob, "POST", "/_replicate",
                     body(srv.url("a", "bob", "b0b-pa55word"), srv.url("b", "bob", "b0b-pa55word")));
    CHECK_MESSAGE(ok.status == 200, ok.body);
    CHECK(srv.as(srv.root, "GET", "/b/doc").status == 200);
    Resp wrong = srv.as(bob, "POST", "/_replicate",
                        body(srv.url("a", "bob", "guess"), srv.url("b", "bob", "b0b-pa55word")));
    CHECK(wrong.status != 200);
    CHECK(wrong.body.find("guess") == std::string::npos);

    // A continuous job shows who started it; only they or a server admin
    // may cancel it by its id.
    add_user(srv, "carol", "car0l-pa55word");
    const auto carol = basic("carol", "car0l-pa55word");
    Resp started = srv.as(bob, "POST", "/_replicate",
                          R"({"continuous":true,"source":")" + srv.url("a", "bob", "b0b-pa55word") +
                              R"(","target":")" + srv.url("b", "bob", "b0b-pa55word") + R"("})");
    REQUIRE_MESSAGE(started.status == 202, started.body);
    std::string job = str(started.json()["_local_id"]);
    Resp tasks = srv.as(srv.root, "GET", "/_active_tasks");
    REQUIRE(tasks.status == 200);
    {
      auto t = tasks.json();
      REQUIRE(t.Size() == 1);
      CHECK(str(t[0]["user"]) == "bob");
    }
    const std::string by_id = R"({"cancel":true,"replication_id":")" + job + R"("})";
    Resp theirs = srv.as(carol, "POST", "/_replicate", by_id);
    CHECK(theirs.status == 403);
    CHECK(error_of(theirs) == "forbidden");
    Resp mine = srv.as(bob, "POST", "/_replicate", by_id);
    CHECK_MESSAGE(mine.status == 200, mine.body);
    CHECK(srv.as(srv.root, "GET", "/_active_tasks").body == "[]\n");

    // A server admin may name local databases.
    REQUIRE(srv.as(srv.root, "PUT", "/a/doc2", R"({"v":2})").status == 201);
    Resp admin = srv.as(srv.root, "POST", "/_replicate", body("a", "b"));
    CHECK_MESSAGE(admin.status == 200, admin.body);
    CHECK(srv.as(srv.root, "GET", "/b/doc2").status == 200);
    CHECK(srv.s.log().find("b0b-pa55word") == std::string::npos);
  }
}
