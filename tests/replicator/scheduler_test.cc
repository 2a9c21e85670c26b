// Replication requests (parse_replication_spec), the scheduler's
// background jobs, and the `_replicator` database, between local databases.
#include <doctest/doctest.h>

#include "divan/data_dir.h"
#include "divan/replication_scheduler.h"
#include "local_side.h"
#include "test_util.h"

using namespace divan;
using divan::testing::eventually;
using divan::testing::TempDir;

namespace {

struct Node : divan::testing::LocalDir {
  std::unique_ptr<ReplicationScheduler> scheduler;
  Node() { start_scheduler(); }
  void start_scheduler() {
    SchedulerOptions o;
    o.replicator_id = dir->uuid();
    o.initial_backoff = std::chrono::milliseconds(5);
    o.max_backoff = std::chrono::milliseconds(50);
    scheduler = std::make_unique<ReplicationScheduler>(local_peer_factory(*dir), o);
  }
  std::shared_ptr<Database> db(const std::string& name) {
    auto d = dir->open_database(name);
    if (!d.is_ok()) d = dir->create_database(name);
    REQUIRE(d.is_ok());
    return *d;
  }
  std::string put(const std::string& name, const std::string& json) {
    auto r = db(name)->put(json);
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    return r->rev;
  }
  bool has(const std::string& name, const std::string& id) {
    auto d = dir->open_database(name);
    return d.is_ok() && (*d)->get(id).is_ok();
  }
  std::string body(const std::string& name, const std::string& id) {
    auto d = db(name)->get(id);
    return d.is_ok() ? d->to_json() : "";
  }
};

ReplicationSpec spec(const std::string& json) {
  auto s = parse_replication_spec(json);
  INFO(s.status().to_string());
  REQUIRE(s.is_ok());
  return *s;
}

}  // namespace

