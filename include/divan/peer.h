// divan/peer.h: one end of a replication, as the replicator sees it.
//
// The replicator reaches every database, in this process or on another
// server, through this interface, so one algorithm serves local<->local,
// local<->remote and remote<->remote. Every call handles a whole batch.
// make_local_peer() (here, in the replicator library) wraps a database of a
// DataDir; make_http_peer() (divan/http_peer.h, only in builds with HTTP)
// speaks CouchDB's HTTP API to a remote database.
//
// Sequences are opaque: a peer hands them out as JSON text (`12` from
// divan, `"12-g1AAAA..."` from a CouchDB cluster) and takes them back the
// same way. The replicator stores them, compares them for equality, and
// never does arithmetic on them.
//
// Thread-safety: a Peer is used by one thread at a time, except
// interrupt(), which any thread may call at any time.

#ifndef DIVAN_PEER_H_
#define DIVAN_PEER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/data_dir.h"
#include "divan/document.h"
#include "divan/status.h"

namespace divan {

// What a peer says about itself and its database.
struct PeerInfo {
  std::string db_name;
  std::string update_seq = "0";  // JSON text
  // Changes when the database is deleted and made again (or, on CouchDB,
  // "0"); checkpoints are only trusted while it stays the same.
  std::string instance_start_time;
  std::string server_uuid;  // empty when the server does not tell
  std::string vendor;       // e.g. "divan", "The Apache Software Foundation"
  std::string version;      // the server's CouchDB API version
};

struct PeerChangesOptions {
  std::string since = "0";  // JSON text, as a previous row or last_seq gave it
  std::uint64_t limit = 500;
  std::vector<std::string> doc_ids;  // not empty: filter=_doc_ids
  // Zero: answer at once. Otherwise, when nothing has changed since
  // `since`, wait up to this long for a change (longpoll); an answer with no
  // rows then means the wait timed out.
  std::chrono::milliseconds wait{0};
};

// A row of the changes feed with style=all_docs: every leaf revision.
struct PeerChange {
  std::string seq;  // JSON text
  std::string id;
  std::vector<std::string> revs;
  bool deleted = false;
};

struct PeerChanges {
  std::vector<PeerChange> rows;
  std::string last_seq;  // JSON text
  // How many changes after last_seq the answer left out (CouchDB's
  // `pending`), when the peer says.
  std::optional<std::uint64_t> pending;
};

// One revision to fetch with its history (`_bulk_get?revs=true&latest=true`).
struct BulkGetRequest {
  std::string id;
  std::string rev;
  std::vector<std::string> atts_since;  // possible ancestors, for attachments
};

struct BulkGetResult {
  std::string id;
  std::string rev;
  // Each is a whole document as JSON text, with `_id`, `_rev`,
  // `_revisions` and `_deleted` when it is a tombstone. With latest, a rev
  // that has been extended yields its leaf (or leaves) instead.
  std::vector<std::string> docs;
  Status error;  // not_found when the revision is missing; docs then empty
};

class Peer {
 public:
  virtual ~Peer() = default;
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // A stable name for this end, the same on every run, used in the
  // replication id: the database name for a local peer; for a remote one
  // the URL without its password.
  virtual std::string id() const = 0;

  // The database's info. Errors: not_found (no such database; the reason
  // names it), unauthorized, forbidden, bad_request (the peer is not a
  // CouchDB-style server), io_error (transient when it may work later:
  // connection refused or broken, timeout, 5xx).
  virtual Result<PeerInfo> info() = 0;

  // Creates the database if it does not exist (`create_target`). Ok when it
  // exists already. Errors as info().
  virtual Status create() = 0;

  // The changes feed, style=all_docs, from options.since. Errors as info().
  virtual Result<PeerChanges> changes(const PeerChangesOptions& options) = 0;

  // For each id, which of the given revisions the database lacks, and their
  // possible ancestors. Ids with nothing missing are left out.
  virtual Result<std::vector<RevsDiffEntry>> revs_diff(
      const std::vector<RevsDiffRequest>& request) = 0;

  // Reads the given revisions with their history, latest=true. One result
  // per request, in order. Errors (of the whole call) as info().
  virtual Result<std::vector<BulkGetResult>> bulk_get(const std::vector<BulkGetRequest>& request) = 0;

  // Writes whole documents (JSON text, as bulk_get returns them) with
  // new_edits=false: each revision and its history are merged into the
  // document's tree. Returns the documents that failed, with their errors;
  // empty when all were written. Errors (of the whole call) as info().
  virtual Result<std::vector<DocResult>> bulk_docs(const std::vector<std::string>& docs) = 0;

  // Makes every write so far durable. Returns the instance_start_time.
  virtual Result<std::string> ensure_full_commit() = 0;

  // The `_local/<id>` document as JSON text (with `_id` and `_rev`), or
  // nullopt when there is none. `id` is without the "_local/" prefix.
  virtual Result<std::optional<std::string>> get_local(std::string_view id) = 0;

  // Writes `_local/<id>`; `json` is the whole document, with the `_rev` read
  // last (if any). Returns the new `_rev`. Errors: conflict, and as info().
  virtual Result<std::string> put_local(std::string_view id, std::string_view json) = 0;

  // Makes a call blocked in this peer (a changes wait, a slow request)
  // return soon with an error, and every later call fail at once. Any
  // thread; idempotent.
  virtual void interrupt() = 0;

 protected:
  Peer() = default;
};

// A peer over the database `name` of `dir`, opened on first use (create()
// makes it). `dir` must outlive the peer. Never fails: a missing database
// shows as not_found from info().
std::unique_ptr<Peer> make_local_peer(DataDir& dir, std::string name);

}  // namespace divan

#endif  // DIVAN_PEER_H_
