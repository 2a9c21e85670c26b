// The replicator over HTTP: the shared scenarios local<->remote and
// remote<->remote (real divan servers on loopback), resuming after the
// source dies, surviving a target restart, POST /_replicate, the
// _replicator database, _active_tasks, _scheduler/jobs and `divan
// replicate`.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/wait.h>

#include "divan/data_dir.h"
#include "http_side.h"
#include "raw_http.h"

using namespace divan;
using namespace divan::testing;

namespace {

ReplicationOptions quick(std::uint64_t batch = 500) {
  ReplicationOptions o;
  o.replicator_id = "test";
  o.batch_size = batch;
  o.initial_backoff = std::chrono::milliseconds(10);
  o.max_backoff = std::chrono::milliseconds(200);
  return o;
}

std::string port_of(ServerProcess& s) { return std::to_string(s.port()); }

// A database URL on loopback whose server takes connections (the kernel
// completes them) and never answers: a replication from it waits on its
// first request for the peer's 60 s timeout.
class SilentSource {
 public:
  SilentSource() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/db";
  }
  ~SilentSource() { ::close(fd_); }
  SilentSource(const SilentSource&) = delete;
  SilentSource& operator=(const SilentSource&) = delete;
  const std::string& url() const { return url_; }

 private:
  int fd_;
  std::string url_;
};

