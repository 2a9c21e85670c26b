// The replicator between two databases of this process (LocalPeer), with
// peers that fail on purpose to check retries, resuming and bad answers.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "divan/data_dir.h"
#include "local_side.h"
#include "scenarios.h"
#include "test_util.h"

using namespace divan;
using divan::testing::LocalSide;
using divan::testing::Side;
using divan::testing::TempDir;

namespace {

using Fixture = divan::testing::LocalDir;

// A peer that passes every call to another, after asking `fault` whether
// this call (named by method) should fail instead.
class FaultyPeer final : public Peer {
 public:
  using Fault = std::function<Status(const std::string& method)>;
  FaultyPeer(std::unique_ptr<Peer> inner, Fault fault) : inner_(std::move(inner)), fault_(std::move(fault)) {}
  std::string id() const override { return inner_->id(); }
  Result<PeerInfo> info() override { return call("info", [&] { return inner_->info(); }); }
  Status create() override {
    if (Status s = fault_("create"); !s.is_ok()) return s;
    return inner_->create();
  }
  Result<PeerChanges> changes(const PeerChangesOptions& o) override {
    return call("changes", [&] { return inner_->changes(o); });
  }
  Result<std::vector<RevsDiffEntry>> revs_diff(const std::vector<RevsDiffRequest>& r) override {
    return call("revs_diff", [&] { return inner_->revs_diff(r); });
  }
  Result<std::vector<BulkGetResult>> bulk_get(const std::vector<BulkGetRequest>& r) override {
    auto got = call("bulk_get", [&] { return inner_->bulk_get(r); });
    if (got.is_ok() && on_bulk_get) on_bulk_get(*got);
    return got;
  }
  // Changes the answers of bulk_get before the replicator sees them.
  std::function<void(std::vector<BulkGetResult>&)> on_bulk_get;
  Result<std::vector<DocResult>> bulk_docs(const std::vector<std::string>& docs) override {
    return call("bulk_docs", [&] { return inner_->bulk_docs(docs); });
  }
  Result<std::string> ensure_full_commit() override {
    return call("ensure_full_commit", [&] { return inner_->ensure_full_commit(); });
  }
  Result<std::optional<std::string>> get_local(std::string_view id) override {
    return call("get_local", [&] { return inner_->get_local(id); });
  }
  Result<std::string> put_local(std::string_view id, std::string_view json) override {
    return call("put_local", [&] { return inner_->put_local(id, json); });
  }
  void interrupt() override { inner_->interrupt(); }

 private:
  template <typename F>
  auto call(const char* method, F f) -> decltype(f()) {
    if (Status s = fault_(method); !s.is_ok()) return s;
    return f();
  }
  std::unique_ptr<Peer> inner_;
  Fault fault_;
};

Status transient(const std::string& what) { return Status::io_error(what + ": connection reset", true); }

ReplicationOptions fast_retries() {
  ReplicationOptions o;
  o.replicator_id = "test";
  o.initial_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(4);
  return o;
}

}  // namespace

