// LocalPeer: the Peer of a database in this process, over the public
// Database API, with no HTTP in between.

#include <atomic>
#include <condition_variable>
#include <charconv>
#include <mutex>

#include "divan/peer.h"

namespace divan {
namespace {

// Our own sequences are integers; accept them as JSON numbers or strings
// ("12", as a seq that went through a string-typed store).
Result<std::uint64_t> parse_seq(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::bad_request("Malformed sequence: " + std::string(text));
  }
  return v;
}

class LocalPeer final : public Peer {
 public:
  LocalPeer(DataDir& dir, std::string name) : dir_(dir), name_(std::move(name)) {}

  std::string id() const override { return name_; }

  Result<PeerInfo> info() override {
    auto db = database();
    if (!db) return db.status();
    auto info = (*db)->info();
    if (!info) return info.status();
    PeerInfo out;
    out.db_name = info->db_name;
    out.update_seq = std::to_string(info->update_seq);
    out.instance_start_time = info->instance_start_time;
    out.server_uuid = dir_.uuid();
    out.vendor = "divan";
    return out;
  }

  Status create() override {
    if (Status s = check(); !s.is_ok()) return s;
    auto db = dir_.create_database(name_);
    if (db.is_ok()) {
      db_ = *db;
      return Status::ok();
    }
    if (db.status().code() == ErrorCode::kFileExists) return Status::ok();
    return db.status();
  }

  Result<PeerChanges> changes(const PeerChangesOptions& options) override {
    auto db = database();
    if (!db) return db.status();
    auto since = parse_seq(options.since);
    if (!since) return since.status();
    ChangesOptions o;
    o.since = *since;
    o.limit = options.limit;
    o.style = ChangesStyle::kAllDocs;
    if (!options.doc_ids.empty()) {
      o.filter = ChangesFilter::kDocIds;
      o.doc_ids = options.doc_ids;
    }
    const auto deadline = std::chrono::steady_clock::now() + options.wait;
    for (;;) {
      auto r = (*db)->changes(o);
      if (!r) return r.status();
      if (!r->rows.empty() || options.wait.count() <= 0 ||
          std::chrono::steady_clock::now() >= deadline) {
        return to_peer_changes(*r);
      }
      // Nothing yet (or only changes the filter drops): wait for the
      // next write, then read again from where this read ended.
      o.since = r->last_seq;
      if (Status s = wait_past(**db, r->last_seq, deadline); !s.is_ok()) return s;
    }
  }

  Result<std::vector<RevsDiffEntry>> revs_diff(const std::vector<RevsDiffRequest>& request) override {
    auto db = database();
    if (!db) return db.status();
    return (*db)->revs_diff(request);
  }