// Runs the divan binary with `args`; returns its exit status and output.
std::pair<int, std::string> run_divan(const std::vector<std::string>& args) {
  std::string cmd = std::string(std::getenv("DIVAN_BIN"));
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("replication local -> remote and remote -> local, conflicts included") {
    ServerProcess server;
    LocalDir local;
    {
      LocalSide a(*local.dir, "a");
      HttpSide b(server, "b");
      scenario_one_shot(a, b);
    }
    {
      HttpSide a(server, "c");
      LocalSide b(*local.dir, "d");
      scenario_one_shot(a, b);
    }
    LocalSide e(*local.dir, "e");
    HttpSide f(server, "f");
    scenario_conflicts_both_ways(e, f);
    LocalSide g(*local.dir, "g");
    HttpSide h(server, "h");
    scenario_doc_ids(h, g);
    LocalSide i(*local.dir, "i");
    HttpSide j(server, "j");
    scenario_checkpoint_shape(i, j);
  }

  TEST_CASE("replication between two divan servers, both ways, conflicts included") {
    ServerProcess one, two;
    HttpSide a(one, "a"), b(two, "b");
    scenario_conflicts_both_ways(a, b);
    HttpSide c(two, "c"), d(one, "d");
    scenario_one_shot(c, d);
  }

  TEST_CASE("continuous replication from a remote source follows its writes") {
    ServerProcess server;
    LocalDir local;
    HttpSide a(server, "a");
    LocalSide b(*local.dir, "b");
    scenario_continuous(a, b);
  }

  TEST_CASE("a replication stopped by its source dying resumes from the checkpoint") {
    TempDir data;
    auto source = std::make_unique<ServerProcess>(std::vector<std::string>{}, data.path());
    const int port = source->port();
    HttpSide src(*source, "src");
    std::string docs = "[";
    for (int i = 0; i < 1000; ++i) docs += std::string(i ? "," : "") + R"({"_id":"d)" + std::to_string(10000 + i) + R"(","n":)" + std::to_string(i) + "}";
    REQUIRE(source->post("/src/_bulk_docs", R"({"docs":)" + docs + "]}").status == 201);
    LocalDir local;
    LocalSide dst(*local.dir, "dst");

    ReplicationOptions o = quick(100);
    o.max_retries = 2;
    std::uint64_t written_before_kill = 0;
    o.on_progress = [&](const ReplicationStats& s, ReplicationState) {
      // Kill the source right after the 4th checkpoint: mid-way, for sure.
      if (s.checkpoints == 4 && source) {
        written_before_kill = s.docs_written;
        source->kill_now();
      }
    };
    auto job = Replication::create(src.peer(), dst.peer(), o);
    REQUIRE(job.is_ok());
    auto first = (*job)->run();
    REQUIRE_FALSE(first.is_ok());
    CHECK(first.status().transient());
    CHECK(written_before_kill == 400);
    CHECK(dst.ids().size() == 400);

    // The source comes back on the same port with the same data.
    source.reset();
    ServerProcess again({"--port", std::to_string(port)}, data.path());
    HttpSide src2(again, "src", false);
    ReplicationResult second = replicate(src2, dst, quick(100));
    CHECK(second.stats.changes_read == 600);  // not one document of the first 400 again
    CHECK(second.stats.docs_written == 600);
    check_same(src2, dst);
  }

  TEST_CASE("a continuous replication survives its target restarting") {
    TempDir data;
    auto target = std::make_unique<ServerProcess>(std::vector<std::string>{}, data.path());
    const int port = target->port();
    HttpSide dst(*target, "dst");
    LocalDir local;
    LocalSide src(*local.dir, "src");
    src.put(R"({"_id":"before"})");
    ReplicationOptions o = quick();
    o.continuous = true;
    o.feed_wait = std::chrono::milliseconds(200);
    auto job = Replication::create(src.peer(), dst.peer(), o);
    REQUIRE(job.is_ok());
    std::thread runner([&] { (void)(*job)->run(); });
    CHECK(eventually([&] { return dst.leaves("before") != "missing"; }));

    target->stop();
    src.put(R"({"_id":"while_down"})");
    CHECK(eventually([&] { return (*job)->state() == ReplicationState::kRetrying; }));
    target = std::make_unique<ServerProcess>(std::vector<std::string>{"--port", std::to_string(port)}, data.path());
    HttpSide dst2(*target, "dst", false);
    CHECK(eventually([&] { return dst2.leaves("while_down") != "missing"; }));
    src.put(R"({"_id":"after"})");
    CHECK(eventually([&] { return dst2.leaves("after") != "missing"; }));
    CHECK((*job)->stats().retries >= 1);
    (*job)->cancel();
    runner.join();
    check_same(src, dst2);
  }

  TEST_CASE("POST /_replicate runs one-shot and continuous replications and cancels them") {
    ServerProcess one, two;
    HttpSide a(one, "a");
    for (int i = 0; i < 20; ++i) a.put(R"({"_id":"p)" + std::to_string(i) + R"("})");
    const std::string src = a.url();
    const std::string dst = "http://127.0.0.1:" + port_of(two) + "/b";
    std::string body = R"({"source":")" + src + R"(","target":")" + dst + R"(","create_target":true})";
    Resp r = one.post("/_replicate", body);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto d = r.json();
    CHECK(d["ok"].GetBool());
    CHECK(d["history"][0]["docs_written"].GetUint64() == 20);
    CHECK(d["source_last_seq"].GetUint64() == 20);
    CHECK(d.HasMember("session_id"));
    HttpSide b(two, "b", false);
    check_same(a, b);
    Resp again = one.post("/_replicate", body);
    REQUIRE(again.status == 200);
    CHECK(again.json()["no_changes"].GetBool());

    // Continuous: answered at once, listed, followed, cancelled.
    std::string cbody = R"({"source":")" + src + R"(","target":")" + dst + R"(","continuous":true})";
    Resp c = one.post("/_replicate", cbody);
    REQUIRE(c.status == 202);
    std::string id = str(c.json()["_local_id"]);
    CHECK(id.size() == 32 + std::string("+continuous").size());
    a.put(R"({"_id":"live"})");
    CHECK(eventually([&] { return b.leaves("live") != "missing"; }));
    Resp tasks = one.get("/_active_tasks");
    REQUIRE(tasks.status == 200);
    auto t = tasks.json();
    REQUIRE(t.Size() == 1);
    CHECK(str(t[0]["type"]) == "replication");
    CHECK(str(t[0]["replication_id"]) == id);
    CHECK(str(t[0]["source"]) == src);
    CHECK(t[0]["docs_written"].GetUint64() >= 1);
    // CouchDB's progress fields: caught up, all three sequences agree.
    CHECK(eventually([&] {
      auto now = one.get("/_active_tasks").json();
      return now.Size() == 1 && now[0]["changes_pending"].IsUint64() &&
             now[0]["changes_pending"].GetUint64() == 0 && now[0]["source_seq"] == now[0]["through_seq"] &&
             now[0]["source_seq"] == now[0]["checkpointed_source_seq"] && now[0]["source_seq"].IsUint64() &&
             now[0]["source_seq"].GetUint64() == 21;
    }));
    Resp jobs = one.get("/_scheduler/jobs");
    REQUIRE(jobs.status == 200);
    CHECK(jobs.json()["total_rows"].GetUint64() == 1);
    CHECK(str(jobs.json()["jobs"][0]["id"]) == id);
    CHECK(str(jobs.json()["jobs"][0]["target"]) == dst);

    Resp cancel = one.post("/_replicate", R"({"replication_id":")" + id + R"(","cancel":true})");
    CHECK(cancel.status == 200);
    CHECK(eventually([&] { return one.get("/_active_tasks").json().Size() == 0; }));
    Resp twice = one.post("/_replicate", R"({"replication_id":")" + id + R"(","cancel":true})");
    CHECK(twice.status == 404);
    CHECK(str(twice.json()["error"]) == "not found");  // CouchDB's, with the space
    // Cancelling by the same body works too.
    REQUIRE(one.post("/_replicate", cbody).status == 202);
    CHECK(one.post("/_replicate", cbody.substr(0, cbody.size() - 1) + R"(,"cancel":true})").status == 200);
  }

  TEST_CASE("SIGTERM ends a one-shot POST /_replicate still waiting for its source") {
    SilentSource silent;
    const std::string source = silent.url();

    ServerProcess s;
    const int fd = connect_loopback(s.port());
    REQUIRE(fd >= 0);
    const std::string body = R"({"source":")" + source + R"(","target":"dst","create_target":true})";
    REQUIRE(send_all(fd, "POST /_replicate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the job waits for its source
    const auto start = std::chrono::steady_clock::now();
    CHECK(s.stop() == 0);
    // The job is cancelled first, so the request is answered at once, not
    // cut off with the connections still open after Server::kDrain (2 s).
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
    ResponseParser answer;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.feed(buf, static_cast<std::size_t>(n));
    CHECK(answer.ended());
    // Not the "ok" of a finished replication.
    CHECK(answer.status() == 500);
    CHECK(answer.body().find("replication_cancelled") != std::string::npos);
    ::close(fd);
  }

  TEST_CASE("a one-shot POST /_replicate cancelled by another request answers that it was cancelled") {
    SilentSource silent;
    const std::string source = silent.url();

    ServerProcess s;
    const std::string body = R"({"source":")" + source + R"(","target":"dst","create_target":true})";
    Resp answer;
    std::thread waiting([&] { answer = s.post("/_replicate", body); });
    CHECK(eventually([&] { return s.get("/_active_tasks").json().Size() == 1; }));
    Resp cancel = s.post("/_replicate", body.substr(0, body.size() - 1) + R"(,"cancel":true})");
    CHECK(cancel.status == 200);
    waiting.join();
    INFO(answer.body);
    CHECK(answer.status == 500);
    auto j = answer.json();
    REQUIRE(j.IsObject());
    CHECK(j.HasMember("reason"));
    REQUIRE(j.HasMember("error"));
    CHECK(str(j["error"]) == "replication_cancelled");
    CHECK(s.get("/_active_tasks").json().Size() == 0);
  }

  TEST_CASE("POST /_replicate answers bad requests and unreachable peers with clear errors") {
    ServerProcess one;
    HttpSide a(one, "a");
    a.put(R"({"_id":"x"})");
    struct Case {
      std::string body;
      int status;
      const char* error;
    };
    const std::string nowhere = "http://127.0.0.1:1/db";
    for (const Case& c : {Case{"{", 400, "bad_request"}, Case{R"({"source":"a"})", 400, "bad_request"},
                          Case{R"({"source":"a","target":"b","filter":"x/y"})", 400, "bad_request"},
                          Case{R"({"source":")" + a.url() + R"(","target":")" + a.url() + R"(2"})", 404, "db_not_found"},
                          Case{R"({"source":")" + nowhere + R"(","target":")" + a.url() + R"("})", 502, "replication_failed"},
                          Case{R"({"source":"ftp://x/y","target":"a"})", 400, "bad_request"}}) {
      INFO(c.body);
      Resp r = one.post("/_replicate", c.body);
      CHECK(r.status == c.status);
      CHECK(error_of(r) == c.error);
    }
    CHECK(one.get("/_replicate").status == 405);
    CHECK(one.get("/_scheduler/nope").status == 404);
  }

  TEST_CASE("a _replicator document runs its job, shows its state, survives a restart and stops when deleted") {
    TempDir data;
    ServerProcess peer;
    HttpSide src(peer, "src");
    src.put(R"({"_id":"first"})");
    HttpSide dst(peer, "dst");
    auto node = std::make_unique<ServerProcess>(std::vector<std::string>{}, data.path());
    std::string doc = R"({"source":")" + src.url() + R"(","target":")" + dst.url() + R"(","continuous":true})";
    REQUIRE(node->put("/_replicator/sync", doc).status == 201);
    CHECK(eventually([&] { return dst.leaves("first") != "missing"; }));
    CHECK(eventually([&] { return node->get("/_replicator/sync").body.find(R"("_replication_state":"triggered")") != std::string::npos; }));
    Resp docs = node->get("/_scheduler/docs");
    REQUIRE(docs.status == 200);
    CHECK(docs.body.find(R"("doc_id":"sync")") != std::string::npos);
    CHECK(docs.body.find(R"("state":"triggered")") != std::string::npos);

    // Restart the node; the job comes back and carries on from its checkpoint.
    node.reset();
    src.put(R"({"_id":"while_down"})");
    node = std::make_unique<ServerProcess>(std::vector<std::string>{}, data.path());
    CHECK(eventually([&] { return dst.leaves("while_down") != "missing"; }));
    Resp jobs = node->get("/_scheduler/jobs");
    CHECK(jobs.body.find(R"("doc_id":"sync")") != std::string::npos);

    // Delete the document: the job stops.
    std::string rev = str(node->get("/_replicator/sync").json()["_rev"]);
    REQUIRE(node->del("/_replicator/sync?rev=" + rev).status == 200);
    CHECK(eventually([&] { return node->get("/_active_tasks").json().Size() == 0; }));

    // A one-shot document completes and records its statistics.
    REQUIRE(node->put("/_replicator/once", R"({"source":")" + src.url() + R"(","target":")" + dst.url() + R"("})").status == 201);
    CHECK(eventually([&] { return node->get("/_replicator/once").body.find(R"("_replication_state":"completed")") != std::string::npos; }));
    CHECK(node->get("/_replicator/once").body.find(R"("_replication_stats":{)") != std::string::npos);
  }

  TEST_CASE("divan replicate copies between servers and reports bad arguments and peers") {
    ServerProcess one;
    HttpSide a(one, "a");
    for (int i = 0; i < 5; ++i) a.put(R"({"_id":"c)" + std::to_string(i) + R"("})");
    const std::string dst = "http://127.0.0.1:" + port_of(one) + "/copy";
    auto [status, out] = run_divan({"replicate", a.url(), dst, "--create-target"});
    INFO(out);
    CHECK(status == 0);
    CHECK(out.find("5 written") != std::string::npos);
    HttpSide copy(one, "copy", false);
    check_same(a, copy);

    auto [status2, out2] = run_divan({"replicate", a.url()});
    CHECK(status2 == 2);
    CHECK(out2.find("SOURCE and a TARGET") != std::string::npos);
    auto [status3, out3] = run_divan({"replicate", a.url() + "x", dst});
    CHECK(status3 == 1);
    CHECK(out3.find("not_found") != std::string::npos);
    auto [status4, out4] = run_divan({"replicate", "--bogus", a.url(), dst});
    CHECK(status4 == 2);
    // Local names use a data folder (no server may hold it).
    TempDir local;
    auto [status5, out5] = run_divan({"replicate", a.url(), "mine", "--create-target", "--data", local.path()});
    INFO(out5);
    CHECK(status5 == 0);
    auto [status6, out6] = run_divan({"replicate", "mine", dst, "--data", local.path(), "--quiet"});
    CHECK(status6 == 0);
  }

  TEST_CASE("divan replicate --session logs in once with the URL's credentials") {
    ServerProcess s({"--admin", "ann:pw"});
    const httplib::Headers ann = {{"Authorization", "Basic YW5uOnB3"}};  // ann:pw
    REQUIRE(s.request("PUT", "/a", "", "application/json", ann).status == 201);
    for (const char* id : {"x", "y"}) {
      REQUIRE(s.request("POST", "/a", std::string(R"({"_id":")") + id + "\"}", "application/json", ann).status == 201);
    }
    const std::string base = "http://ann:pw@127.0.0.1:" + port_of(s);
    auto [status, out] = run_divan({"replicate", base + "/a", base + "/b", "--create-target", "--session"});
    INFO(out);
    REQUIRE(status == 0);
    CHECK(out.find("2 written") != std::string::npos);
    CHECK(s.request("GET", "/b/y", "", "application/json", ann).status == 200);
    // One login per peer; every other request went with the cookie.
    const std::string log = s.log();
    std::size_t logins = 0;
    for (auto at = log.find("POST /_session 200"); at != std::string::npos; at = log.find("POST /_session 200", at + 1)) {
      ++logins;
    }
    CHECK(logins == 2);
    // A wrong password fails at the login, with the server's reason.
    auto [bad, bad_out] = run_divan({"replicate", "http://ann:no@127.0.0.1:" + port_of(s) + "/a", base + "/b", "--session"});
    CHECK(bad == 1);
    CHECK(bad_out.find("unauthorized") != std::string::npos);
  }

  TEST_CASE("a source answering garbage or 401 fails the replication and leaves target and checkpoint alone") {
    // A fake CouchDB whose _changes answer is not JSON.
    httplib::Server fake;
    fake.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"couchdb":"Welcome","version":"3.3.3"})", "application/json");
    });
    fake.Get("/db", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"db_name":"db","update_seq":"5-abc","instance_start_time":"0"})", "application/json");
    });
    fake.Get("/db/_local/.*", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content(R"({"error":"not_found","reason":"missing"})", "application/json");
    });
    fake.Get("/db/_changes", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"results":[{"seq":"1-a","id":"x","changes":[{"rev":"1-)", "application/json");
    });
    // And one whose database wants credentials the request does not have.
    fake.Get("/locked", [](const httplib::Request&, httplib::Response& res) {
      res.status = 401;
      res.set_content(R"({"error":"unauthorized","reason":"Name or password is incorrect."})", "application/json");
    });
    int port = fake.bind_to_any_port("127.0.0.1");
    std::thread t([&] { fake.listen_after_bind(); });
    LocalDir local;
    LocalSide dst(*local.dir, "dst");
    auto source = make_http_peer("http://127.0.0.1:" + std::to_string(port) + "/db");
    REQUIRE(source.is_ok());
    auto job = Replication::create(std::move(*source), dst.peer(), quick());
    auto r = (*job)->run();
    auto locked = make_http_peer("http://bob:wrong@127.0.0.1:" + std::to_string(port) + "/locked");
    REQUIRE(locked.is_ok());
    auto job2 = Replication::create(std::move(*locked), dst.peer(), quick());
    auto r2 = (*job2)->run();
    fake.stop();
    t.join();
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kBadRequest);
    CHECK(dst.ids().empty());
    CHECK(dst.get_local((*job)->replication_id()).empty());
    REQUIRE_FALSE(r2.is_ok());
    CHECK(r2.status().code() == ErrorCode::kUnauthorized);
    CHECK((*job2)->stats().retries == 0);
    CHECK(r2.status().reason().find("wrong") == std::string::npos);  // no password in errors
  }
}