TEST_SUITE("replicator") {
  TEST_CASE("a one-shot replication copies every document, and a second run has nothing to do") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    testing::scenario_one_shot(a, b);
  }

  TEST_CASE("conflicts made on both sides survive a sync in both directions") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    testing::scenario_conflicts_both_ways(a, b);
  }

  TEST_CASE("doc_ids replicates only the listed documents") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    testing::scenario_doc_ids(a, b);
  }

  TEST_CASE("the checkpoint document has CouchDB's shape on both sides") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    testing::scenario_checkpoint_shape(a, b);
  }

  TEST_CASE("a continuous replication follows the source until cancelled") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    testing::scenario_continuous(a, b);
  }

  TEST_CASE("create_target makes a missing target; without it a missing database is not_found") {
    Fixture f;
    LocalSide a(*f.dir, "a");
    a.put(R"({"_id":"x"})");
    ReplicationOptions o;
    o.replicator_id = "test";
    {
      auto job = Replication::create(a.peer(), make_local_peer(*f.dir, "nope"), o);
      REQUIRE(job.is_ok());
      auto r = (*job)->run();
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kNotFound);
      CHECK(r.status().reason().find("nope") != std::string::npos);
      CHECK((*job)->state() == ReplicationState::kFailed);
    }
    {
      auto job = Replication::create(make_local_peer(*f.dir, "nosource"), a.peer(), o);
      REQUIRE(job.is_ok());
      auto r = (*job)->run();
      REQUIRE_FALSE(r.is_ok());
      CHECK(r.status().code() == ErrorCode::kNotFound);
    }
    CHECK_FALSE(f.dir->open_database("nope").is_ok());
    o.create_target = true;
    auto job = Replication::create(a.peer(), make_local_peer(*f.dir, "nope"), o);
    REQUIRE(job.is_ok());
    auto r = (*job)->run();
    REQUIRE(r.is_ok());
    LocalSide made(*f.dir, "nope", false);
    testing::check_same(a, made);
  }

  TEST_CASE("a stopped replication resumes from its checkpoint, redoing at most one batch") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    for (int i = 0; i < 100; ++i) a.put(R"({"_id":"r)" + std::to_string(1000 + i) + R"("})");
    ReplicationOptions o = fast_retries();
    o.batch_size = 10;
    o.max_retries = 0;
    int writes = 0;
    auto faulty = std::make_unique<FaultyPeer>(b.peer(), [&](const std::string& m) {
      // The 5th batch's write fails after the first four were checkpointed.
      if (m == "bulk_docs" && ++writes == 5) return Status::io_error("killed", true);
      return Status::ok();
    });
    auto job = Replication::create(a.peer(), std::move(faulty), o);
    REQUIRE(job.is_ok());
    auto r = (*job)->run();
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().transient());
    CHECK((*job)->stats().docs_written == 40);
    CHECK(b.ids().size() == 40);

    ReplicationResult second = testing::replicate(a, b, o);
    CHECK(second.stats.changes_read == 60);  // not one of the first 40 again
    CHECK(second.stats.docs_written == 60);
    testing::check_same(a, b);
  }

  TEST_CASE("transient errors are retried with backoff until the run completes") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    for (int i = 0; i < 25; ++i) a.put(R"({"_id":"t)" + std::to_string(i) + R"("})");
    ReplicationOptions o = fast_retries();
    o.batch_size = 10;
    int calls = 0;
    auto faulty = std::make_unique<FaultyPeer>(a.peer(), [&](const std::string& m) {
      ++calls;
      // Fail every method once, in turn: each failure ends a session.
      static const char* kOrder[] = {"info", "get_local", "changes", "bulk_get", "ensure_full_commit"};
      static int next = 0;
      if (next < 5 && m == kOrder[next]) return transient(kOrder[next++]);
      return Status::ok();
    });
    auto job = Replication::create(std::move(faulty), b.peer(), o);
    REQUIRE(job.is_ok());
    auto r = (*job)->run();
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    CHECK(r->stats.retries == 5);
    CHECK(r->stats.docs_written == 25);
    testing::check_same(a, b);
  }

  TEST_CASE("a one-shot run gives up after max_retries transient failures in a row") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    a.put(R"({"_id":"x"})");
    ReplicationOptions o = fast_retries();
    o.max_retries = 3;
    int infos = 0;
    auto faulty = std::make_unique<FaultyPeer>(a.peer(), [&](const std::string& m) {
      if (m == "info") {
        ++infos;
        return transient("info");
      }
      return Status::ok();
    });
    auto job = Replication::create(std::move(faulty), b.peer(), o);
    REQUIRE(job.is_ok());
    auto r = (*job)->run();
    REQUIRE_FALSE(r.is_ok());
    CHECK(infos == 4);
    CHECK((*job)->state() == ReplicationState::kFailed);
    CHECK((*job)->last_error().reason().find("connection reset") != std::string::npos);
  }

  TEST_CASE("a bad answer from a peer fails the run and leaves the target and checkpoint alone") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    a.put(R"({"_id":"x"})");
    testing::replicate(a, b, fast_retries());
    auto job0 = Replication::create(a.peer(), b.peer(), fast_retries());
    std::string rep_id = (*job0)->replication_id();
    std::string checkpoint = b.get_local(rep_id);
    REQUIRE(!checkpoint.empty());
    a.put(R"({"_id":"y"})");
    auto faulty = std::make_unique<FaultyPeer>(a.peer(), [&](const std::string& m) {
      if (m == "bulk_get") return Status::bad_request("the answer of _bulk_get is not JSON");
      return Status::ok();
    });
    auto job = Replication::create(std::move(faulty), b.peer(), fast_retries());
    auto r = (*job)->run();
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kBadRequest);
    CHECK((*job)->stats().retries == 0);
    CHECK(b.leaves("y") == "missing");
    CHECK(b.get_local(rep_id) == checkpoint);
    CHECK(a.get_local(rep_id).find((*job)->stats().session_id) == std::string::npos);
  }

  TEST_CASE("a revision the source cannot read fails the batch; one deleted meanwhile is skipped") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    a.put(R"({"_id":"x"})");
    a.put(R"({"_id":"y"})");
    for (ErrorCode code : {ErrorCode::kForbidden, ErrorCode::kNotFound}) {
      auto faulty = std::make_unique<FaultyPeer>(a.peer(), [](const std::string&) { return Status::ok(); });
      faulty->on_bulk_get = [code](std::vector<BulkGetResult>& results) {
        for (auto& r : results) {
          if (r.id == "x") {
            r.docs.clear();
            r.error = Status(code, "cannot read x");
          }
        }
      };
      auto job = Replication::create(std::move(faulty), b.peer(), fast_retries());
      auto r = (*job)->run();
      if (code == ErrorCode::kForbidden) {
        REQUIRE_FALSE(r.is_ok());
        CHECK(r.status().code() == ErrorCode::kForbidden);
        CHECK(b.leaves("y") == "missing");
      } else {
        REQUIRE(r.is_ok());
        CHECK(r->stats.docs_written == 1);
        CHECK(b.leaves("y") != "missing");
        CHECK(b.leaves("x") == "missing");
      }
    }
  }

  TEST_CASE("cancel stops a continuous replication waiting for changes") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    ReplicationOptions o = fast_retries();
    o.continuous = true;
    o.feed_wait = std::chrono::seconds(60);
    auto job = Replication::create(a.peer(), b.peer(), o);
    REQUIRE(job.is_ok());
    std::atomic<bool> done{false};
    std::thread runner([&] {
      auto r = (*job)->run();
      CHECK(r.is_ok());
      if (r.is_ok()) CHECK(r->cancelled);
      done = true;
    });
    CHECK(testing::eventually([&] { return (*job)->state() == ReplicationState::kRunning; }));
    auto t0 = std::chrono::steady_clock::now();
    (*job)->cancel();
    runner.join();
    CHECK(done);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
    CHECK((*job)->state() == ReplicationState::kCancelled);
  }

  TEST_CASE("progress tells how far the feed was read and how many changes the source has left") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    for (int i = 0; i < 10; ++i) a.put(R"({"_id":"d)" + std::to_string(i) + R"("})");
    ReplicationOptions o = fast_retries();
    o.batch_size = 3;
    std::vector<std::uint64_t> pending;
    std::vector<std::string> read;
    std::uint64_t changes_read = 0;
    o.on_progress = [&](const ReplicationStats& s, ReplicationState) {
      if (s.changes_read == changes_read) return;  // a change of state, not a batch
      changes_read = s.changes_read;
      CHECK(s.changes_pending.has_value());
      pending.push_back(s.changes_pending.value_or(999));
      read.push_back(s.read_seq);
    };
    auto job = Replication::create(a.peer(), b.peer(), o);
    REQUIRE(job.is_ok());
    CHECK_FALSE((*job)->stats().changes_pending.has_value());  // nothing read yet
    auto r = (*job)->run();
    REQUIRE(r.is_ok());
    CHECK(pending == std::vector<std::uint64_t>{7, 4, 1, 0});
    CHECK(read == std::vector<std::string>{"3", "6", "9", "10"});
    CHECK(r->stats.changes_pending == std::optional<std::uint64_t>(0));
    CHECK(r->stats.read_seq == "10");
    CHECK(r->stats.end_last_seq == "10");

    // A later run starts from the checkpoint, and says so before it reads.
    a.put(R"({"_id":"more"})");
    std::optional<std::string> first_read;
    ReplicationOptions again = fast_retries();
    again.on_progress = [&](const ReplicationStats& s, ReplicationState state) {
      if (state == ReplicationState::kRunning && !first_read) first_read = s.read_seq;
    };
    auto second = Replication::create(a.peer(), b.peer(), again);
    REQUIRE(second.is_ok());
    auto r2 = (*second)->run();
    REQUIRE(r2.is_ok());
    CHECK(first_read == std::optional<std::string>("10"));
    CHECK(r2->stats.read_seq == "11");
  }

  TEST_CASE("a continuous replication's source_update_seq follows the source, not only its start") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    a.put(R"({"_id":"one"})");
    ReplicationOptions o = fast_retries();
    o.continuous = true;
    o.feed_wait = std::chrono::milliseconds(50);
    auto job = Replication::create(a.peer(), b.peer(), o);
    REQUIRE(job.is_ok());
    std::thread runner([&] { CHECK((*job)->run().is_ok()); });
    CHECK(testing::eventually([&] { return (*job)->stats().docs_written == 1; }));
    CHECK((*job)->stats().source_update_seq == "1");
    a.put(R"({"_id":"two"})");
    a.put(R"({"_id":"three"})");
    CHECK(testing::eventually([&] { return (*job)->stats().docs_written == 3; }));
    CHECK(testing::eventually([&] { return (*job)->stats().source_update_seq == "3"; }));
    (*job)->cancel();
    runner.join();
  }

  TEST_CASE("a continuous replication retries even a missing target, and copies once it exists") {
    Fixture f;
    LocalSide a(*f.dir, "a");
    a.put(R"({"_id":"x"})");
    ReplicationOptions o = fast_retries();
    o.continuous = true;
    o.feed_wait = std::chrono::milliseconds(100);
    auto job = Replication::create(a.peer(), make_local_peer(*f.dir, "later"), o);
    REQUIRE(job.is_ok());
    std::thread runner([&] { (void)(*job)->run(); });
    CHECK(testing::eventually([&] { return (*job)->stats().retries >= 2; }));
    CHECK((*job)->state() != ReplicationState::kFailed);
    CHECK((*job)->last_error().code() == ErrorCode::kNotFound);
    LocalSide later(*f.dir, "later");
    CHECK(testing::eventually([&] { return later.leaves("x") != "missing"; }));
    (*job)->cancel();
    runner.join();
    CHECK((*job)->state() == ReplicationState::kCancelled);
  }

  TEST_CASE("the replication id is stable and changes with the source, target, doc_ids and since_seq") {
    Fixture f;
    auto id = [&](const std::string& s, const std::string& t, ReplicationOptions o) {
      o.replicator_id = "node";
      auto job = Replication::create(make_local_peer(*f.dir, s), make_local_peer(*f.dir, t), o);
      REQUIRE(job.is_ok());
      return (*job)->replication_id();
    };
    ReplicationOptions plain, ids, since;
    ids.doc_ids = {"a"};
    since.since_seq = "5";
    CHECK(id("a", "b", plain) == id("a", "b", plain));
    CHECK(id("a", "b", plain) != id("b", "a", plain));
    CHECK(id("a", "b", plain) != id("a", "c", plain));
    CHECK(id("a", "b", plain) != id("a", "b", ids));
    CHECK(id("a", "b", plain) != id("a", "b", since));
    ReplicationOptions continuous;
    continuous.continuous = true;
    CHECK(id("a", "b", plain) == id("a", "b", continuous));
  }

  TEST_CASE("options that cannot work are refused") {
    Fixture f;
    auto make = [&](ReplicationOptions o) {
      return Replication::create(make_local_peer(*f.dir, "a"), make_local_peer(*f.dir, "b"), o).status();
    };
    ReplicationOptions o;
    o.batch_size = 0;
    CHECK(make(o).code() == ErrorCode::kBadRequest);
    o = {};
    o.doc_ids = {""};
    CHECK(make(o).code() == ErrorCode::kBadRequest);
    o = {};
    o.initial_backoff = std::chrono::milliseconds(0);
    CHECK(make(o).code() == ErrorCode::kBadRequest);
    CHECK(Replication::create(nullptr, make_local_peer(*f.dir, "b"), {}).status().code() ==
          ErrorCode::kBadRequest);
  }

  TEST_CASE("since_seq starts a replication without checkpoint part-way") {
    Fixture f;
    LocalSide a(*f.dir, "a"), b(*f.dir, "b");
    for (int i = 0; i < 10; ++i) a.put(R"({"_id":"s)" + std::to_string(i) + R"("})");
    ReplicationOptions o;
    o.since_seq = "6";
    ReplicationResult r = testing::replicate(a, b, o);
    CHECK(r.stats.docs_written == 4);
    CHECK(r.stats.start_last_seq == "6");
    CHECK(r.stats.end_last_seq == "10");
  }

  TEST_CASE("a local peer rejects a malformed since and reports a missing revision") {
    Fixture f;
    LocalSide a(*f.dir, "a");
    std::string rev = a.put(R"({"_id":"x"})");
    auto peer = a.peer();
    PeerChangesOptions co;
    co.since = "\"abc\"";
    CHECK(peer->changes(co).status().code() == ErrorCode::kBadRequest);
    co.since = "\"0\"";
    CHECK(peer->changes(co).is_ok());
    auto got = peer->bulk_get({{"x", rev, {}}, {"x", "9-00000000000000000000000000000000", {}}, {"nope", rev, {}}});
    REQUIRE(got.is_ok());
    REQUIRE(got->size() == 3);
    CHECK((*got)[0].error.is_ok());
    REQUIRE((*got)[0].docs.size() == 1);
    CHECK((*got)[0].docs[0].find("\"_revisions\":{\"start\":1") != std::string::npos);
    CHECK((*got)[1].error.code() == ErrorCode::kNotFound);
    CHECK((*got)[2].error.code() == ErrorCode::kNotFound);
    auto failed = peer->bulk_docs({R"({"_id":"ok","_rev":"1-00000000000000000000000000000001"})",
                                   R"({"_id":"bad"})"});
    REQUIRE(failed.is_ok());
    REQUIRE(failed->size() == 1);
    CHECK((*failed)[0].status.code() == ErrorCode::kBadRequest);
    CHECK(a.leaves("ok") != "missing");
    peer->interrupt();
    CHECK_FALSE(peer->info().is_ok());
  }
}
