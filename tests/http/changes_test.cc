// The _changes feed from outside, against the real binary: the normal
// feed's rows and parameters, errors, and the live feeds (longpoll,
// continuous, eventsource) read over a raw socket so that the arrival of
// each line and heartbeat can be timed.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "raw_http.h"
#include "server_process.h"

using divan::testing::connect_loopback;
using divan::testing::Resp;
using divan::testing::ResponseParser;
using divan::testing::send_all;
using divan::testing::ServerProcess;
using divan::testing::str;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// One HTTP/1.1 exchange over a plain socket, read incrementally: headers,
// then the body as it arrives (chunked or with a Content-Length).
class RawClient {
 public:
  explicit RawClient(int port) : fd_(connect_loopback(port)) { REQUIRE(fd_ >= 0); }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends a request; `headers` are extra "Name: value\r\n" lines.
  void send(const std::string& method, const std::string& target, const std::string& headers = "",
            const std::string& body = "") {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers;
    if (!body.empty() || method == "POST")
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    REQUIRE(send_all(fd_, req));
  }
  void get(const std::string& target, const std::string& headers = "") {
    send("GET", target, headers);
  }
  // Sends bytes as they are (part of a request, say).
  void send_raw(const std::string& data) { REQUIRE(send_all(fd_, data)); }

  // Reads until `done()` holds, the connection closes or `timeout` passes;
  // returns done().
  bool read_until(const std::function<bool()>& done, milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (!done()) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      if (left <= 0 || eof_) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        continue;
      }
      response_.feed(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  // Reads the whole response.
  bool read_all(milliseconds timeout = milliseconds(10000)) {
    return read_until([this] { return response_.ended(); }, timeout);
  }
  bool wait_for(const std::string& text, milliseconds timeout = milliseconds(5000)) {
    return read_until([&] { return response_.body().find(text) != std::string::npos; }, timeout);
  }

  int status() const { return response_.status(); }
  bool ended() const { return response_.ended(); }
  bool eof() const { return eof_; }
  const std::string& body() const { return response_.body(); }
  // A response header (case-insensitive name), or "".
  std::string header(const std::string& name) const { return response_.header(name); }

 private:
  int fd_ = -1;
  ResponseParser response_;
  bool eof_ = false;
};

// The lines of a continuous feed body ("" for heartbeats), without the
// unfinished last one.
std::vector<std::string> lines_of(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = body.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(body.substr(start, nl - start));
  }
  return out;
}

// Joins a thread when it goes out of scope, unless joined before.
struct JoinOnExit {
  std::thread& thread;
  void join() {
    if (thread.joinable()) thread.join();
  }
  ~JoinOnExit() { join(); }
};

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_MESSAGE(!d.HasParseError(), "not JSON: " << text);
  return d;
}

// Writes {"_id": id, ...} with POST /db; returns the new rev.
std::string write(ServerProcess& s, const std::string& db, const std::string& id,
                  const std::string& members = "", const std::string& rev = "") {
  std::string body = "{\"_id\":\"" + id + "\"";
  if (!rev.empty()) body += ",\"_rev\":\"" + rev + "\"";
  if (!members.empty()) body += "," + members;
  body += "}";
  Resp r = s.post("/" + db, body);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return r.json()["rev"].GetString();
}

std::vector<std::string> ids_of(const rapidjson::Value& results) {
  std::vector<std::string> ids;
  for (const auto& row : results.GetArray()) ids.emplace_back(row["id"].GetString());
  return ids;
}

std::string join(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

// The ids of a results array, comma-separated.
std::string id_list(const rapidjson::Value& results) { return join(ids_of(results)); }

long long ms_since(steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t).count();
}

