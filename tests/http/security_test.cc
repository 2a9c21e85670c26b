// Security from outside, against the real binary: no admin party, admins
// from the command line, the environment and the config file (hashed in
// place), Basic and cookie authentication, the failed-login bound, and who
// may do what to a database under its _security (couchdb-semantics.md §7).
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>

#include "divan/auth.h"
#include "server_process.h"

using divan::testing::Resp;
using divan::testing::ServerProcess;
using divan::testing::TempDir;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes `text` as the config file `divan.ini` of `tmp`; returns its path.
std::string write_config(const TempDir& tmp, const std::string& text) {
  std::ofstream(tmp.file("divan.ini")) << text;
  return tmp.file("divan.ini");
}

// A server with admin root:pw and cheap password hashes, plus `extra` ini.
std::vector<std::string> secured(const TempDir& tmp, const std::string& extra = "") {
  return {"--config",
          write_config(tmp, "[admins]\nroot = pw\n[chttpd_auth]\niterations = 10\n" + extra)};
}

httplib::Headers basic(const std::string& user, const std::string& password) {
  return {httplib::make_basic_authentication_header(user, password)};
}

// Runs `divan serve` with `args` (and `env` NAME=VALUE pairs) expecting it
// to exit at once; returns its exit status and what it printed.
std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args,
                                        const std::vector<std::string>& env = {}) {
  std::string cmd;
  for (const auto& e : env) cmd += e + " ";
  cmd += std::string(std::getenv("DIVAN_BIN")) + " serve --port 0";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[512];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The user who is asking, by GET /_session.
std::string session_name(ServerProcess& s, const httplib::Headers& h) {
  Resp r = s.get("/_session", h);
  REQUIRE(r.status == 200);
  auto j = r.json();
  const auto& name = j["userCtx"]["name"];
  return name.IsNull() ? "(anonymous)" : std::string(name.GetString());
}

// A _users document with a PBKDF2 hash made here (so these tests do not
// depend on the server hashing clear passwords).
std::string user_doc(const std::string& name, const std::string& password,
                     const std::string& roles = "[]") {
  std::string salt = "5a1f0c0ffee5a1f0c0ffee5a1f0c0ffe";
  std::string key = divan::pbkdf2_hex("sha256", password, salt, 10).value();
  return R"({"type":"user","name":")" + name + R"(","roles":)" + roles +
         R"(,"password_scheme":"pbkdf2","pbkdf2_prf":"sha256","iterations":10,"salt":")" + salt +
         R"(","derived_key":")" + key + R"("})";
}

