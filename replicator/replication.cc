// Replication: CouchDB's replication protocol over two Peers (see
// divan/replicator.h and ../shared/docs/couchdb-semantics.md §6).
//
// A run is a series of sessions. A session checks both peers, reads the
// two checkpoints to find where to start, and copies batches until the
// source has nothing more (one-shot) or until it is cancelled
// (continuous). A transient error (a peer restarting, a broken connection)
// ends the session; after a backoff the next session starts again from the
// last checkpoint, so work is redone at most one batch back.

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>

#include "divan/replicator.h"
#include "replicator/checkpoint.h"

namespace divan {

using replicator::HistoryEntry;
using replicator::ReplicationLog;

std::string_view replication_state_name(ReplicationState state) {
  switch (state) {
    case ReplicationState::kInitializing: return "initializing";
    case ReplicationState::kRunning: return "running";
    case ReplicationState::kRetrying: return "crashing";
    case ReplicationState::kCompleted: return "completed";
    case ReplicationState::kFailed: return "failed";
    case ReplicationState::kCancelled: return "cancelled";
  }
  return "unknown";
}

class Replication::Impl {
 public:
  Impl(std::unique_ptr<Peer> source, std::unique_ptr<Peer> target, ReplicationOptions options)
      : source_(std::move(source)), target_(std::move(target)), o_(std::move(options)) {
    clock_ = o_.clock ? o_.clock.get() : Clock::system();
    random_ = o_.random ? o_.random.get() : RandomSource::system();
    rep_id_ = replicator::replication_id(o_.replicator_id, source_->id(), target_->id(),
                                         o_.doc_ids, o_.since_seq);
  }

  const std::string& replication_id() const { return rep_id_; }