TEST_SUITE("replicator") {
  TEST_CASE("a _replicate body is parsed with CouchDB's fields") {
    ReplicationSpec s = spec(R"({"source":"http://u:p@h:5984/a","target":{"url":"b","headers":{"X-A":"1"},)"
                             R"("auth":{"basic":{"username":"bob","password":"pw"}}},"continuous":true,)"
                             R"("create_target":true,"doc_ids":["x","y"],"filter":"_doc_ids","since_seq":"7-g1",)"
                             R"("worker_batch_size":50,"use_checkpoints":false,"_id":"ignored"})");
    CHECK(s.source.url == "http://u:p@h:5984/a");
    CHECK(s.target.url == "b");
    CHECK(s.target.headers.at("X-A") == "1");
    CHECK(s.target.username == std::optional<std::string>("bob"));
    CHECK(s.target.password == std::optional<std::string>("pw"));
    CHECK(s.target.auth == PeerAuth::kBasic);
    CHECK(s.options.continuous);
    CHECK(s.options.create_target);
    CHECK(s.options.doc_ids == std::vector<std::string>{"x", "y"});
    CHECK(s.options.since_seq == std::optional<std::string>("\"7-g1\""));
    CHECK(s.options.batch_size == 50);
    CHECK_FALSE(s.options.use_checkpoints);
    ReplicationSpec c = spec(R"({"replication_id":"abc+continuous","cancel":true})");
    CHECK(c.cancel);
    CHECK(c.replication_id == std::optional<std::string>("abc+continuous"));
    CHECK(spec(R"({"source":"a","target":"b","since_seq":12})").options.since_seq ==
          std::optional<std::string>("12"));
  }

  TEST_CASE("auth.cookie asks for a cookie session with its credentials") {
    ReplicationSpec s = spec(R"({"source":{"url":"https://h/a","auth":{"cookie":{"username":"ann","password":"pw"}}},)"
                             R"("target":"b"})");
    CHECK(s.source.auth == PeerAuth::kSession);
    CHECK(s.source.username == std::optional<std::string>("ann"));
    CHECK(s.source.password == std::optional<std::string>("pw"));
    CHECK(s.target.auth == PeerAuth::kBasic);
    CHECK_FALSE(s.target.username);
  }

  TEST_CASE("a malformed or unsupported _replicate body is a bad_request naming the problem") {
    struct Case {
      const char* body;
      const char* reason;
    };
    for (const Case& c : {Case{"", "valid JSON"}, Case{"[]", "JSON object"}, Case{R"({"target":"b"})", "source"},
                          Case{R"({"source":"a"})", "target"}, Case{R"({"source":1,"target":"b"})", "source"},
                          Case{R"({"source":{"url":2},"target":"b"})", "source.url"},
                          Case{R"({"source":"a","target":"b","continuous":"yes"})", "continuous"},
                          Case{R"({"source":"a","target":"b","doc_ids":"x"})", "doc_ids"},
                          Case{R"({"source":"a","target":"b","doc_ids":[""]})", "doc_ids"},
                          Case{R"({"source":"a","target":"b","filter":"app/by_type"})", "not supported"},
                          Case{R"({"source":"a","target":"b","filter":"_doc_ids"})", "doc_ids"},
                          Case{R"({"source":"a","target":"b","selector":{"a":1}})", "selector"},
                          Case{R"({"source":"a","target":"b","worker_batch_size":0})", "worker_batch_size"},
                          Case{R"({"source":"a","target":{"url":"b","auth":{"basic":{"username":"x"}}}})",
                               "auth.basic"},
                          Case{R"({"source":"a","target":{"url":"b","auth":{"cookie":{"password":"x"}}}})",
                               "auth.cookie"},
                          Case{R"({"source":"a","target":{"url":"b","auth":{"digest":{}}}})", "auth"},
                          Case{R"({"source":"","target":"b"})", "empty"}}) {
      INFO(c.body);
      auto s = parse_replication_spec(c.body);
      REQUIRE_FALSE(s.is_ok());
      CHECK(s.status().code() == ErrorCode::kBadRequest);
      CHECK(s.status().reason().find(c.reason) != std::string::npos);
    }
  }

  TEST_CASE("the scheduler runs a continuous job in the background, lists it and cancels it") {
    Node n;
    n.put("a", R"({"_id":"one"})");
    auto id = n.scheduler->start(spec(R"({"source":"a","target":"b","continuous":true,"create_target":true})"));
    REQUIRE(id.is_ok());
    CHECK(id->size() == 32 + std::string("+continuous+create_target").size());
    CHECK(id->substr(32) == "+continuous+create_target");
    CHECK(eventually([&] { return n.has("b", "one"); }));
    n.put("a", R"({"_id":"two"})");
    CHECK(eventually([&] { return n.has("b", "two"); }));
    auto jobs = n.scheduler->jobs();
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].id == *id);
    CHECK(jobs[0].source == "a");
    CHECK(jobs[0].target == "b");
    CHECK(jobs[0].continuous);
    CHECK(jobs[0].stats.docs_written == 2);
    CHECK(eventually([&] { return n.scheduler->jobs()[0].state == ReplicationState::kRunning; }));
    // Starting the same job again starts nothing new.
    CHECK(*n.scheduler->start(spec(R"({"source":"a","target":"b","continuous":true,"create_target":true})")) == *id);
    CHECK(n.scheduler->jobs().size() == 1);
    CHECK(n.scheduler->cancel(*id).is_ok());
    // Gone once cancel returns, and it can be started again at once.
    CHECK(n.scheduler->jobs().empty());
    CHECK(n.scheduler->cancel(*id).code() == ErrorCode::kNotFound);
    auto again = n.scheduler->start(spec(R"({"source":"a","target":"b","continuous":true,"create_target":true})"));
    REQUIRE(again.is_ok());
    CHECK(*again == *id);
    n.put("a", R"({"_id":"three"})");
    CHECK(eventually([&] { return n.has("b", "three"); }));
    CHECK(n.scheduler->cancel(*id).is_ok());
    CHECK(n.scheduler->jobs().empty());
  }

  TEST_CASE("the scheduler runs a one-shot job on the caller's thread") {
    Node n;
    for (int i = 0; i < 5; ++i) n.put("a", R"({"_id":"d)" + std::to_string(i) + R"("})");
    n.db("b");
    auto r = n.scheduler->run(spec(R"({"source":"a","target":"b"})"));
    REQUIRE(r.is_ok());
    CHECK(r->stats.docs_written == 5);
    CHECK(n.scheduler->jobs().empty());
    auto missing = n.scheduler->run(spec(R"({"source":"a","target":"nope"})"));
    CHECK(missing.status().code() == ErrorCode::kNotFound);
    auto url = n.scheduler->run(spec(R"({"source":"http://127.0.0.1:1/a","target":"b"})"));
    CHECK(url.status().code() == ErrorCode::kBadRequest);
    CHECK(url.status().reason().find("without HTTP") != std::string::npos);
  }

  TEST_CASE("a _replicator document runs its replication and records the outcome") {
    Node n;
    for (int i = 0; i < 3; ++i) n.put("src", R"({"_id":"d)" + std::to_string(i) + R"("})");
    auto rdb = ReplicatorDatabase::start(*n.dir, *n.scheduler);
    REQUIRE(rdb.is_ok());
    n.put("_replicator", R"({"_id":"once","source":"src","target":"dst","create_target":true})");
    CHECK(eventually([&] { return n.body("_replicator", "once").find(R"("_replication_state":"completed")") != std::string::npos; }));
    std::string doc = n.body("_replicator", "once");
    CHECK(doc.find(R"("docs_written":3)") != std::string::npos);
    CHECK(doc.find(R"("_replication_id":")") != std::string::npos);
    CHECK(n.has("dst", "d2"));

    // An invalid document fails with a reason; a design document is ignored.
    n.put("_replicator", R"({"_id":"bad","source":"src"})");
    n.put("_replicator", R"({"_id":"_design/x","source":"src","target":"other"})");
    CHECK(eventually([&] { return n.body("_replicator", "bad").find(R"("_replication_state":"failed")") != std::string::npos; }));
    CHECK(n.body("_replicator", "bad").find("Missing `target` field") != std::string::npos);
    CHECK(n.body("_replicator", "_design/x").find("_replication_state") == std::string::npos);

    // A job that cannot reach its target reports an error.
    n.put("_replicator", R"({"_id":"nowhere","source":"src","target":"missing"})");
    CHECK(eventually([&] { return n.body("_replicator", "nowhere").find(R"("_replication_state":"error")") != std::string::npos; }));
    CHECK(n.body("_replicator", "nowhere").find("missing") != std::string::npos);
  }

  TEST_CASE("a continuous _replicator job runs until its document is deleted, and survives a restart") {
    Node n;
    n.put("src", R"({"_id":"first"})");
    n.db("dst");
    auto rdb = ReplicatorDatabase::start(*n.dir, *n.scheduler);
    REQUIRE(rdb.is_ok());
    std::string rev = n.put("_replicator", R"({"_id":"live","source":"src","target":"dst","continuous":true})");
    CHECK(eventually([&] { return n.has("dst", "first"); }));
    CHECK(eventually([&] { return n.body("_replicator", "live").find(R"("_replication_state":"triggered")") != std::string::npos; }));
    n.put("src", R"({"_id":"second"})");
    CHECK(eventually([&] { return n.has("dst", "second"); }));

    // "Restart the server": drop the watcher and the scheduler, write
    // meanwhile, start them again.
    rdb->reset();
    n.scheduler.reset();
    n.put("src", R"({"_id":"while_down"})");
    CHECK_FALSE(n.has("dst", "while_down"));
    n.start_scheduler();
    rdb = ReplicatorDatabase::start(*n.dir, *n.scheduler);
    REQUIRE(rdb.is_ok());
    CHECK(eventually([&] { return n.has("dst", "while_down"); }));
    REQUIRE(n.scheduler->jobs().size() == 1);
    CHECK(n.scheduler->jobs()[0].doc_id == "live");
    // The restarted job resumed from its checkpoint.
    CHECK(n.scheduler->jobs()[0].stats.start_last_seq != "0");

    // Deleting the document stops the job.
    std::string body = n.body("_replicator", "live");
    rev = body.substr(body.find("\"_rev\":\"") + 8, 34);
    REQUIRE(n.db("_replicator")->remove("live", rev).is_ok());
    CHECK(eventually([&] { return n.scheduler->jobs().empty(); }));
    n.put("src", R"({"_id":"after_delete"})");
    n.put("src", R"({"_id":"sentinel"})");
    // Nothing follows the source any more (checked against a fresh one-shot
    // replication into another database, which does see the write).
    REQUIRE(n.scheduler->run(spec(R"({"source":"src","target":"probe","create_target":true})")).is_ok());
    CHECK(n.has("probe", "after_delete"));
    CHECK_FALSE(n.has("dst", "after_delete"));
  }
}
