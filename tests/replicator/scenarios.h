// Replication scenarios that run the same way whatever the peers are:
// tests/replicator runs them local<->local, tests/http local<->remote and
// remote<->remote. A Side is one database as the test sees it: a way to
// make a Peer for the replicator, and plain reads and writes to set up and
// check the data without the replicator.
#ifndef DIVAN_TESTS_REPLICATOR_SCENARIOS_H_
#define DIVAN_TESTS_REPLICATOR_SCENARIOS_H_

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "divan/replicator.h"

namespace divan::testing {

class Side {
 public:
  virtual ~Side() = default;
  virtual std::unique_ptr<Peer> peer() = 0;
  // An interactive write; returns the new rev.
  virtual std::string put(const std::string& json) = 0;
  // A write with new_edits=false (to make conflicts).
  virtual void put_replicated(const std::string& json) = 0;
  // "<winner rev> <sorted _conflicts> <sorted _deleted_conflicts>" for the
  // document, or "missing".
  virtual std::string leaves(const std::string& id) = 0;
  // The ids of every document, deleted ones included (from the changes feed).
  virtual std::vector<std::string> ids() = 0;
  virtual std::string get_local(const std::string& id) = 0;  // "" when missing
};

// Runs a one-shot replication and returns its result (failing the test
// when it fails).
inline ReplicationResult replicate(Side& source, Side& target, ReplicationOptions o = {}) {
  if (o.replicator_id.empty()) o.replicator_id = "test";
  auto job = Replication::create(source.peer(), target.peer(), o);
  REQUIRE(job.is_ok());
  auto r = (*job)->run();
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  CHECK((*job)->state() == ReplicationState::kCompleted);
  return *r;
}

// Every document of `a` and `b` has the same winner and conflicts.
inline void check_same(Side& a, Side& b) {
  auto ids_a = a.ids();
  auto ids_b = b.ids();
  std::sort(ids_a.begin(), ids_a.end());
  std::sort(ids_b.begin(), ids_b.end());
  REQUIRE(ids_a == ids_b);
  for (const auto& id : ids_a) {
    INFO("document " << id);
    CHECK(a.leaves(id) == b.leaves(id));
  }
}

// Waits up to `timeout` for `pred`; never sleeps longer than needed.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// --- the scenarios ---------------------------------------------------------

// Documents, updates and deletions arrive; a second run finds nothing to do.
inline void scenario_one_shot(Side& source, Side& target) {
  std::string rev_b;
  for (int i = 0; i < 30; ++i) {
    std::string rev = source.put(R"({"_id":"doc)" + std::to_string(i) + R"(","n":)" +
                                 std::to_string(i) + "}");
    if (i == 1) rev_b = rev;
  }
  source.put(R"({"_id":"doc1","_rev":")" + rev_b + R"(","n":"edited"})");
  source.put(R"({"_id":"doc2","_rev":")" + source.leaves("doc2").substr(0, 34) +
             R"(","_deleted":true})");
  source.put(R"({"_id":"_design/app","views":{}})");
  ReplicationOptions o;
  o.batch_size = 7;
  ReplicationResult r = replicate(source, target, o);
  CHECK(r.stats.docs_written == 31);
  CHECK(r.stats.docs_read == 31);
  CHECK(r.stats.missing_found == 31);
  CHECK(r.stats.doc_write_failures == 0);
  CHECK_FALSE(r.no_changes);
  CHECK_FALSE(r.cancelled);
  check_same(source, target);

  ReplicationResult again = replicate(source, target, o);
  CHECK(again.no_changes);
  CHECK(again.stats.docs_written == 0);
  CHECK(again.stats.changes_read == 0);
}