  Result<ReplicationResult> run() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.session_id = new_session_id();
      start_time_ = replicator::rfc1123_date(clock_->now_micros());
    }
    auto backoff = o_.initial_backoff;
    int failures = 0;
    for (;;) {
      const std::uint64_t batches_before = batches_;
      Status s = session();
      if (cancelled()) {
        set_state(ReplicationState::kCancelled, Status::ok());
        auto r = result();
        r->cancelled = true;
        return r;
      }
      if (s.is_ok()) {
        set_state(ReplicationState::kCompleted, Status::ok());
        return result();
      }
      // A one-shot run ends on an error retrying cannot fix. A continuous
      // one is retried whatever the error, as CouchDB's scheduler does: a
      // missing database may be made, a password fixed, a peer upgraded.
      if (!s.transient() && !o_.continuous) {
        set_state(ReplicationState::kFailed, s);
        return s;
      }
      // A session that copied a batch made progress: the peers work
      // again, so the count and the wait start over.
      if (batches_ > batches_before) {
        failures = 0;
        backoff = o_.initial_backoff;
      }
      if (!o_.continuous && ++failures > o_.max_retries) {
        set_state(ReplicationState::kFailed, s);
        return s;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.retries;
      }
      set_state(ReplicationState::kRetrying, s);
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, backoff, [&] { return cancelled_; });
      backoff = std::min(backoff * 2, o_.max_backoff);
    }
  }

  void cancel() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
    source_->interrupt();
    target_->interrupt();
  }

  ReplicationStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  ReplicationState state() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }
  Status last_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_error_;
  }

 private:
  // One session: check the peers, find the start, copy batches.
  Status session() {
    set_state(ReplicationState::kInitializing, last_error());
    auto source_info = source_->info();
    if (!source_info) return source_info.status();
    if (o_.create_target) {
      if (Status s = target_->create(); !s.is_ok()) return s;
    }
    auto target_info = target_->info();
    if (!target_info) return target_info.status();
    source_start_time_ = source_info->instance_start_time;
    target_start_time_ = target_info->instance_start_time;
    update(source_info->update_seq);

    std::string seq = o_.since_seq.value_or("0");
    if (o_.use_checkpoints) {
      if (Status s = read_checkpoints(&seq); !s.is_ok()) return s;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The first session's start is the run's; later ones resume.
      if (!started_) {
        stats_.start_last_seq = seq;
        stats_.end_last_seq = seq;
        stats_.read_seq = seq;
        started_ = true;
      }
    }
    set_state(ReplicationState::kRunning, Status::ok());

    bool caught_up = false;
    for (;;) {
      if (cancelled()) return Status::ok();
      PeerChangesOptions co;
      co.since = seq;
      co.limit = o_.batch_size;
      co.doc_ids = o_.doc_ids;
      if (o_.continuous && caught_up) co.wait = o_.feed_wait;
      auto changes = source_->changes(co);
      if (!changes) return changes.status();
      note_read(*changes);
      if (changes->rows.empty()) {
        // Nothing more for now: the feed's end is the source's sequence now
        // (source_update_seq; set once per session otherwise). Record how
        // far the feed has been read (a filter may have skipped rows), then
        // finish or wait.
        if (!changes->last_seq.empty()) update(changes->last_seq);
        if (!changes->last_seq.empty() && changes->last_seq != seq) {
          seq = changes->last_seq;
          if (Status s = checkpoint(seq); !s.is_ok()) return s;
        }
        if (!o_.continuous) return Status::ok();
        caught_up = true;
        continue;
      }
      caught_up = false;
      if (Status s = copy_batch(changes->rows); !s.is_ok()) return s;
      seq = changes->rows.back().seq;
      if (Status s = checkpoint(seq); !s.is_ok()) return s;
      ++batches_;
      if (o_.on_progress) o_.on_progress(stats(), state());
    }
  }

  // Reads `_local/<id>` on both sides and picks the start sequence.
  Status read_checkpoints(std::string* seq) {
    auto src = source_->get_local(rep_id_);
    if (!src) return src.status();
    auto tgt = target_->get_local(rep_id_);
    if (!tgt) return tgt.status();
    ReplicationLog src_log, tgt_log;
    if (*src) {
      auto parsed = replicator::parse_log(**src);
      if (parsed) src_log = std::move(*parsed);
    }
    if (*tgt) {
      auto parsed = replicator::parse_log(**tgt);
      if (parsed) tgt_log = std::move(*parsed);
    }
    source_rev_ = src_log.rev;
    target_rev_ = tgt_log.rev;
    history_ = src_log.history;
    if (*src && *tgt) {
      if (auto start = replicator::choose_start_seq(src_log, tgt_log)) *seq = *start;
    }
    return Status::ok();
  }

  // revs_diff, bulk_get and bulk_docs for one batch of change rows.
  Status copy_batch(const std::vector<PeerChange>& rows) {
    std::vector<RevsDiffRequest> diff_request;
    std::map<std::string, std::size_t> index;  // one entry per id
    std::uint64_t checked = 0;
    for (const auto& row : rows) {
      if (row.id.empty() || row.revs.empty()) continue;
      auto [it, fresh] = index.emplace(row.id, diff_request.size());
      if (fresh) diff_request.push_back({row.id, {}});
      auto& revs = diff_request[it->second].revs;
      for (const auto& rev : row.revs) {
        if (std::find(revs.begin(), revs.end(), rev) == revs.end()) {
          revs.push_back(rev);
          ++checked;
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.changes_read += rows.size();
    }
    auto missing = target_->revs_diff(diff_request);
    if (!missing) return missing.status();

    std::vector<BulkGetRequest> get_request;
    for (const auto& entry : *missing) {
      for (const auto& rev : entry.missing) {
        get_request.push_back({entry.id, rev, entry.possible_ancestors});
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.missing_checked += checked;
      stats_.missing_found += get_request.size();
    }
    if (get_request.empty()) return Status::ok();

    auto fetched = source_->bulk_get(get_request);
    if (!fetched) return fetched.status();
    std::vector<std::string> docs;
    for (auto& r : *fetched) {
      if (!r.error.is_ok()) {
        // A revision gone from the source since its change row (a newer
        // edit stemmed it, or the database was compacted) is not copied,
        // as CouchDB's replicator skips it; anything else fails the batch.
        if (r.error.code() == ErrorCode::kNotFound) continue;
        return r.error;
      }
      for (auto& d : r.docs) docs.push_back(std::move(d));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.docs_read += docs.size();
    }
    if (docs.empty()) return Status::ok();
    auto failed = target_->bulk_docs(docs);
    if (!failed) return failed.status();
    std::lock_guard<std::mutex> lock(mu_);
    stats_.doc_write_failures += failed->size();
    stats_.docs_written += docs.size() - std::min(docs.size(), failed->size());
    return Status::ok();
  }

  // Records that everything up to `seq` is on the target, on both sides.
  Status checkpoint(const std::string& seq) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.end_last_seq = seq;
    }
    if (!o_.use_checkpoints) return Status::ok();
    // A database deleted and made again since the session began would
    // make the checkpoint a lie (CouchDB checks the same way).
    for (auto [peer, start] : {std::pair{target_.get(), &target_start_time_},
                               std::pair{source_.get(), &source_start_time_}}) {
      auto t = peer->ensure_full_commit();
      if (!t) return t.status();
      if (*t != *start && *t != "0" && *start != "0") {
        return Status::io_error("the database " + peer->id() + " was recreated during replication",
                                /*transient=*/true);
      }
    }
    replicator::SessionRecord rec;
    ReplicationStats st = stats();
    rec.session_id = st.session_id;
    rec.start_time = start_time_;
    rec.end_time = replicator::rfc1123_date(clock_->now_micros());
    rec.stats = &st;
    rec.recorded_seq = seq;
    std::string body = replicator::build_log(rec, history_);
    // Source first, as CouchDB does. A source we may not write to (a
    // read-only user) still replicates, just without resuming: PouchDB
    // makes the same choice.
    if (source_writable_) {
      Status s = put_checkpoint(*source_, body, &source_rev_);
      if (s.code() == ErrorCode::kForbidden || s.code() == ErrorCode::kUnauthorized) {
        source_writable_ = false;
      } else if (!s.is_ok()) {
        return s;
      }
    }
    if (Status s = put_checkpoint(*target_, body, &target_rev_); !s.is_ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint_json_ = body;
    ++stats_.checkpoints;
    return Status::ok();
  }

  Status put_checkpoint(Peer& peer, const std::string& body, std::string* rev) {
    const std::string id = "_local/" + rep_id_;
    auto r = peer.put_local(rep_id_, replicator::with_id_and_rev(body, id, *rev));
    if (!r && r.status().code() == ErrorCode::kConflict) {
      // Someone else wrote it (another run of the same replication, or
      // our own request that succeeded but whose answer was lost): take
      // its rev and write ours over it.
      auto current = peer.get_local(rep_id_);
      if (!current) return current.status();
      std::string current_rev;
      if (*current) {
        auto log = replicator::parse_log(**current);
        if (log) current_rev = log->rev;
      }
      r = peer.put_local(rep_id_, replicator::with_id_and_rev(body, id, current_rev));
    }
    if (!r) return r.status();
    *rev = *r;
    return Status::ok();
  }

  Result<ReplicationResult> result() {
    std::lock_guard<std::mutex> lock(mu_);
    ReplicationResult out;
    out.stats = stats_;
    out.no_changes = stats_.changes_read == 0;
    if (!checkpoint_json_.empty()) {
      out.checkpoint_json = checkpoint_json_;
    } else {
      replicator::SessionRecord rec;
      rec.session_id = stats_.session_id;
      rec.start_time = start_time_;
      rec.end_time = replicator::rfc1123_date(clock_->now_micros());
      rec.stats = &stats_;
      rec.recorded_seq = stats_.end_last_seq;
      out.checkpoint_json = replicator::build_log(rec, history_);
    }
    return out;
  }

  // Records how far the source's feed has been read, and what it has left.
  void note_read(const PeerChanges& changes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!changes.rows.empty()) {
      stats_.read_seq = changes.rows.back().seq;
    } else if (!changes.last_seq.empty()) {
      stats_.read_seq = changes.last_seq;
    }
    if (changes.pending) stats_.changes_pending = changes.pending;
  }

  void update(const std::string& source_update_seq) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.source_update_seq = source_update_seq;
  }

  void set_state(ReplicationState state, Status error) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (state_ == state && error.is_ok()) return;
      state_ = state;
      if (!error.is_ok()) last_error_ = std::move(error);
    }
    if (o_.on_progress) o_.on_progress(stats(), state);
  }

  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  std::string new_session_id() {
    unsigned char b[16];
    random_->fill(b, sizeof b);
    return replicator::to_hex(b, sizeof b);
  }

  std::unique_ptr<Peer> source_;
  std::unique_ptr<Peer> target_;
  const ReplicationOptions o_;
  Clock* clock_;
  RandomSource* random_;
  std::string rep_id_;

  // Session state, used only by run()'s thread.
  std::string source_start_time_, target_start_time_;
  std::string source_rev_, target_rev_;
  std::vector<HistoryEntry> history_;
  bool source_writable_ = true;
  bool started_ = false;
  std::string start_time_;
  std::uint64_t batches_ = 0;  // batches copied and checkpointed

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  ReplicationState state_ = ReplicationState::kInitializing;
  Status last_error_;
  ReplicationStats stats_;
  std::string checkpoint_json_;
};