TEST_SUITE("http") {
  TEST_CASE("--sync keeps a local database in sync with a central one, both ways, across restarts") {
    ServerProcess central;
    const std::string url = "http://127.0.0.1:" + port_of(central) + "/notes";
    TempDir data;
    auto node = std::make_unique<ServerProcess>(std::vector<std::string>{"--sync", "notes=" + url}, data.path());
    // The push made the central database; the local one was made too.
    HttpSide local(*node, "notes", false), remote(central, "notes", false);
    CHECK(eventually([&] { return central.get("/notes").status == 200; }));
    local.put(R"({"_id":"from_node"})");
    remote.put(R"({"_id":"from_central"})");
    CHECK(eventually([&] { return remote.leaves("from_node") != "missing"; }));
    CHECK(eventually([&] { return local.leaves("from_central") != "missing"; }));
    Resp docs = node->get("/_scheduler/docs");
    CHECK(docs.body.find(R"("doc_id":"sync:notes:pull")") != std::string::npos);
    CHECK(docs.body.find(R"("doc_id":"sync:notes:push")") != std::string::npos);

    // Restarted with the same flag, the jobs resume (not rewritten).
    node.reset();
    remote.put(R"({"_id":"while_down"})");
    node = std::make_unique<ServerProcess>(std::vector<std::string>{"--sync", "notes=" + url}, data.path());
    HttpSide local2(*node, "notes", false);
    CHECK(eventually([&] { return local2.leaves("while_down") != "missing"; }));
    CHECK(node->log().find("sync: sync:notes:pull") == std::string::npos);  // not written again
    check_same(local2, remote);
  }

  TEST_CASE("--sync refuses a malformed pair") {
    auto [status, out] = run_divan({"serve", "--sync", "notes"});
    CHECK(status == 2);
    CHECK(out.find("LOCAL_DB=URL") != std::string::npos);
    auto [status2, out2] = run_divan({"serve", "--sync", "Bad Name=http://h/db"});
    CHECK(status2 == 2);
  }
}