// Conflicting edits on both sides, synced both ways: both sides end with the
// same winner and the same conflicts for every document.
inline void scenario_conflicts_both_ways(Side& a, Side& b) {
  std::vector<std::string> first;
  for (int i = 0; i < 10; ++i) first.push_back(a.put(R"({"_id":"c)" + std::to_string(i) + R"(","v":0})"));
  replicate(a, b);
  check_same(a, b);
  for (int i = 0; i < 10; ++i) {
    std::string id = "c" + std::to_string(i);
    const std::string& rev = first[i];
    a.put(R"({"_id":")" + id + R"(","_rev":")" + rev + R"(","side":"a"})");
    if (i % 3 == 0) {
      b.put(R"({"_id":")" + id + R"(","_rev":")" + rev + R"(","_deleted":true})");
    } else {
      std::string r2 = b.put(R"({"_id":")" + id + R"(","_rev":")" + rev + R"(","side":"b"})");
      b.put(R"({"_id":")" + id + R"(","_rev":")" + r2 + R"(","side":"b2"})");
    }
  }
  // A third branch that only one side had, written as a replicator would.
  b.put_replicated(R"({"_id":"c1","_rev":"2-ffffffffffffffffffffffffffffffff","x":1,)"
                   R"("_revisions":{"start":2,"ids":["ffffffffffffffffffffffffffffffff",")" +
                   first[1].substr(2) + R"("]}})");
  replicate(a, b);
  replicate(b, a);
  check_same(a, b);
  // Each document has its conflicts on both sides.
  for (int i = 1; i < 10; ++i) {
    if (i % 3 == 0) continue;
    INFO("document c" << i);
    std::string leaves = a.leaves("c" + std::to_string(i));
    CHECK(leaves.find(' ') + 1 < leaves.size());
    CHECK(leaves.substr(leaves.find(' ') + 1, 2) != "[]");
  }
}

// Only the listed documents are copied.
inline void scenario_doc_ids(Side& source, Side& target) {
  for (int i = 0; i < 20; ++i) source.put(R"({"_id":"d)" + std::to_string(i) + R"("})");
  ReplicationOptions o;
  o.doc_ids = {"d3", "d17", "nope"};
  ReplicationResult r = replicate(source, target, o);
  CHECK(r.stats.docs_written == 2);
  auto ids = target.ids();
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"d17", "d3"});
}

// The checkpoint is CouchDB's shape, the same on both sides.
inline void scenario_checkpoint_shape(Side& source, Side& target) {
  source.put(R"({"_id":"x"})");
  ReplicationOptions o;
  o.replicator_id = "test";
  auto job = Replication::create(source.peer(), target.peer(), o);
  REQUIRE(job.is_ok());
  std::string rep_id = (*job)->replication_id();
  CHECK(rep_id.size() == 32);
  auto r = (*job)->run();
  REQUIRE(r.is_ok());
  std::string s = source.get_local(rep_id);
  std::string t = target.get_local(rep_id);
  REQUIRE(!s.empty());
  REQUIRE(!t.empty());
  for (const char* field : {"\"session_id\":\"", "\"source_last_seq\":", "\"replication_id_version\":4",
                            "\"history\":[{", "\"recorded_seq\":", "\"docs_written\":1",
                            "\"missing_checked\":1", "\"start_time\":\""}) {
    INFO(field);
    CHECK(s.find(field) != std::string::npos);
    CHECK(t.find(field) != std::string::npos);
  }
  CHECK(s.find("\"session_id\":\"" + r->stats.session_id + "\"") != std::string::npos);
  CHECK(r->checkpoint_json.find(r->stats.session_id) != std::string::npos);
}

// A continuous replication copies writes as they happen, and stops when
// cancelled.
inline void scenario_continuous(Side& source, Side& target) {
  source.put(R"({"_id":"before"})");
  ReplicationOptions o;
  o.replicator_id = "test";
  o.continuous = true;
  o.feed_wait = std::chrono::milliseconds(200);
  auto job = Replication::create(source.peer(), target.peer(), o);
  REQUIRE(job.is_ok());
  Result<ReplicationResult> result = Status::internal("not run");
  std::thread runner([&] { result = (*job)->run(); });
  CHECK(eventually([&] { return target.leaves("before") != "missing"; }));
  source.put(R"({"_id":"after"})");
  CHECK(eventually([&] { return target.leaves("after") != "missing"; }));
  std::string rev = source.put(R"({"_id":"after","_rev":")" + source.leaves("after").substr(0, 34) +
                               R"(","v":2})");
  CHECK(eventually([&] { return target.leaves("after").substr(0, 34) == rev; }));
  (*job)->cancel();
  runner.join();
  REQUIRE(result.is_ok());
  CHECK((*job)->state() == ReplicationState::kCancelled);
  CHECK(result->stats.docs_written == 3);
}

}  // namespace divan::testing

#endif  // DIVAN_TESTS_REPLICATOR_SCENARIOS_H_