Replication::Replication(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Replication::~Replication() = default;

Result<std::unique_ptr<Replication>> Replication::create(std::unique_ptr<Peer> source,
                                                         std::unique_ptr<Peer> target,
                                                         ReplicationOptions options) {
  if (!source || !target) return Status::bad_request("a replication needs a source and a target");
  if (options.batch_size == 0) return Status::bad_request("batch_size must be at least 1");
  if (options.max_retries < 0) return Status::bad_request("max_retries must not be negative");
  if (options.initial_backoff.count() <= 0 || options.max_backoff < options.initial_backoff) {
    return Status::bad_request("backoff must be positive, and max_backoff at least initial_backoff");
  }
  for (const auto& id : options.doc_ids) {
    if (id.empty()) return Status::bad_request("doc_ids must not hold an empty id");
  }
  auto impl = std::make_unique<Impl>(std::move(source), std::move(target), std::move(options));
  return std::unique_ptr<Replication>(new Replication(std::move(impl)));
}

const std::string& Replication::replication_id() const { return impl_->replication_id(); }
Result<ReplicationResult> Replication::run() { return impl_->run(); }
void Replication::cancel() { impl_->cancel(); }
ReplicationStats Replication::stats() const { return impl_->stats(); }
ReplicationState Replication::state() const { return impl_->state(); }
Status Replication::last_error() const { return impl_->last_error(); }

}  // namespace divan
