// divan/replication_scheduler.h: replications described as CouchDB
// describes them (a `POST /_replicate` body or a `_replicator` document),
// run in the background, listed, and cancelled.
//
// ReplicationScheduler runs jobs on threads of their own and lists them
// (for `_active_tasks` and `_scheduler/jobs`). ReplicatorDatabase watches a
// `_replicator` database: a document there starts a job, deleting it stops
// the job, and the job's state is written back into the document. Neither
// knows HTTP: peers come from a PeerFactory, which the server (or an
// embedding application) supplies, e.g. one that makes HTTP peers for URLs
// and local peers for database names.
//
// Thread-safety: every member function of both classes may be called from
// any thread.

#ifndef DIVAN_REPLICATION_SCHEDULER_H_
#define DIVAN_REPLICATION_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/data_dir.h"
#include "divan/peer.h"
#include "divan/replicator.h"
#include "divan/status.h"

namespace divan {

// How an HTTP peer presents its credentials (those of the URL or of the
// options) to the server.
enum class PeerAuth {
  // `Authorization: Basic ...` on every request.
  kBasic,
  // A cookie session, as CouchDB's replicator does: POST /_session once
  // (form-encoded name and password), then `Cookie: AuthSession=...`
  // instead of Basic; logs in again once on a 401, adopts any new
  // AuthSession cookie a response sets, and falls back to Basic when the
  // server has no /_session (404 or 405).
  kSession,
};

// One end of a replication as a request names it.
struct PeerEndpoint {
  std::string url;  // "http://..." (or https), or the name of a local database
  std::map<std::string, std::string> headers;
  // Credentials from `auth.basic` (auth kBasic) or `auth.cookie` (auth
  // kSession) of the request; unset: those of the URL, if any.
  std::optional<std::string> username, password;
  PeerAuth auth = PeerAuth::kBasic;
};

// A replication request: CouchDB's `POST /_replicate` body.
struct ReplicationSpec {
  PeerEndpoint source, target;
  ReplicationOptions options;  // continuous, create_target, doc_ids, since_seq, ...
  bool cancel = false;
  std::optional<std::string> replication_id;  // names the job to cancel
  // Who asked for the job (a user name; empty: nobody in particular), as
  // `_active_tasks` shows it. Set by the caller, never parsed.
  std::string owner;
};

// Parses a `POST /_replicate` body or a `_replicator` document. Reads
// source and target (a string, or an object with `url`, `headers` and
// `auth.basic.username/password` or `auth.cookie.username/password`, the
// latter for a cookie session, see PeerAuth), continuous, create_target, doc_ids,
// filter ("_doc_ids" only), since_seq, use_checkpoints, worker_batch_size,
// cancel and replication_id; ignores other members and `_`-prefixed ones.
// Errors: bad_request naming what is wrong (missing source or target, a
// member of the wrong type, a filter or selector divan cannot run).
Result<ReplicationSpec> parse_replication_spec(std::string_view json);

// ---- Credentials as shown ----
// A replication names secrets in three places: the password of a URL, an
// `auth.<kind>.password` (basic, cookie) of an endpoint, and an endpoint's
// Authorization or Cookie header. Whatever shows a replication (a
// `_replicator` document read back, logs, job lists) shows each as "*****",
// as CouchDB does. The functions are pure; any thread may call them.

// `url` with its password (if any) replaced by "*****":
// "http://bob:*****@host:5984/db". A string that does not look like a URL
// with credentials is returned unchanged.
std::string redact_url(std::string_view url);

// A `_replicator` document (or a `POST /_replicate` body) as JSON text,
// with the secrets of `source` and `target` (string or `{"url":...}` form)
// replaced by "*****": URL passwords, every `auth.*.password`, and the
// values of headers named Authorization or Cookie (in any case). Text that
// is not a JSON object, or holds no secret, is returned unchanged;
// otherwise the result is compact JSON with the members in their order.
std::string redact_replication_doc(std::string_view json);

// The inverse for a client that read a redacted document, edited it and
// writes it back: returns `new_json` with each secret that it holds as
// exactly "*****" replaced by the one `current_json` (the stored document)
// has in the same place, where that endpoint's URL is unchanged but for the
// redacted password (and, for `auth.*.password`, its username too), so
// that a secret never goes to a server or user it was not given for.
// Unchanged when nothing is restored, or either text is not a JSON object.
std::string restore_redacted_credentials(std::string_view new_json,
                                         std::string_view current_json);

// Makes the peer for an endpoint. Errors: bad_request for an endpoint it
// cannot reach (e.g. a URL in a build without HTTP).
using PeerFactory = std::function<Result<std::unique_ptr<Peer>>(const PeerEndpoint&)>;

// A Unix time in microseconds as "2026-11-26T09:00:00Z", the form
// `_scheduler` and `_replicator` documents show times in.
std::string iso8601_utc(std::int64_t micros);

// A PeerFactory for local database names only (what an embedded build
// without HTTP can reach).
PeerFactory local_peer_factory(DataDir& dir);

struct ReplicationJobInfo {
  // The base replication id plus "+continuous" and "+create_target" when
  // set, as CouchDB names jobs.
  std::string id;
  std::string doc_id;          // its `_replicator` document; empty otherwise
  std::string source, target;  // the peers' id(): no passwords
  std::string owner;           // ReplicationSpec::owner
  bool continuous = false;
  ReplicationState state = ReplicationState::kInitializing;
  Status error;  // the error that ended it, or the one being retried
  ReplicationStats stats;
  std::int64_t start_time = 0;   // microseconds since the Unix epoch
  std::int64_t update_time = 0;  // last state change or batch
};

struct SchedulerOptions {
  // Identifies this node in replication ids (usually DataDir::uuid()).
  std::string replicator_id;
  // Passed to every job (tests shorten the backoff).
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  std::shared_ptr<Clock> clock;  // null: the system clock
};

class ReplicationScheduler {
 public:
  // Called on the job's thread when a job changes state or finishes (state
  // kCompleted, kFailed or kCancelled is its last call).
  using Listener = std::function<void(const ReplicationJobInfo&)>;