// The AuthSession cookie ("AuthSession=...") of a Set-Cookie header.
std::string session_cookie(const Resp& r) {
  std::string set = r.header("Set-Cookie");
  return set.substr(0, set.find(';'));
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("security: no admin party unless asked for, and admins from flags, environment and config") {
    TempDir tmp;
    auto refused = run_to_exit({"--data", tmp.file("data")});
    CHECK(refused.first != 0);
    CHECK(refused.second.find("no server admin") != std::string::npos);
    CHECK(refused.second.find("--insecure-admin-party") != std::string::npos);

    // Only one of the two variables: refused too.
    auto half = run_to_exit({"--data", tmp.file("data")}, {"DIVAN_USER=alice"});
    CHECK(half.first != 0);
    CHECK(half.second.find("DIVAN_USER and DIVAN_PASSWORD") != std::string::npos);

    // A malformed hash in the config file: refused, naming the admin.
    auto bad = run_to_exit({"--data", tmp.file("data"), "--config",
                            write_config(tmp, "[admins]\nroot = -pbkdf2-zz\n")});
    CHECK(bad.first != 0);
    CHECK(bad.second.find("admin root") != std::string::npos);

    {
      // The admin party warns and lets anyone administer.
      ServerProcess party;
      CHECK(party.log().find("INSECURE ADMIN PARTY") != std::string::npos);
      CHECK(party.put("/anyone").status == 201);
    }
    {
      ServerProcess s({"--admin", "ann:s3cret", "--data", tmp.file("flag")});
      CHECK(s.put("/x").status == 401);
      CHECK(session_name(s, basic("ann", "s3cret")) == "ann");
      CHECK(s.log().find("s3cret") == std::string::npos);
    }
    {
      setenv("DIVAN_USER", "eve", 1);
      setenv("DIVAN_PASSWORD", "fromenv", 1);
      ServerProcess s({"--data", tmp.file("env")});
      unsetenv("DIVAN_USER");
      unsetenv("DIVAN_PASSWORD");
      CHECK(s.put("/x").status == 401);
      CHECK(session_name(s, basic("eve", "fromenv")) == "eve");
      CHECK(s.request("PUT", "/x", "", "application/json", basic("eve", "fromenv")).status == 201);
    }
  }

  TEST_CASE("security: a password in clear in the config file is hashed there on first start") {
    TempDir tmp;
    std::string ini = write_config(tmp, "# admins\n[admins]\nroot = plain-pw\n\n[chttpd_auth]\niterations = 17\n");
    {
      ServerProcess s({"--config", ini, "--data", tmp.file("data")});
      CHECK(session_name(s, basic("root", "plain-pw")) == "root");
    }
    std::string text = read_file(ini);
    CHECK(text.find("plain-pw") == std::string::npos);
    CHECK(text.find("root = -pbkdf2:sha256-") != std::string::npos);
    CHECK(text.find(",17\n") != std::string::npos);
    CHECK(text.find("# admins\n") == 0);  // the rest of the file is kept
    CHECK(text.find("[chttpd_auth]\niterations = 17\n") != std::string::npos);
    // The hash is read back on the next start.
    ServerProcess again({"--config", ini, "--data", tmp.file("data")});
    CHECK(session_name(again, basic("root", "plain-pw")) == "root");
    CHECK(again.get("/_all_dbs", basic("root", "plain-pwx")).status == 401);
  }

  TEST_CASE("security: Basic authentication and malformed Authorization headers") {
    TempDir tmp;
    ServerProcess s(secured(tmp));
    CHECK(session_name(s, {}) == "(anonymous)");
    Resp me = s.get("/_session", basic("root", "pw"));
    auto j = me.json();
    CHECK(std::string(j["userCtx"]["roles"][0].GetString()) == "_admin");
    CHECK(std::string(j["info"]["authenticated"].GetString()) == "default");

    Resp wrong = s.get("/_all_dbs", basic("root", "pW"));
    CHECK(wrong.status == 401);
    CHECK(divan::testing::error_of(wrong) == "unauthorized");
    CHECK(divan::testing::reason_of(wrong) == "Name or password is incorrect.");
    CHECK(s.get("/_all_dbs", basic("nobody", "pw")).status == 401);
    CHECK(s.get("/_all_dbs", basic("root", "")).status == 401);

    Resp garbled = s.get("/_session", {{"Authorization", "Basic !!not-base64!!"}});
    CHECK(garbled.status == 400);
    CHECK(divan::testing::error_of(garbled) == "bad_request");
    CHECK(s.get("/_session", {{"Authorization", "Basic abc"}}).status == 400);  // bad length
    // Other schemes and a value without a colon carry no credentials, as in CouchDB.
    CHECK(session_name(s, {{"Authorization", "Bearer abc.def"}}) == "(anonymous)");
    CHECK(session_name(s, {{"Authorization", "Basic cm9vdA=="}}) == "(anonymous)");  // "root"
    CHECK(s.get("/_session?basic=true").status == 401);
    // The scheme is case-insensitive.
    auto h = basic("root", "pw");
    std::string value = h.begin()->second;
    CHECK(session_name(s, {{"Authorization", "basic " + value.substr(6)}}) == "root");
    // No password ever reaches the log.
    CHECK(s.log().find("pW") == std::string::npos);
  }

  TEST_CASE("security: random Authorization and Cookie headers get 200, 400 or 401, never more") {
    TempDir tmp;
    ServerProcess s(secured(tmp, "max_failed_logins_per_second = 1000\n"));
    std::mt19937 rng(20261126);
    auto random_text = [&](std::size_t max_len, std::string_view alphabet) {
      std::string out(rng() % (max_len + 1), ' ');
      for (char& c : out) c = alphabet[rng() % alphabet.size()];
      return out;
    };
    const std::string b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_:";
    std::string bytes;
    for (int c = 1; c < 256; ++c) bytes.push_back(static_cast<char>(c));
    bytes.erase(bytes.find('\r'), 1);
    bytes.erase(bytes.find('\n'), 1);
    for (int i = 0; i < 150; ++i) {
      httplib::Headers h;
      switch (i % 3) {
        case 0: h.emplace("Authorization", "Basic " + random_text(40, b64)); break;
        case 1: h.emplace("Cookie", "AuthSession=" + random_text(60, b64)); break;
        default: h.emplace("Authorization", random_text(30, bytes)); break;
      }
      Resp r = s.get("/_session", h);
      CAPTURE(h.begin()->second);
      CHECK((r.status == 200 || r.status == 400 || r.status == 401));
      if (r.status != 200) CHECK(!divan::testing::error_of(r).empty());
    }
    CHECK(session_name(s, basic("root", "pw")) == "root");  // still serving
  }

  TEST_CASE("security: cookie sessions: log in, use, refresh, expire, forge, log out") {
    TempDir tmp;
    ServerProcess s(secured(tmp, "timeout = 4\n"));
    // Wrong password: 401 and a cleared cookie.
    Resp bad = s.request("POST", "/_session", "name=root&password=nope", "application/x-www-form-urlencoded");
    CHECK(bad.status == 401);
    CHECK(divan::testing::reason_of(bad) == "Name or password is incorrect.");
    CHECK(bad.header("Set-Cookie").find("AuthSession=;") == 0);
    CHECK(s.request("POST", "/_session", "name=root&password=pw", "text/plain").status == 415);

    // Form and JSON logins.
    Resp form = s.request("POST", "/_session", "name=root&password=pw", "application/x-www-form-urlencoded");
    REQUIRE(form.status == 200);
    CHECK(form.body == "{\"ok\":true,\"name\":\"root\",\"roles\":[\"_admin\"]}\n");
    std::string set = form.header("Set-Cookie");
    CHECK(set.find("AuthSession=") == 0);
    CHECK(set.find("; Path=/") != std::string::npos);
    CHECK(set.find("; HttpOnly") != std::string::npos);
    CHECK(set.find("; Max-Age=4") != std::string::npos);
    Resp json = s.post("/_session", R"({"username":"root","password":"pw"})");
    CHECK(json.status == 200);

    std::string cookie = session_cookie(form);
    Resp me = s.get("/_session", {{"Cookie", "other=1; " + cookie}});
    auto j = me.json();
    CHECK(std::string(j["userCtx"]["name"].GetString()) == "root");
    CHECK(std::string(j["info"]["authenticated"].GetString()) == "cookie");
    CHECK(s.request("PUT", "/bycookie", "", "application/json", {{"Cookie", cookie}}).status == 201);

    // A forged cookie (another MAC) counts for nothing; a malformed one is 400.
    std::string forged = cookie;
    forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
    CHECK(session_name(s, {{"Cookie", forged}}) == "(anonymous)");
    Resp malformed = s.get("/_session", {{"Cookie", "AuthSession=@@@"}});
    CHECK(malformed.status == 400);
    CHECK(divan::testing::reason_of(malformed) == "Malformed AuthSession cookie. Please clear your cookies.");
    CHECK(s.get("/_session", {{"Cookie", "AuthSession=cm9vdA"}}).status == 400);  // "root": no time

    // Past a tenth of its life the cookie is refreshed; past its timeout it
    // is ignored.
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    Resp later = s.get("/_session", {{"Cookie", cookie}});
    CHECK(std::string(later.json()["userCtx"]["name"].GetString()) == "root");
    std::string fresh = session_cookie(later);
    CHECK(fresh.find("AuthSession=") == 0);
    CHECK(fresh != cookie);
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));
    CHECK(session_name(s, {{"Cookie", cookie}}) == "(anonymous)");
    CHECK(session_name(s, {{"Cookie", fresh}}) == "root");

    // Logging out clears the cookie.
    Resp out = s.request("DELETE", "/_session", "", "application/json", {{"Cookie", fresh}});
    CHECK(out.status == 200);
    CHECK(out.header("Set-Cookie").find("AuthSession=;") == 0);
    CHECK(out.header("Set-Cookie").find("Max-Age=0") != std::string::npos);
  }

  TEST_CASE("security: failed logins are bounded per second") {
    TempDir tmp;
    ServerProcess s(secured(tmp, "max_failed_logins_per_second = 3\n"));
    // Three failures within one second, then even the right password is
    // refused until the second is over. A second may end between the
    // requests, so try a few times.
    bool limited = false;
    for (int attempt = 0; attempt < 5 && !limited; ++attempt) {
      for (int i = 0; i < 3; ++i) s.get("/_all_dbs", basic("root", "guess"));
      Resp r = s.get("/_all_dbs", basic("root", "pw"));
      if (r.status == 429) {
        limited = true;
        CHECK(divan::testing::error_of(r) == "too_many_requests");
      } else {
        CHECK(r.status == 200);
      }
    }
    CHECK(limited);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(s.get("/_all_dbs", basic("root", "pw")).status == 200);
  }

  TEST_CASE("security: who may do what to a database under its _security") {
    TempDir tmp;
    ServerProcess s(secured(tmp));
    const auto root = basic("root", "pw");
    auto as = [&](const std::string& method, const std::string& path, const httplib::Headers& h,
                  const std::string& body = "") { return s.request(method, path, body, "application/json", h); };
    REQUIRE(as("PUT", "/db", root).status == 201);
    for (const char* u : {"member", "dbadmin", "outsider", "staffer"}) {
      std::string roles = std::string(u) == "staffer" ? R"(["staff"])" : "[]";
      REQUIRE(as("PUT", std::string("/_users/org.couchdb.user:") + u, root, user_doc(u, "pw", roles)).status == 201);
    }
    // New databases are for server admins only.
    CHECK(as("GET", "/db", {}).status == 401);
    CHECK(as("GET", "/db", basic("member", "pw")).status == 403);
    REQUIRE(as("PUT", "/db/_security", root,
               R"({"admins":{"names":["dbadmin"],"roles":[]},"members":{"names":["member"],"roles":["staff"]}})")
                .status == 200);
    REQUIRE(as("PUT", "/db/doc", root, R"({"v":1})").status == 201);

    const httplib::Headers anonymous;
    const auto member = basic("member", "pw"), staffer = basic("staffer", "pw"),
               dbadmin = basic("dbadmin", "pw"), outsider = basic("outsider", "pw");

    // Member-level reads and writes: 401 anonymous, 403 outsiders.
    struct Call {
      const char* method;
      const char* path;
      const char* body;
    };
    int n = 0;
    for (const Call& c : {Call{"GET", "/db", ""}, Call{"GET", "/db/doc", ""},
                          Call{"GET", "/db/_all_docs", ""}, Call{"POST", "/db/_all_docs", R"({"keys":["doc"]})"},
                          Call{"GET", "/db/_changes", ""}, Call{"GET", "/db/_changes?feed=longpoll&since=0", ""},
                          Call{"POST", "/db/_bulk_get", R"({"docs":[{"id":"doc"}]})"},
                          Call{"POST", "/db/_revs_diff", R"({"doc":["1-abc"]})"},
                          Call{"GET", "/db/_security", ""}, Call{"GET", "/db/_revs_limit", ""},
                          Call{"GET", "/db/_local/x", ""}, Call{"POST", "/db/_ensure_full_commit", ""},
                          Call{"PUT", "/db/new%d", R"({"v":2})"}, Call{"POST", "/db", R"({"v":3})"},
                          Call{"POST", "/db/_bulk_docs", R"({"docs":[{"v":4}]})"}}) {
      CAPTURE(c.method);
      CAPTURE(c.path);
      std::string path = c.path;
      if (auto at = path.find("%d"); at != std::string::npos) path.replace(at, 2, std::to_string(n++));
      Resp anon = as(c.method, path, anonymous, c.body);
      CHECK(anon.status == 401);
      CHECK(divan::testing::reason_of(anon) == "You are not authorized to access this db.");
      Resp out = as(c.method, path, outsider, c.body);
      CHECK(out.status == 403);
      CHECK(divan::testing::error_of(out) == "forbidden");
      CHECK(divan::testing::reason_of(out) == "You are not allowed to access this db.");
      for (const auto* who : {&member, &staffer, &dbadmin, &root}) {
        if (path.starts_with("/db/new")) path = "/db/new" + std::to_string(n++);
        int status = as(c.method, path, *who, c.body).status;
        CHECK((status == 200 || status == 201 || status == 202 || status == 404));
      }
    }
    // Nothing the refused requests sent was written: only the members'.
    auto all = as("GET", "/db/_all_docs", root).json();
    CHECK(all["total_rows"].GetUint() == 1 + 4 * 3);  // doc, and 4 writers x (PUT, POST, _bulk_docs)

    // Database-admin-level: design documents, _security, _revs_limit, _compact.
    Resp ddoc = as("PUT", "/db/_design/app", member, "{}");
    CHECK(ddoc.status == 401);
    CHECK(divan::testing::reason_of(ddoc) == "You are not a db or server admin.");
    CHECK(as("PUT", "/db/_design/app", dbadmin, "{}").status == 201);
    CHECK(as("GET", "/db/_design/app", member).status == 200);
    CHECK(as("PUT", "/db/_security", member, "{}").status == 401);
    CHECK(as("PUT", "/db/_revs_limit", member, "9").status == 401);
    CHECK(as("PUT", "/db/_revs_limit", dbadmin, "9").status == 200);
    CHECK(as("POST", "/db/_compact", member, "").status == 401);
    CHECK(as("POST", "/db/_compact", dbadmin, "").status == 202);

    // Server-admin-level: databases, _all_dbs, _dbs_info, _active_tasks, _scheduler.
    for (const auto* who : {&anonymous, &member, &dbadmin}) {
      Resp r = as("PUT", "/other", *who);
      CHECK(r.status == 401);
      CHECK(divan::testing::reason_of(r) == "You are not a server admin.");
      CHECK(as("DELETE", "/db", *who).status == 401);
      CHECK(as("GET", "/_all_dbs", *who).status == 401);
      CHECK(as("GET", "/_dbs_info", *who).status == 401);
      CHECK(as("POST", "/_dbs_info", *who, R"({"keys":["db"]})").status == 401);
      CHECK(as("GET", "/_active_tasks", *who).status == 401);
      CHECK(as("GET", "/_scheduler/jobs", *who).status == 401);
      CHECK(as("GET", "/_users/_all_docs", *who).status == 401);
      CHECK(as("GET", "/_replicator/_all_docs", *who).status == 401);
      // Jobs may name local databases, so _replicator is for server admins
      // whatever its _security says.
      CHECK(as("PUT", "/_replicator/steal", *who, R"({"source":"db","target":"http://127.0.0.1:1/x"})").status == 401);
      CHECK(as("GET", "/_replicator", *who).status == 401);
    }
    CHECK(as("GET", "/_all_dbs", root).status == 200);
    CHECK(as("POST", "/_dbs_info", root, R"({"keys":["db"]})").status == 200);
    CHECK(as("GET", "/db", root).status == 200);
    REQUIRE(as("PUT", "/_replicator/_security", root, "{}").status == 200);
    CHECK(as("PUT", "/_replicator/steal", member, R"({"source":"db","target":"http://127.0.0.1:1/x"})").status == 401);

    // A database whose members list nobody is public, but its design
    // documents and _security stay with its admins.
    REQUIRE(as("PUT", "/db/_security", dbadmin, R"({"admins":{"names":["dbadmin"]}})").status == 200);
    CHECK(as("GET", "/db/doc", anonymous).status == 200);
    CHECK(as("PUT", "/db/by-anyone", anonymous, "{}").status == 201);
    CHECK(as("PUT", "/db/_design/x", anonymous, "{}").status == 401);
    CHECK(as("PUT", "/db/_security", outsider, "{}").status == 401);
    // A missing database is 404 to anyone allowed to ask, before any check.
    CHECK(as("GET", "/nodb", anonymous).status == 404);
    CHECK(as("DELETE", "/nodb", anonymous).status == 401);
  }
}
