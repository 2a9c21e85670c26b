// HttpPeer (divan/http_peer.h): the URL rules, and the answers the real
// binary never gives, from fake servers: other web servers, refused
// connections, auth and server errors, broken and malformed answers, a
// request held until interrupt().
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

#include "divan/http_peer.h"
#include "http_peer_test_util.h"

using divan::ErrorCode;
using divan::HttpPeerOptions;
using divan::testing::FakeServer;
using divan::testing::open_peer;

namespace {

// A loopback port that nothing listens on (bound, then released).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("make_http_peer rejects malformed URLs, naming no password") {
    for (const char* bad : {"", "localhost:5984/db", "ftp://h/db", "http://h", "http://h/",
                            "http://h:99999/db", "http://h:x/db", "http://h:/db", "http://h/db?x=1",
                            "http://h/db#f", "http:///db", "http://[::1/db", "http://h//db",
                            "http://h/a%zz", "http://bad host/db"}) {
      CAPTURE(bad);
      auto p = divan::make_http_peer(bad);
      REQUIRE(!p.is_ok());
      CHECK(p.status().code() == ErrorCode::kBadRequest);
    }
    for (const char* bad : {"https://h", "https://h:0/db", "HTTPS:///db"}) {
      CAPTURE(bad);
      CHECK(divan::make_http_peer(bad).status().code() == ErrorCode::kBadRequest);
    }
    auto leaky = divan::make_http_peer("http://bob:s3cret@h:99999/db");
    REQUIRE(!leaky.is_ok());
    CHECK(leaky.status().reason().find("s3cret") == std::string::npos);
    CHECK(leaky.status().reason().find("*****") != std::string::npos);
  }

  TEST_CASE("redact_url hides the password and nothing else") {
    CHECK(divan::redact_url("http://bob:secret@host:5984/db") == "http://bob:*****@host:5984/db");
    CHECK(divan::redact_url("http://bob@host/db") == "http://bob@host/db");
    CHECK(divan::redact_url("http://host:5984/db") == "http://host:5984/db");
    CHECK(divan::redact_url("not a url") == "not a url");
    // An unencoded '/' or '@' in the password must not let it through.
    CHECK(divan::redact_url("http://bob:se/cr@t@host/db") == "http://bob:*****@host/db");
  }

  TEST_CASE("id is the URL without its password, in one spelling") {
    CHECK(open_peer("http://bob:secret@Host:5984/a%2fb/")->id() == "http://bob@host:5984/a%2Fb");
    CHECK(open_peer("http://host/pre/fix/db")->id() == "http://host:80/pre/fix/db");
    CHECK(open_peer("http://[::1]:5984/db")->id() == "http://[::1]:5984/db");
    // https: its own scheme and default port.
    CHECK(open_peer("HTTPS://bob:secret@Host/db")->id() == "https://bob@host:443/db");
    CHECK(open_peer("https://host:6984/db")->id() == "https://host:6984/db");
    HttpPeerOptions o;
    o.username = "ann";
    o.password = "pw";
    CHECK(open_peer("http://bob:secret@host:5984/db", o)->id() == "http://ann@host:5984/db");
  }

  TEST_CASE("a port with nothing listening is a transient io_error") {
    auto p = open_peer("http://127.0.0.1:" + std::to_string(closed_port()) + "/db");
    auto info = p->info();
    REQUIRE(!info.is_ok());
    CHECK(info.status().code() == ErrorCode::kIoError);
    CHECK(info.status().transient());
    CHECK(p->create().transient());
    CHECK(p->changes({}).status().transient());
  }

  TEST_CASE("a web server that is not CouchDB-style is a bad_request") {
    FakeServer f;
    f.http().Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    f.http().Get("/json/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"hello":"world"})", "application/json");
    });
    f.start();
    for (const std::string& url : {f.url("db"), f.url("json/db"), f.url("nothing/db")}) {
      CAPTURE(url);
      auto info = open_peer(url)->info();
      REQUIRE(!info.is_ok());
      CHECK(info.status().code() == ErrorCode::kBadRequest);
      CHECK(!info.status().transient());
      CHECK(info.status().reason().find("is not a CouchDB-style server") != std::string::npos);
    }
  }

  TEST_CASE("HTTP errors, broken connections and malformed answers map to Status") {
    FakeServer f;
    f.serve_welcome();
    auto answer = [&](const std::string& path, int status, const std::string& body) {
      f.http().Get(path, [status, body](const httplib::Request&, httplib::Response& res) {
        res.status = status;
        res.set_content(body, "application/json");
      });
    };
    answer("/unauth", 401, R"({"error":"unauthorized","reason":"Name or password is incorrect."})");
    answer("/forbid", 403, R"({"error":"forbidden","reason":"You are not allowed to access this db."})");
    answer("/busy", 503, R"({"error":"service_unavailable","reason":"busy"})");
    answer("/slow", 429, "");
    answer("/notjson", 200, "hello");
    answer("/shape", 200, R"({"update_seq":[1]})");
    answer("/strseq", 200, R"({"db_name":"strseq","update_seq":"12-g1AAAA","instance_start_time":"0"})");
    f.http().Get("/cut", [](const httplib::Request&, httplib::Response& res) {
      // Promises 1000 bytes, sends 10, then hangs up.
      res.set_content_provider(1000, "application/json", [](std::size_t, std::size_t, httplib::DataSink& sink) {
        sink.write("{\"db_name\"", 10);
        return false;
      });
    });
    f.start();
    struct Case {
      const char* db;
      ErrorCode code;
      bool transient;
    };
    for (const Case& c : {Case{"unauth", ErrorCode::kUnauthorized, false},
                          Case{"forbid", ErrorCode::kForbidden, false},
                          Case{"busy", ErrorCode::kIoError, true}, Case{"slow", ErrorCode::kIoError, true},
                          Case{"notjson", ErrorCode::kBadRequest, false},
                          Case{"shape", ErrorCode::kBadRequest, false},
                          Case{"cut", ErrorCode::kIoError, true}}) {
      CAPTURE(c.db);
      auto info = open_peer(f.url(c.db))->info();
      REQUIRE(!info.is_ok());
      CHECK(info.status().code() == c.code);
      CHECK(info.status().transient() == c.transient);
    }
    auto reason = open_peer(f.url("unauth"))->info().status().reason();
    CHECK(reason.find("Name or password is incorrect.") != std::string::npos);
    auto info = open_peer(f.url("strseq"))->info();
    REQUIRE(info.is_ok());
    CHECK(info->update_seq == "\"12-g1AAAA\"");
    CHECK(info->instance_start_time == "0");
    CHECK(info->server_uuid == "fake");
  }

  TEST_CASE("credentials and extra headers reach the server, one Host header") {
    FakeServer f;
    std::mutex mu;
    httplib::Headers seen;
    f.http().Get("/", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      seen = req.headers;
      res.set_content(R"({"couchdb":"Welcome"})", "application/json");
    });
    f.start();
    auto header = [&](const std::string& name) {
      std::lock_guard<std::mutex> lock(mu);
      auto n = seen.count(name);
      return n == 1 ? seen.find(name)->second : std::to_string(n) + " headers";
    };
    (void)open_peer("http://bob:s%40cret@127.0.0.1:" + std::to_string(f.port()) + "/db")->info();
    CHECK(header("Authorization") == "Basic Ym9iOnNAY3JldA==");  // bob:s@cret
    CHECK(header("Host") == "127.0.0.1:" + std::to_string(f.port()));
    CHECK(header("Accept") == "application/json");
    HttpPeerOptions o;
    o.username = "ann";
    o.password = "pw";
    o.headers["X-Test"] = "yes";
    (void)open_peer("http://bob:secret@127.0.0.1:" + std::to_string(f.port()) + "/db", o)->info();
    CHECK(header("Authorization") == "Basic YW5uOnB3");  // ann:pw
    CHECK(header("X-Test") == "yes");
  }

  TEST_CASE("put_local reports a conflict, and odd answers are errors") {
    FakeServer f;
    f.serve_welcome();
    f.http().Put("/db/_local/stale", [](const httplib::Request&, httplib::Response& res) {
      res.status = 409;
      res.set_content(R"({"error":"conflict","reason":"Document update conflict."})", "application/json");
    });
    f.http().Put("/db/_local/norev", [](const httplib::Request&, httplib::Response& res) {
      res.status = 201;
      res.set_content(R"({"ok":true})", "application/json");
    });
    f.http().Get("/db/_local/list", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("[1,2]", "application/json");
    });
    f.http().Post("/db/_revs_diff", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"a":{"missing":"1-x"}})", "application/json");
    });
    f.http().Post("/db/_bulk_get", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"results":[{"id":"other","docs":[]}]})", "application/json");
    });
    f.http().Get("/db/_changes", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"results":[{"seq":1,"id":"a","changes":[{"rev":7}]}],"last_seq":1})", "application/json");
    });
    f.http().Post("/db/_bulk_docs", [](const httplib::Request&, httplib::Response& res) {
      res.status = 201;
      res.set_content(R"([{"id":"a","error":"forbidden","reason":"no"},{"ok":true,"id":"b","rev":"1-x"}])",
                      "application/json");
    });
    f.start();
    auto p = open_peer(f.url("db"));
    auto stale = p->put_local("stale", R"({"_rev":"0-1"})");
    REQUIRE(!stale.is_ok());
    CHECK(stale.status().code() == ErrorCode::kConflict);
    CHECK(p->put_local("norev", "{}").status().code() == ErrorCode::kBadRequest);
    CHECK(p->get_local("list").status().code() == ErrorCode::kBadRequest);
    CHECK(p->revs_diff({{"a", {"1-x"}}}).status().code() == ErrorCode::kBadRequest);
    CHECK(p->bulk_get({{"a", "1-x", {}}}).status().code() == ErrorCode::kBadRequest);
    CHECK(p->changes({}).status().code() == ErrorCode::kBadRequest);
    auto failed = p->bulk_docs({R"({"_id":"a"})", R"({"_id":"b"})"});
    REQUIRE(failed.is_ok());
    REQUIRE(failed->size() == 1);
    CHECK((*failed)[0].id == "a");
    CHECK((*failed)[0].status.code() == ErrorCode::kForbidden);
    CHECK((*failed)[0].status.reason() == "no");
  }

  TEST_CASE("interrupt cuts a request the server is holding") {
    FakeServer f;
    f.serve_welcome();
    std::mutex mu;
    std::condition_variable cv;
    bool arrived = false, released = false;
    f.http().Get("/db/_changes", [&](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu);
      arrived = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return released; });
      res.set_content(R"({"results":[],"last_seq":0})", "application/json");
    });
    f.start();
    auto p = open_peer(f.url("db"));
    auto waiting = std::async(std::launch::async, [&] { return p->changes({}); });
    {
      std::unique_lock<std::mutex> lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return arrived; }));
    }
    p->interrupt();
    bool ready = waiting.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    {
      std::lock_guard<std::mutex> lock(mu);
      released = true;
    }
    cv.notify_all();
    REQUIRE(ready);
    CHECK(waiting.get().status().reason() == "interrupted");
  }
}