  ReplicationScheduler(PeerFactory factory, SchedulerOptions options);
  // Cancels every job and waits for their threads.
  ~ReplicationScheduler();
  ReplicationScheduler(const ReplicationScheduler&) = delete;
  ReplicationScheduler& operator=(const ReplicationScheduler&) = delete;

  // The job id `spec` gets (without contacting the peers). Errors: the
  // factory's.
  Result<std::string> job_id(const ReplicationSpec& spec);

  // Starts `spec` in the background and returns its job id. If a job with
  // that id is running already, returns its id and starts nothing.
  Result<std::string> start(const ReplicationSpec& spec, std::string doc_id = {},
                            Listener listener = {});

  // Runs a one-shot `spec` on the caller's thread, listed in jobs()
  // meanwhile. If the same job is running already, waits for it and
  // returns its result. Errors: as Replication::run(); a job ended by
  // cancel() (or by the scheduler stopping) returns with `cancelled` set.
  Result<ReplicationResult> run(const ReplicationSpec& spec);

  // Cancels a running job and waits (up to 10 s) until it has ended, so
  // that jobs() no longer lists it and it can be started again. Errors:
  // not_found.
  Status cancel(std::string_view job_id);

  // The running jobs, oldest first.
  std::vector<ReplicationJobInfo> jobs() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

// Runs the replications described by the documents of a `_replicator`
// database (CouchDB §6.14): a new or changed document starts its job, a
// deleted one cancels it; design and `_local` documents are ignored. The
// job's state goes back into its document: `_replication_state`
// ("triggered", "crashing", "completed", "error" or "failed"),
// `_replication_state_time`, `_replication_state_reason` (errors),
// `_replication_id` and, when completed, `_replication_stats`. Documents
// whose state is "completed" or "failed" are not run again, so a restart
// resumes exactly the jobs that had not finished.
class ReplicatorDatabase {
 public:
  // Creates the database if missing and starts every pending job.
  // `dir` and `scheduler` must outlive the returned object.
  static Result<std::unique_ptr<ReplicatorDatabase>> start(DataDir& dir,
                                                           ReplicationScheduler& scheduler,
                                                           std::string db_name = "_replicator");
  // Stops watching and cancels the jobs it started.
  ~ReplicatorDatabase();
  ReplicatorDatabase(const ReplicatorDatabase&) = delete;
  ReplicatorDatabase& operator=(const ReplicatorDatabase&) = delete;

 private:
  class Impl;
  explicit ReplicatorDatabase(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace divan

#endif  // DIVAN_REPLICATION_SCHEDULER_H_