  Result<std::vector<BulkGetResult>> bulk_get(const std::vector<BulkGetRequest>& request) override {
    auto db = database();
    if (!db) return db.status();
    std::vector<BulkGetResult> out;
    out.reserve(request.size());
    for (const auto& req : request) {
      if (Status s = check(); !s.is_ok()) return s;
      BulkGetResult r;
      r.id = req.id;
      r.rev = req.rev;
      OpenRevsOptions o;
      o.revs = {req.rev};
      o.latest = true;
      o.revs_history = true;
      auto revs = (*db)->open_revs(req.id, o);
      if (!revs) {
        r.error = revs.status();
      } else {
        for (const auto& rev : *revs) {
          if (rev.ok) r.docs.push_back(rev.ok->to_json());
        }
        if (r.docs.empty()) r.error = Status::not_found("missing");
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  Result<std::vector<DocResult>> bulk_docs(const std::vector<std::string>& docs) override {
    auto db = database();
    if (!db) return db.status();
    if (docs.empty()) return std::vector<DocResult>();
    BulkDocsOptions o;
    o.new_edits = false;
    auto results = (*db)->bulk_docs(join(docs.begin(), docs.end()), o);
    std::vector<DocResult> failed;
    if (results.is_ok()) {
      for (auto& r : *results) {
        if (!r.status.is_ok()) failed.push_back(std::move(r));
      }
      return failed;
    }
    // A transient failure is the whole call's, to be retried. Otherwise one
    // malformed or oversized document failed the whole call; write them one
    // at a time so the others still land and each failure is named.
    if (results.status().transient()) return results.status();
    if (docs.size() == 1) {
      failed.push_back(DocResult{"", "", results.status()});
      return failed;
    }
    for (auto it = docs.begin(); it != docs.end(); ++it) {
      auto one = (*db)->bulk_docs(join(it, it + 1), o);
      if (!one.is_ok()) {
        if (one.status().transient()) return one.status();
        failed.push_back(DocResult{"", "", one.status()});
        continue;
      }
      for (auto& r : *one) {
        if (!r.status.is_ok()) failed.push_back(std::move(r));
      }
    }
    return failed;
  }

  Result<std::string> ensure_full_commit() override {
    // Every acknowledged write is already durable (unless the data folder
    // was opened with sync off, where there is nothing stronger to ask for).
    auto db = database();
    if (!db) return db.status();
    auto info = (*db)->info();
    if (!info) return info.status();
    return info->instance_start_time;
  }

  Result<std::optional<std::string>> get_local(std::string_view id) override {
    auto db = database();
    if (!db) return db.status();
    auto doc = (*db)->get("_local/" + std::string(id));
    if (!doc) {
      if (doc.status().code() == ErrorCode::kNotFound) return std::optional<std::string>();
      return doc.status();
    }
    return std::optional<std::string>(doc->to_json());
  }

  Result<std::string> put_local(std::string_view id, std::string_view json) override {
    auto db = database();
    if (!db) return db.status();
    PutOptions o;
    o.id = "_local/" + std::string(id);
    auto r = (*db)->put(json, o);
    if (!r) return r.status();
    return r->rev;
  }

  void interrupt() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      interrupted_ = true;
    }
    cv_.notify_all();
  }

 private:
  Status check() {
    std::lock_guard<std::mutex> lock(mu_);
    if (interrupted_) return Status::io_error("interrupted");
    return Status::ok();
  }

  Result<std::shared_ptr<Database>> database() {
    if (Status s = check(); !s.is_ok()) return s;
    if (db_) return db_;
    auto db = dir_.open_database(name_);
    if (!db) {
      if (db.status().code() == ErrorCode::kNotFound) {
        return Status::not_found("Database does not exist: " + name_);
      }
      return db.status();
    }
    db_ = *db;
    return db_;
  }

  // Waits until the database's update_seq passes `seq`, the deadline
  // passes, or interrupt() is called. update_seq() is read without mu_ held:
  // the change callback runs under the notifier's lock and takes mu_, so
  // the reverse order could deadlock.
  Status wait_past(Database& db, std::uint64_t seq, std::chrono::steady_clock::time_point deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = false;
    }
    Subscription sub = db.subscribe([this](std::uint64_t) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        woken_ = true;
      }
      cv_.notify_all();
    });
    // A write before the subscription is seen here, any later one sets woken_.
    if (db.update_seq() <= seq) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, deadline, [&] { return interrupted_ || woken_; });
    }
    sub.reset();
    if (Status s = check(); !s.is_ok()) return s;
    return Status::ok();
  }

  template <typename It>
  static std::string join(It begin, It end) {
    std::string out = "[";
    for (It it = begin; it != end; ++it) {
      if (it != begin) out += ',';
      out += *it;
    }
    out += ']';
    return out;
  }

  static PeerChanges to_peer_changes(const ChangesResult& r) {
    PeerChanges out;
    out.rows.reserve(r.rows.size());
    for (const auto& row : r.rows) {
      PeerChange c;
      c.seq = std::to_string(row.seq);
      c.id = row.id;
      c.revs = row.changes;
      c.deleted = row.deleted;
      out.rows.push_back(std::move(c));
    }
    out.last_seq = std::to_string(r.last_seq);
    out.pending = r.pending;
    return out;
  }

  DataDir& dir_;
  const std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
  bool woken_ = false;  // a change since wait_past() subscribed
  // Only the peer's user touches db_ (a Peer is used by one thread at a
  // time); mu_ guards what interrupt() and change callbacks share.
  std::shared_ptr<Database> db_;
};

}  // namespace

std::unique_ptr<Peer> make_local_peer(DataDir& dir, std::string name) {
  return std::make_unique<LocalPeer>(dir, std::move(name));
}

}  // namespace divan