// Writes ~25 MiB of documents (800 of 32 KiB) into `db`: enough that a
// response listing them with their bodies fills the socket buffers of a
// client that does not read.
void write_25_mib(ServerProcess& s, const std::string& db) {
  const std::string pad(32 * 1024, 'p');
  for (int batch = 0; batch < 8; ++batch) {
    std::string docs = "{\"docs\":[";
    for (int i = 0; i < 100; ++i) {
      docs += (i ? "," : "") + std::string("{\"_id\":\"d") + std::to_string(batch * 100 + i) +
              "\",\"pad\":\"" + pad + "\"}";
    }
    REQUIRE(s.post("/" + db + "/_bulk_docs", docs + "]}").status == 201);
  }
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("the normal feed lists each document once, at its latest seq, in CouchDB's layout") {
    ServerProcess s;
    s.put("/db");
    std::string a1 = write(s, "db", "a");
    std::string b1 = write(s, "db", "b");
    std::string c1 = write(s, "db", "c");
    std::string a2 = write(s, "db", "a", "", a1);                   // seq 4
    std::string b2 = write(s, "db", "b", "\"_deleted\":true", b1);  // seq 5

    Resp r = s.get("/db/_changes");
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type").starts_with("application/json"));
    auto row = [](int seq, const std::string& id, const std::string& rev) {
      return "{\"seq\":" + std::to_string(seq) + ",\"id\":\"" + id + "\",\"changes\":[{\"rev\":\"" +
             rev + "\"}]";
    };
    const std::string expected = "{\"results\":[\n" + row(3, "c", c1) + "},\n" + row(4, "a", a2) +
                                 "},\n" + row(5, "b", b2) + ",\"deleted\":true}\n" +
                                 "],\n\"last_seq\":5,\"pending\":0}\n";
    CHECK(r.body == expected);

    // since, limit (with pending), descending.
    auto j = s.get("/db/_changes?since=3").json();
    CHECK(id_list(j["results"]) == "a,b");
    CHECK(j["last_seq"].GetUint64() == 5);
    j = s.get("/db/_changes?limit=1").json();
    CHECK(id_list(j["results"]) == "c");
    CHECK(j["last_seq"].GetUint64() == 3);
    CHECK(j["pending"].GetUint64() == 2);
    j = s.get("/db/_changes?since=3&limit=1").json();
    CHECK(id_list(j["results"]) == "a");
    CHECK(j["last_seq"].GetUint64() == 4);
    CHECK(j["pending"].GetUint64() == 1);
    j = s.get("/db/_changes?descending=true").json();
    CHECK(id_list(j["results"]) == "b,a,c");
    j = s.get("/db/_changes?descending=true&limit=1").json();
    CHECK(id_list(j["results"]) == "b");
    CHECK(j["last_seq"].GetUint64() == 5);
    CHECK(j["pending"].GetUint64() == 2);
    // limit=0: no rows, but a usable last_seq and pending.
    j = s.get("/db/_changes?limit=0").json();
    CHECK(j["results"].Size() == 0);
    CHECK(j["last_seq"].GetUint64() == 0);
    CHECK(j["pending"].GetUint64() == 3);
    // A since beyond the end answers nothing and never goes back.
    j = s.get("/db/_changes?since=99").json();
    CHECK(j["results"].Size() == 0);
    CHECK(j["last_seq"].GetUint64() == 99);
    // An empty feed.
    s.put("/empty");
    CHECK(s.get("/empty/_changes").body == "{\"results\":[\n\n],\n\"last_seq\":0,\"pending\":0}\n");
  }

  TEST_CASE("since takes integers, quoted integers, CouchDB's N-opaque seqs and now") {
    ServerProcess s;
    s.put("/db");
    for (const char* id : {"a", "b", "c"}) write(s, "db", id);
    for (const char* since : {"1", "%221%22", "1-g1AAAABteJzLYWBgYMpgTmEQTM", "\"1\""}) {
      auto j = s.get(std::string("/db/_changes?since=") + since).json();
      CHECK_MESSAGE(id_list(j["results"]) == "b,c", since);
    }
    auto now = s.get("/db/_changes?since=now").json();
    CHECK(now["results"].Size() == 0);
    CHECK(now["last_seq"].GetUint64() == 3);
    for (const char* bad : {"x", "-1", "1x", "", "%22%22", "18446744073709551616"}) {
      Resp r = s.get(std::string("/db/_changes?since=") + bad);
      CHECK_MESSAGE(r.status == 400, bad);
      CHECK(str(r.json()["error"]) == "bad_request");
    }
  }

  TEST_CASE("include_docs adds the winning document, tombstones included") {
    ServerProcess s;
    s.put("/db");
    std::string rev = write(s, "db", "a", "\"n\":1");
    std::string gone = write(s, "db", "b", "", write(s, "db", "b"));
    gone = write(s, "db", "b", "\"_deleted\":true", gone);
    auto j = s.get("/db/_changes?include_docs=true").json();
    REQUIRE(j["results"].Size() == 2);
    const auto& doc = j["results"][0]["doc"];
    CHECK(str(doc["_id"]) == "a");
    CHECK(str(doc["_rev"]) == rev);
    CHECK(doc["n"].GetInt() == 1);
    const auto& tomb = j["results"][1]["doc"];
    CHECK(str(tomb["_id"]) == "b");
    CHECK(str(tomb["_rev"]) == gone);
    CHECK(tomb["_deleted"].GetBool());
    CHECK(j["results"][1]["deleted"].GetBool());
    CHECK(!s.get("/db/_changes").json()["results"][0].HasMember("doc"));
    CHECK(s.get("/db/_changes?include_docs=yes").status == 400);
  }

  TEST_CASE("style=all_docs lists every leaf winner first; conflicts=true adds _conflicts") {
    ServerProcess s;
    s.put("/db");
    const std::string h1(32, 'a'), h2(32, 'b'), h3(32, 'c');
    // Two branches from one root, written as a replicator would.
    for (const std::string& leaf : {h2, h3}) {
      std::string body = R"({"_rev":"2-)" + leaf + R"(","_revisions":{"start":2,"ids":[")" + leaf +
                         R"(",")" + h1 + R"("]},"v":")" + leaf.substr(0, 1) + R"("})";
      Resp r = s.request("PUT", "/db/c?new_edits=false", body);
      REQUIRE_MESSAGE(r.status == 201, r.body);
    }
    write(s, "db", "plain");

    auto main_only = s.get("/db/_changes").json();
    REQUIRE(main_only["results"].Size() == 2);
    const auto& row = main_only["results"][0];
    CHECK(str(row["id"]) == "c");
    REQUIRE(row["changes"].Size() == 1);
    CHECK(str(row["changes"][0]["rev"]) == "2-" + h3);  // the winner: the higher hash

    auto all = s.get("/db/_changes?style=all_docs").json();
    const auto& c = all["results"][0]["changes"];
    REQUIRE(c.Size() == 2);
    CHECK(str(c[0]["rev"]) == "2-" + h3);
    CHECK(str(c[1]["rev"]) == "2-" + h2);
    CHECK(all["results"][1]["changes"].Size() == 1);

    auto docs = s.get("/db/_changes?include_docs=true&conflicts=true").json();
    const auto& doc = docs["results"][0]["doc"];
    CHECK(str(doc["_rev"]) == "2-" + h3);
    REQUIRE(doc.HasMember("_conflicts"));
    REQUIRE(doc["_conflicts"].Size() == 1);
    CHECK(str(doc["_conflicts"][0]) == "2-" + h2);
    CHECK(!docs["results"][1]["doc"].HasMember("_conflicts"));
    auto no_conflicts = s.get("/db/_changes?include_docs=true").json();
    CHECK(!no_conflicts["results"][0]["doc"].HasMember("_conflicts"));
    CHECK(s.get("/db/_changes?style=winner").status == 400);
  }

  TEST_CASE("filter=_doc_ids by GET or POST, and filter=_design") {
    ServerProcess s;
    s.put("/db");
    for (const char* id : {"a", "b", "c", "d"}) write(s, "db", id);
    write(s, "db", "_design/app", R"("views":{})");
    write(s, "db", "a", "",
          s.get("/db/_changes?limit=1").json()["results"][0]["changes"][0]["rev"].GetString());

    auto get = s.get("/db/_changes?filter=_doc_ids&doc_ids=%5B%22c%22,%22a%22,%22zz%22%5D").json();
    CHECK(id_list(get["results"]) == "c,a");  // feed order, not request order
    CHECK(get["last_seq"].GetUint64() == 6);

    Resp post = s.post("/db/_changes?filter=_doc_ids", R"({"doc_ids":["b","a"]})");
    REQUIRE(post.status == 200);
    CHECK(id_list(post.json()["results"]) == "b,a");
    auto limited =
        s.post("/db/_changes?filter=_doc_ids&limit=1", R"({"doc_ids":["b","a"]})").json();
    CHECK(id_list(limited["results"]) == "b");
    CHECK(limited["pending"].GetUint64() == 1);
    auto since = s.post("/db/_changes?filter=_doc_ids&since=2", R"({"doc_ids":["b","a"]})").json();
    CHECK(id_list(since["results"]) == "a");
    // A POST without a filter reads everything; doc_ids alone filter nothing.
    CHECK(s.post("/db/_changes", R"({"doc_ids":["b"]})").json()["results"].Size() == 5);
    CHECK(s.post("/db/_changes", "").status == 200);

    auto design = s.get("/db/_changes?filter=_design").json();
    CHECK(id_list(design["results"]) == "_design/app");

    Resp not_list = s.get("/db/_changes?filter=_doc_ids&doc_ids=%22a%22");
    CHECK(not_list.status == 400);
    CHECK(str(not_list.json()["reason"]) == "`doc_ids` filter parameter is not a list.");
    CHECK(s.get("/db/_changes?filter=_doc_ids").status == 400);
    CHECK(s.post("/db/_changes?filter=_doc_ids", R"({"doc_ids":"a"})").status == 400);
    CHECK(s.post("/db/_changes?filter=_doc_ids", "[1]").status == 400);
  }

  TEST_CASE("seq_interval gives every N-th row its seq and the others null") {
    ServerProcess s;
    s.put("/db");
    for (const char* id : {"a", "b", "c", "d", "e"}) write(s, "db", id);
    auto j = s.get("/db/_changes?seq_interval=2").json();
    const auto& rows = j["results"];
    REQUIRE(rows.Size() == 5);
    CHECK(rows[0]["seq"].IsNull());
    CHECK(rows[1]["seq"].GetUint64() == 2);
    CHECK(rows[2]["seq"].IsNull());
    CHECK(rows[3]["seq"].GetUint64() == 4);
    CHECK(rows[4]["seq"].IsNull());
    CHECK(j["last_seq"].GetUint64() == 5);
    // Without it every row carries its seq (PouchDB pages with the last row's).
    auto plain = s.get("/db/_changes").json();
    for (const auto& row : plain["results"].GetArray()) CHECK(row["seq"].IsUint64());
    CHECK(s.get("/db/_changes?seq_interval=0").status == 400);
    CHECK(s.get("/db/_changes?seq_interval=x").status == 400);
  }

  TEST_CASE("a normal feed longer than a page streams completely and in order") {
    ServerProcess s;
    s.put("/db");
    // 2500 documents (pages are 1000 rows), in one _bulk_docs.
    constexpr int kDocs = 2500;
    std::string docs;
    for (int i = 0; i < kDocs; ++i) {
      docs += (i == 0 ? "{\"_id\":\"d" : ",{\"_id\":\"d") + std::to_string(i) + "\"}";
    }
    REQUIRE(s.post("/db/_bulk_docs", "{\"docs\":[" + docs + "]}").status == 201);

    Resp r = s.get("/db/_changes");
    REQUIRE(r.status == 200);
    CHECK(r.header("Transfer-Encoding") == "chunked");  // streamed, page by page
    CHECK(r.body.ends_with("\"}]}\n],\n\"last_seq\":2500,\"pending\":0}\n"));
    auto j = r.json();
    const auto& rows = j["results"];
    REQUIRE(rows.Size() == kDocs);
    for (rapidjson::SizeType i = 0; i < rows.Size(); ++i)
      CHECK(rows[i]["seq"].GetUint64() == i + 1);
    CHECK(j["last_seq"].GetUint64() == kDocs);
    CHECK(j["pending"].GetUint64() == 0);

    auto limited = s.get("/db/_changes?since=100&limit=1500").json();
    REQUIRE(limited["results"].Size() == 1500);
    CHECK(limited["results"][0]["seq"].GetUint64() == 101);
    CHECK(limited["last_seq"].GetUint64() == 1600);
    CHECK(limited["pending"].GetUint64() == 900);
    auto with_docs = s.get("/db/_changes?include_docs=true&since=2000").json();
    CHECK(with_docs["results"].Size() == 500);
    CHECK(with_docs["last_seq"].GetUint64() == 2500);
  }

  TEST_CASE("bad parameters get 400, a POST without JSON 415, an unknown database 404") {
    ServerProcess s;
    s.put("/db");
    for (const char* q :
         {"feed=sideways", "limit=-1", "limit=x", "heartbeat=0", "heartbeat=-5", "heartbeat=soon",
          "timeout=x", "descending=maybe", "style=x", "conflicts=1", "seq_interval=-1"}) {
      Resp r = s.get(std::string("/db/_changes?") + q);
      CHECK_MESSAGE(r.status == 400, q);
      CHECK_MESSAGE(str(r.json()["error"]) == "bad_request", q);
    }
    Resp unknown = s.get("/db/_changes?filter=_nope");
    CHECK(unknown.status == 400);
    CHECK(str(unknown.json()["reason"]) == "unknown builtin filter name");
    Resp js = s.get("/db/_changes?filter=app/by_type");
    CHECK(js.status == 400);
    CHECK(str(js.json()["error"]) == "bad_request");
    CHECK(str(js.json()["reason"]).find("not supported") != std::string::npos);
    CHECK(s.get("/db/_changes?filter=nodesign").status == 400);
    CHECK(s.get("/db/_changes?filter=_selector").status == 400);

    Resp text = s.request("POST", "/db/_changes", "{}", "text/plain");
    CHECK(text.status == 415);
    CHECK(str(text.json()["error"]) == "bad_content_type");
    CHECK(s.request("POST", "/db/_changes", "", "text/plain").status == 415);
    CHECK(s.post("/db/_changes", "{nope").status == 400);

    Resp missing = s.get("/nodb/_changes");
    CHECK(missing.status == 404);
    CHECK(str(missing.json()["error"]) == "not_found");
    CHECK(s.get("/nodb/_changes?feed=continuous").status == 404);
    CHECK(s.request("PUT", "/db/_changes", "{}").status == 405);

    // Accepted and ignored.
    CHECK(s.get("/db/_changes?attachments=true&att_encoding_info=true").status == 200);
    CHECK(s.get("/db/_changes?heartbeat=true&timeout=10").status == 200);
  }

  TEST_CASE("longpoll answers at once when rows exist, and a write wakes a waiting one promptly") {
    ServerProcess s;
    s.put("/db");
    write(s, "db", "a");
    auto now = s.get("/db/_changes?feed=longpoll&since=0").json();
    CHECK(id_list(now["results"]) == "a");
    CHECK(now["last_seq"].GetUint64() == 1);

    RawClient c(s.port());
    c.get("/db/_changes?feed=longpoll&since=1&timeout=20000");
    // Nothing to say yet: the request is held.
    CHECK(!c.read_until([&] { return c.ended(); }, milliseconds(300)));
    auto written = steady_clock::now();
    // Another thread writes, as another client would.
    std::thread writer([&s] { write(s, "db", "b"); });
    REQUIRE(c.read_all(milliseconds(10000)));
    auto waited = ms_since(written);
    writer.join();
    CHECK(waited < 3000);  // woken by the write, far before the 20 s timeout
    CHECK(c.status() == 200);
    auto j = parse(c.body());
    CHECK(id_list(j["results"]) == "b");
    CHECK(j["last_seq"].GetUint64() == 2);
    CHECK(j["pending"].GetUint64() == 0);
  }

  TEST_CASE("longpoll with no change times out with empty results and sends heartbeats meanwhile") {
    ServerProcess s;
    s.put("/db");
    write(s, "db", "a");
    auto start = steady_clock::now();
    Resp r = s.get("/db/_changes?feed=longpoll&since=1&timeout=300");
    auto took = ms_since(start);
    REQUIRE(r.status == 200);
    CHECK(took >= 250);
    CHECK(took < 5000);
    auto j = r.json();
    CHECK(j["results"].Size() == 0);
    CHECK(j["last_seq"].GetUint64() == 1);
    CHECK(j["pending"].GetUint64() == 0);
    // since=now waits too, and answers with the current seq.
    auto j2 = s.get("/db/_changes?feed=longpoll&since=now&timeout=100").json();
    CHECK(j2["results"].Size() == 0);
    CHECK(j2["last_seq"].GetUint64() == 1);

    // PouchDB's way: heartbeat, no timeout. Newlines keep the connection
    // alive; the response stays valid JSON.
    RawClient c(s.port());
    c.get("/db/_changes?feed=longpoll&since=1&heartbeat=100");
    REQUIRE(c.read_until([&] { return count(c.body(), "\n") >= 4; }, milliseconds(5000)));
    CHECK(!c.ended());
    CHECK(c.body().starts_with("{\"results\":[\n"));
    write(s, "db", "b");
    REQUIRE(c.read_all());
    auto j3 = parse(c.body());
    CHECK(id_list(j3["results"]) == "b");
    CHECK(j3["last_seq"].GetUint64() == 2);
  }

  TEST_CASE("continuous sends rows as writes happen, heartbeats while idle, and stays open") {
    ServerProcess s;
    s.put("/db");
    write(s, "db", "a");
    RawClient c(s.port());
    c.get("/db/_changes?feed=continuous&since=0&heartbeat=100");
    REQUIRE(c.wait_for("\"id\":\"a\""));
    CHECK(c.status() == 200);
    CHECK(c.header("Transfer-Encoding") == "chunked");
    for (const char* id : {"b", "c"}) {
      auto t = steady_clock::now();
      write(s, "db", id);
      REQUIRE(c.wait_for(std::string("\"id\":\"") + id + "\"", milliseconds(3000)));
      CHECK(ms_since(t) < 2000);
    }
    // Heartbeats: empty lines, several of them.
    std::size_t before = lines_of(c.body()).size();
    REQUIRE(
        c.read_until([&] { return lines_of(c.body()).size() >= before + 3; }, milliseconds(5000)));
    CHECK(!c.ended());
    std::vector<std::string> rows;
    for (const std::string& line : lines_of(c.body())) {
      if (line.empty()) continue;
      auto j = parse(line);
      CHECK(!j.HasMember("last_seq"));
      rows.push_back(str(j["id"]));
      CHECK(j["seq"].GetUint64() == rows.size());
    }
    CHECK(join(rows) == "a,b,c");
  }

  TEST_CASE("continuous ends with a last_seq line at its timeout or when its limit is reached") {
    ServerProcess s;
    s.put("/db");
    write(s, "db", "a");
    write(s, "db", "b");
    write(s, "db", "c");

    auto start = steady_clock::now();
    Resp timed = s.get("/db/_changes?feed=continuous&since=1&timeout=300");
    CHECK(ms_since(start) >= 250);
    REQUIRE(timed.status == 200);
    auto lines = lines_of(timed.body);
    REQUIRE(lines.size() == 3);
    CHECK(str(parse(lines[0])["id"]) == "b");
    CHECK(str(parse(lines[1])["id"]) == "c");
    CHECK(lines[2] == "{\"last_seq\":3,\"pending\":0}");

    Resp limited = s.get("/db/_changes?feed=continuous&limit=2");
    auto l2 = lines_of(limited.body);
    REQUIRE(l2.size() == 3);
    CHECK(l2[2] == "{\"last_seq\":2,\"pending\":1}");

    // A limit reached by live rows ends the feed too.
    RawClient c(s.port());
    c.get("/db/_changes?feed=live&since=now&limit=2&heartbeat=100");
    REQUIRE(c.read_until([&] { return count(c.body(), "\n") >= 1; }, milliseconds(3000)));
    write(s, "db", "d");
    write(s, "db", "e");
    REQUIRE(c.read_all(milliseconds(5000)));
    std::vector<std::string> rows;
    std::string last;
    for (const std::string& line : lines_of(c.body())) {
      if (line.empty()) continue;
      auto j = parse(line);
      if (j.HasMember("last_seq"))
        last = line;
      else
        rows.push_back(str(j["id"]));
    }
    CHECK(join(rows) == "d,e");
    CHECK(last == "{\"last_seq\":5,\"pending\":0}");
  }

  TEST_CASE("eventsource sends data/id events and heartbeat events; Last-Event-ID resumes") {
    ServerProcess s;
    s.put("/db");
    std::string rev = write(s, "db", "a");
    write(s, "db", "b");
    RawClient c(s.port());
    c.get("/db/_changes?feed=eventsource&heartbeat=100");
    REQUIRE(c.wait_for("event: heartbeat\ndata: \n\n"));
    CHECK(c.header("Content-Type").starts_with("text/event-stream"));
    CHECK(c.header("Cache-Control") == "no-cache");
    CHECK(c.body().starts_with("data: {\"seq\":1,\"id\":\"a\",\"changes\":[{\"rev\":\"" + rev +
                               "\"}]}\nid: 1\n\ndata: {\"seq\":2,\"id\":\"b\""));
    write(s, "db", "c");
    REQUIRE(c.wait_for("\nid: 3\n\n"));

    RawClient resumed(s.port());
    resumed.get("/db/_changes?feed=eventsource&since=0&timeout=200", "Last-Event-ID: 2\r\n");
    REQUIRE(resumed.read_all());
    CHECK(resumed.body().starts_with("data: {\"seq\":3,\"id\":\"c\""));
    CHECK(count(resumed.body(), "data: {") == 1);
  }

  TEST_CASE("a continuous feed to a gzip-accepting client is not compressed and arrives promptly") {
    ServerProcess s;
    s.put("/db");
    RawClient c(s.port());
    c.get("/db/_changes?feed=continuous&since=now&heartbeat=100",
          "Accept-Encoding: gzip, deflate\r\n");
    REQUIRE(c.read_until([&] { return count(c.body(), "\n") >= 2; }, milliseconds(3000)));
    CHECK(c.header("Content-Encoding").empty());
    auto t = steady_clock::now();
    write(s, "db", "z");
    REQUIRE(c.wait_for("\"id\":\"z\"", milliseconds(3000)));
    CHECK(ms_since(t) < 2000);
    // The same for longpoll and eventsource.
    RawClient lp(s.port());
    lp.get("/db/_changes?feed=longpoll&since=now&heartbeat=100", "Accept-Encoding: gzip\r\n");
    REQUIRE(lp.read_until([&] { return count(lp.body(), "\n") >= 2; }, milliseconds(3000)));
    CHECK(lp.header("Content-Encoding").empty());
    // A normal feed may still be compressed.
    httplib::Client plain = s.client();
    plain.set_decompress(false);
    auto r = plain.Get("/db/_changes", {{"Accept-Encoding", "gzip"}});
    REQUIRE(r);
    CHECK(r->status == 200);
  }

  TEST_CASE("SIGTERM ends open feeds cleanly and the server exits 0 promptly") {
    ServerProcess s;
    s.put("/db");
    write(s, "db", "a");
    RawClient cont(s.port());
    cont.get("/db/_changes?feed=continuous&since=0&heartbeat=10000");
    REQUIRE(cont.wait_for("\"id\":\"a\""));
    RawClient poll(s.port());
    poll.get("/db/_changes?feed=longpoll&since=now&heartbeat=10000");
    RawClient quiet(s.port());
    quiet.get("/db/_changes?feed=continuous&since=now&timeout=60000");
    REQUIRE(poll.read_until([&] { return !poll.body().empty(); }, milliseconds(3000)));
    // Its headers show that the feed is running (and so has to be ended).
    REQUIRE(quiet.read_until([&] { return quiet.status() != 0; }, milliseconds(3000)));
    auto start = steady_clock::now();
    CHECK(s.stop() == 0);
    CHECK(ms_since(start) < 5000);
    // Each ended its response properly before the connection closed.
    CHECK(cont.read_all(milliseconds(2000)));
    CHECK(lines_of(cont.body()).back() == "{\"last_seq\":1,\"pending\":0}");
    CHECK(poll.read_all(milliseconds(2000)));
    CHECK(parse(poll.body())["results"].Size() == 0);
    CHECK(quiet.read_all(milliseconds(2000)));
  }

  TEST_CASE("SIGTERM waits a little for feeds, refusing new connections, then cuts stuck ones") {
    ServerProcess s;
    s.put("/db");
    // ~25 MiB of documents: a feed of them with include_docs fills the
    // socket buffers of a client that does not read, and its thread then
    // blocks writing, so the server waits for it (Server::kDrain).
    write_25_mib(s, "db");
    auto hog = std::make_unique<RawClient>(s.port());
    hog->get("/db/_changes?feed=continuous&include_docs=true&since=0");
    REQUIRE(hog->read_until([&] { return hog->status() != 0; }, milliseconds(3000)));
    std::this_thread::sleep_for(milliseconds(300));  // the feed fills the buffers

    int exit_status = -2;
    auto start = steady_clock::now();
    std::thread stopper([&] { exit_status = s.stop(); });
    JoinOnExit join_stopper{stopper};  // also if a REQUIRE below throws
    std::this_thread::sleep_for(milliseconds(300));  // SIGTERM has arrived
    // The listening socket may still take the connection, but it is closed
    // unserved.
    const int fd = connect_loopback(s.port());
    if (fd >= 0) {
      send_all(fd, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      char buf[256];
      pollfd p{fd, POLLIN, 0};
      CHECK(::poll(&p, 1, 3000) == 1);
      CHECK(::recv(fd, buf, sizeof buf, 0) <= 0);  // closed, no response
      ::close(fd);
    }
    // The client still does not read: after Server::kDrain the server
    // shuts its connection down rather than wait out the write timeout.
    join_stopper.join();
    CHECK(exit_status == 0);
    CHECK(ms_since(start) < 8000);
    CHECK_FALSE(hog->read_all(milliseconds(3000)));  // cut off, not ended
    CHECK(hog->eof());
  }

  TEST_CASE("SIGTERM cuts off a plain response its client does not read, after the drain") {
    ServerProcess s;
    s.put("/db");
    // ~25 MiB of documents, as above: _all_docs with include_docs fills the
    // socket buffers of a client that does not read, and the handler's
    // thread blocks writing (for up to the 60 s write timeout).
    write_25_mib(s, "db");
    RawClient hog(s.port());
    hog.get("/db/_all_docs?include_docs=true");
    REQUIRE(hog.read_until([&] { return hog.status() != 0; }, milliseconds(5000)));
    CHECK(hog.status() == 200);
    std::this_thread::sleep_for(milliseconds(300));  // the response fills the buffers
    auto start = steady_clock::now();
    CHECK(s.stop() == 0);
    const long long took = ms_since(start);
    CHECK(took >= 1500);  // it had its time (Server::kDrain)...
    CHECK(took < 8000);   // ...and was then cut off
    CHECK_FALSE(hog.read_all(milliseconds(3000)));
    CHECK(hog.eof());
  }

  TEST_CASE("a request sent slowly does not hold up SIGTERM") {
    ServerProcess s;
    RawClient slow(s.port());
    slow.send_raw("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // the headers never end
    std::this_thread::sleep_for(milliseconds(200));          // the server is reading them
    auto start = steady_clock::now();
    CHECK(s.stop() == 0);
    CHECK(ms_since(start) < 6000);  // not the 60 s read timeout
    CHECK_FALSE(slow.read_all(milliseconds(2000)));
    CHECK(slow.eof());
    CHECK(slow.status() == 0);  // no answer to a request never finished
  }

  TEST_CASE("a feed asked for as SIGTERM arrives is answered whole") {
    ServerProcess s;
    s.put("/db");
    write(s, "db", "a");
    // The request is being read when the server begins to stop: it is
    // answered after every open feed has ended and cpp-httplib has stopped,
    // which no longer streams a response, so the feed is answered whole.
    RawClient late(s.port());
    late.send_raw("GET /db/_changes?feed=continuous&since=0&heartbeat=10000 HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\n");
    std::this_thread::sleep_for(milliseconds(200));  // the server reads the first lines
    int exit_status = -2;
    std::thread stopper([&] { exit_status = s.stop(); });
    JoinOnExit join_stopper{stopper};  // also if a REQUIRE below throws
    std::this_thread::sleep_for(milliseconds(500));  // SIGTERM has arrived and done its work
    late.send_raw("\r\n");                         // the end of the request's headers
    const bool whole = late.read_all(milliseconds(5000));
    join_stopper.join();
    CHECK(exit_status == 0);
    CHECK(whole);
    CHECK(late.status() == 200);
    auto lines = lines_of(late.body());
    CHECK(lines.size() == 2);
    if (lines.size() == 2) {
      CHECK(lines.front().find("\"id\":\"a\"") != std::string::npos);
      CHECK(lines.back() == "{\"last_seq\":1,\"pending\":0}");
    }
  }

  TEST_CASE("an idle keep-alive connection does not hold up SIGTERM") {
    // cpp-httplib would keep waiting for the connection's next request for
    // the whole keep-alive timeout (5 s) after stop().
    ServerProcess s;
    RawClient idle(s.port());
    idle.get("/");
    REQUIRE(idle.read_all(milliseconds(3000)));
    REQUIRE(idle.status() == 200);
    auto start = steady_clock::now();
    CHECK(s.stop() == 0);
    CHECK(ms_since(start) < 4000);
    // The server closed the connection rather than leaving it to time out.
    CHECK(idle.read_until([] { return false; }, milliseconds(2000)) == false);
    CHECK(idle.eof());
  }

  TEST_CASE("idle keep-alive connections wait without waking the server") {
    // cpp-httplib 0.11 polled each idle connection every 10 ms (about 90
    // wake-ups a second each); the server now blocks until a request comes.
    ServerProcess s;
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 50; ++i) {
      idle.push_back(std::make_unique<RawClient>(s.port()));
      idle.back()->get("/_up");
      REQUIRE(idle.back()->read_all(milliseconds(3000)));
    }
    // Voluntary context switches of all the server's threads.
    auto switches = [&] {
      long total = 0;
      const std::string tasks = "/proc/" + std::to_string(s.pid()) + "/task";
      for (const auto& t : std::filesystem::directory_iterator(tasks)) {
        std::ifstream status(t.path() / "status");
        for (std::string line; std::getline(status, line);) {
          if (line.rfind("voluntary_ctxt_switches:", 0) == 0) total += std::stol(line.substr(24));
        }
      }
      return total;
    };
    const long before = switches();
    std::this_thread::sleep_for(milliseconds(1000));
    const long woken = switches() - before;
    // Polling would be about 4,500; blocking leaves the page releaser's 10.
    CHECK(woken < 1000);
    MESSAGE(woken << " wake-ups in 1 s with 50 idle keep-alive connections");
    // They still work.
    RawClient& again = *idle.front();
    REQUIRE(s.get("/_up").status == 200);
    CHECK(s.stop() == 0);
    CHECK(again.read_until([] { return false; }, milliseconds(2000)) == false);
    CHECK(again.eof());
  }

  TEST_CASE("pipelined requests on one connection are all answered, in order") {
    ServerProcess s;
    int fd = connect_loopback(s.port());
    REQUIRE(fd >= 0);
    // Three requests in one write: the server reads past the first.
    REQUIRE(send_all(fd, "GET /_up HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /nodb HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /_uuids?count=2 HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got;
    const auto deadline = steady_clock::now() + milliseconds(3000);
    while (count(got, "HTTP/1.1 ") < 3 || got.find("uuids") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (steady_clock::now() > deadline || ::poll(&p, 1, 100) < 0) break;
      if (p.revents == 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    INFO(got);
    CHECK(count(got, "HTTP/1.1 ") == 3);
    const auto up = got.find("200 OK"), missing = got.find("404"), uuids = got.find("\"uuids\"");
    CHECK(up < missing);
    CHECK(missing < uuids);
    CHECK(uuids != std::string::npos);
  }

  TEST_CASE("deleting the database ends its open feeds") {
    ServerProcess s;
    s.put("/db");
    write(s, "db", "a");
    RawClient cont(s.port());
    cont.get("/db/_changes?feed=continuous&heartbeat=100");
    REQUIRE(cont.wait_for("\"id\":\"a\""));
    RawClient poll(s.port());
    poll.get("/db/_changes?feed=longpoll&since=now&heartbeat=100");
    REQUIRE(poll.read_until([&] { return !poll.body().empty(); }, milliseconds(3000)));
    REQUIRE(s.del("/db").status == 200);
    REQUIRE(cont.read_all(milliseconds(5000)));
    CHECK(lines_of(cont.body()).back() == "{\"last_seq\":1,\"pending\":0}");
    REQUIRE(poll.read_all(milliseconds(5000)));
    CHECK(parse(poll.body())["results"].Size() == 0);
    CHECK(s.get("/db/_changes?feed=continuous").status == 404);
  }

  TEST_CASE("HEAD of any feed answers at once without a body") {
    ServerProcess s;
    s.put("/db");
    auto start = steady_clock::now();
    for (const char* feed : {"normal", "longpoll", "continuous", "eventsource"}) {
      Resp r = s.request("HEAD", std::string("/db/_changes?heartbeat=100&since=now&feed=") + feed);
      CHECK_MESSAGE(r.status == 200, feed);
      CHECK(r.body.empty());
    }
    CHECK(ms_since(start) < 3000);
  }

  TEST_CASE("a client that goes away ends its feed at the next heartbeat") {
    ServerProcess s;
    s.put("/db");
    // The server logs a request when its response ends.
    auto feed_ended = [&s] { return s.log().find("GET /db/_changes 200") != std::string::npos; };
    {
      RawClient gone(s.port());
      gone.get("/db/_changes?feed=continuous&heartbeat=50");
      REQUIRE(gone.read_until([&] { return count(gone.body(), "\n") >= 1; }, milliseconds(3000)));
      CHECK(!feed_ended());
    }  // closed
    auto deadline = steady_clock::now() + milliseconds(5000);
    while (!feed_ended() && steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(10));
    CHECK(feed_ended());
  }
}
