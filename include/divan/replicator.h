// divan/replicator.h: CouchDB's replication protocol between two peers.
//
// A Replication copies every leaf revision (with its history) that the
// source has and the target lacks, so conflicts arrive as conflicts. It
// reads the source's changes feed in batches, asks the target which
// revisions it lacks (revs_diff), fetches those from the source (bulk_get)
// and writes them to the target with new_edits=false. After every batch it
// writes the same checkpoint document `_local/<replication id>` to both
// sides, in CouchDB's shape, so a later run with the same source, target
// and filter starts where this one stopped. Replication is one-directional;
// a sync is two replications.
//
//   std::unique_ptr<DataDir> dir = ...;
//   auto job = Replication::create(make_local_peer(*dir, "a"),
//                                  make_local_peer(*dir, "b"), {});
//   Result<ReplicationResult> r = (*job)->run();
//
// Thread-safety: run() is called once, by one thread; cancel(), stats() and
// state() may be called from any thread meanwhile.

#ifndef DIVAN_REPLICATOR_H_
#define DIVAN_REPLICATOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "divan/options.h"
#include "divan/peer.h"
#include "divan/status.h"

namespace divan {

struct ReplicationStats {
  std::uint64_t docs_read = 0;           // revisions fetched from the source
  std::uint64_t docs_written = 0;        // revisions the target took
  std::uint64_t doc_write_failures = 0;  // revisions the target refused
  std::uint64_t missing_checked = 0;     // revisions asked about in revs_diff
  std::uint64_t missing_found = 0;       // of those, revisions the target lacked
  std::uint64_t changes_read = 0;        // change rows read from the source
  std::string start_last_seq = "0";      // JSON text: where this run started
  std::string end_last_seq = "0";        // JSON text: checkpointed so far
  std::string session_id;
  // The source's update_seq when last read, for progress (JSON text).
  std::string source_update_seq = "0";
  // The last sequence read from the source's changes feed (JSON text), and
  // how many changes the source had after it, as its feed said (unknown
  // until a source tells).
  std::string read_seq = "0";
  std::optional<std::uint64_t> changes_pending;
  std::uint64_t checkpoints = 0;  // checkpoints written in this run
  std::uint64_t retries = 0;      // transient failures that were retried
};

enum class ReplicationState {
  kInitializing,  // not started, or checking the peers
  kRunning,       // copying, or (continuous) waiting for changes
  kRetrying,      // waiting out a backoff after a transient error
  kCompleted,     // a one-shot run finished
  kFailed,        // stopped by an error that retrying cannot fix
  kCancelled,
};
std::string_view replication_state_name(ReplicationState state);

struct ReplicationOptions {
  // Keep following the source's changes until cancel().
  bool continuous = false;
  // Create the target database first if it does not exist.
  bool create_target = false;
  // Only these documents (filter=_doc_ids). Empty: all documents.
  std::vector<std::string> doc_ids;
  // With no usable checkpoint, start here instead of at the beginning
  // (JSON text). Part of the replication id.
  std::optional<std::string> since_seq;
  // Change rows per batch (CouchDB's worker_batch_size is 500).
  std::uint64_t batch_size = 500;
  // Read and write checkpoints. Without them every run starts from the
  // beginning (or since_seq); revs_diff still keeps it from copying twice.
  bool use_checkpoints = true;
  // Transient errors (connection refused or broken, timeouts, 5xx) are
  // retried with exponential backoff from the last checkpoint: the first
  // wait is initial_backoff, doubling up to max_backoff. A one-shot run
  // gives up after max_retries in a row, and at once on other errors; a
  // continuous run retries every error and never gives up.
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  int max_retries = 5;
  // A continuous run waits this long for a change per changes request.
  std::chrono::milliseconds feed_wait{std::chrono::seconds(10)};
  // Part of the replication id: whoever runs the replication (CouchDB uses
  // the uuid of the node that runs it). Usually DataDir::uuid().
  std::string replicator_id;
  // Time (checkpoint history times) and randomness (session ids); null:
  // the system's.
  std::shared_ptr<Clock> clock;
  std::shared_ptr<RandomSource> random;
  // Called on run()'s thread after every batch and state change.
  std::function<void(const ReplicationStats&, ReplicationState)> on_progress;
};

struct ReplicationResult {
  ReplicationStats stats;
  // True when the source had nothing the target lacked.
  bool no_changes = false;
  // True when cancel() ended the run. A one-shot run then stopped before it
  // finished: the target may lack some of what the source had.
  bool cancelled = false;
  // The checkpoint document as last written (CouchDB's shape: session_id,
  // source_last_seq, replication_id_version, history), JSON text; with no
  // checkpoint written, the same fields for this run.
  std::string checkpoint_json;
};

class Replication {
 public:
  ~Replication();
  Replication(const Replication&) = delete;
  Replication& operator=(const Replication&) = delete;

  // Errors: bad_request (options that cannot work, e.g. batch_size 0).
  // The peers are checked by run(), not here.
  static Result<std::unique_ptr<Replication>> create(std::unique_ptr<Peer> source,
                                                     std::unique_ptr<Peer> target,
                                                     ReplicationOptions options);

  // The base replication id, 32 hex digits: an MD5 over replicator_id,
  // both peers' id(), doc_ids and since_seq. The checkpoint documents are
  // `_local/<replication_id()>` on both sides.
  const std::string& replication_id() const;

  // Replicates. A one-shot run returns when the target has everything the
  // source had when the run read its last batch; a continuous run returns
  // only after cancel(). A run ended by cancel() returns an ok result with
  // `cancelled` set (and the state kCancelled). Errors: the peer's
  // (not_found for a missing database, unauthorized, forbidden, bad_request
  // for a peer that is not a CouchDB-style server), io_error after
  // max_retries transient failures, bad_request for a malformed answer. A
  // failed run leaves the checkpoint as the last completed batch wrote it.
  Result<ReplicationResult> run();

  // Stops run() soon (any thread; idempotent).
  void cancel();

  ReplicationStats stats() const;
  ReplicationState state() const;
  // The error that ended the run, or the last transient one being retried.
  Status last_error() const;

 private:
  class Impl;
  explicit Replication(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace divan

#endif  // DIVAN_REPLICATOR_H_
