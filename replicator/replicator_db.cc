// ReplicatorDatabase: the `_replicator` database as CouchDB runs it
// (couch_replicator_doc_processor), over ReplicationScheduler.
//
// One worker thread follows the database's changes feed. For each changed
// document it compares the replication fields (every member not starting
// with "_") with those of the job it started before: the same means the
// change was our own state write-back (or an edit of nothing that
// matters); different means cancel the old job and start a new one. Jobs
// report state changes on their own threads, which write them back into
// the document.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "divan/replication_scheduler.h"

namespace divan {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// The document's replication fields as canonical-enough JSON: its members
// not starting with "_", in order.
std::string spec_key(const rapidjson::Value& doc) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  for (const auto& m : doc.GetObject()) {
    if (m.name.GetStringLength() > 0 && m.name.GetString()[0] == '_') continue;
    w.Key(m.name.GetString(), m.name.GetStringLength());
    m.value.Accept(w);
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string_view state_for_doc(ReplicationState s) {
  switch (s) {
    case ReplicationState::kRunning: return "triggered";
    case ReplicationState::kRetrying: return "crashing";
    case ReplicationState::kCompleted: return "completed";
    case ReplicationState::kFailed: return "error";
    default: return {};
  }
}

}  // namespace

class ReplicatorDatabase::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(ReplicationScheduler& scheduler, std::shared_ptr<Database> db)
      : scheduler_(scheduler), db_(std::move(db)) {}

  void start() {
    std::weak_ptr<Impl> weak = weak_from_this();
    sub_ = db_->subscribe([weak](std::uint64_t) {
      if (auto self = weak.lock()) self->wake();
    });
    worker_ = std::thread([this] { loop(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
    sub_.reset();
    for (const auto& [doc_id, job] : by_doc_) {
      if (!job.job_id.empty()) (void)scheduler_.cancel(job.job_id);
    }
  }

 private:
  struct DocJob {
    std::string job_id;  // empty: nothing runs for it (finished or invalid)
    std::string key;
  };

  void wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++signals_;
    }
    cv_.notify_all();
  }

  void loop() {
    std::uint64_t done = 0;
    for (;;) {
      // update_seq() is read without mu_ held (the change callback takes
      // mu_ under the notifier's lock); a write after the read bumps signals_.
      std::uint64_t signals;
      {
        std::lock_guard<std::mutex> lock(mu_);
        signals = signals_;
      }
      if (db_->update_seq() <= done) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || signals_ != signals; });
      }
      if (stopping()) return;
      ChangesOptions o;
      o.since = done;
      o.limit = 1000;
      auto changes = db_->changes(o);
      if (!changes) return;  // the database is gone
      for (const auto& row : changes->rows) {
        if (stopping()) return;
        process(row.id, row.deleted);
      }
      done = changes->last_seq;
    }
  }

  bool stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  void process(const std::string& id, bool deleted) {
    if (id.rfind("_design/", 0) == 0) return;
    std::optional<Document> doc;
    if (!deleted) {
      auto got = db_->get(id);
      if (got.is_ok()) doc = std::move(*got);
    }
    auto it = by_doc_.find(id);
    if (!doc) {
      if (it != by_doc_.end()) {
        if (!it->second.job_id.empty()) (void)scheduler_.cancel(it->second.job_id);
        by_doc_.erase(it);
      }
      return;
    }
    rapidjson::Document parsed;
    parsed.Parse(doc->body.data(), doc->body.size());
    if (parsed.HasParseError() || !parsed.IsObject()) return;
    std::string key = spec_key(parsed);
    if (it != by_doc_.end()) {
      if (it->second.key == key) return;  // our own write-back, or nothing that matters
      if (!it->second.job_id.empty()) (void)scheduler_.cancel(it->second.job_id);
      by_doc_.erase(it);
    }
    std::string state;
    if (auto s = parsed.FindMember("_replication_state"); s != parsed.MemberEnd() && s->value.IsString()) {
      state = s->value.GetString();
    }
    DocJob& job = by_doc_[id];
    job.key = key;
    if (state == "completed" || state == "failed") return;

    auto spec = parse_replication_spec(doc->body);
    if (!spec) {
      write_state(id, key, "failed", spec.status().reason(), {}, nullptr);
      return;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    auto started = scheduler_.start(*spec, id, [weak, id, key](const ReplicationJobInfo& info) {
      auto self = weak.lock();
      if (!self) return;
      std::string_view s = state_for_doc(info.state);
      if (s.empty()) return;
      std::string reason = info.error.is_ok() ? "" : info.error.to_string();
      self->write_state(id, key, s, reason, info.id, &info.stats);
    });
    if (!started) {
      write_state(id, key, "failed", started.status().to_string(), {}, nullptr);
      return;
    }
    job.job_id = *started;
  }

  // Writes the state into the document, unless its replication fields
  // changed meanwhile (then a newer job owns it).
  void write_state(const std::string& id, const std::string& key, std::string_view state,
                   const std::string& reason, const std::string& job_id,
                   const ReplicationStats* stats) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto doc = db_->get(id);
      if (!doc) return;
      rapidjson::Document d;
      const std::string json = doc->to_json();
      d.Parse(json.data(), json.size());
      if (d.HasParseError() || !d.IsObject() || spec_key(d) != key) return;
      auto& a = d.GetAllocator();
      auto set = [&](const char* name, rapidjson::Value v) {
        if (auto m = d.FindMember(name); m != d.MemberEnd()) {
          m->value = std::move(v);
        } else {
          d.AddMember(rapidjson::Value(name, a), std::move(v), a);
        }
      };
      auto str = [&](std::string_view s) {
        return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
      };
      if (auto m = d.FindMember("_replication_state");
          m != d.MemberEnd() && m->value.IsString() && m->value.GetString() == state && reason.empty()) {
        return;  // already says so
      }
      set("_replication_state", str(state));
      set("_replication_state_time", str(iso8601_utc(Clock::system()->now_micros())));
      if (!job_id.empty()) set("_replication_id", str(job_id.substr(0, job_id.find('+'))));
      d.RemoveMember("_replication_state_reason");
      d.RemoveMember("_replication_stats");
      if (!reason.empty()) set("_replication_state_reason", str(reason));
      if (stats && state == "completed") {
        rapidjson::Value st(rapidjson::kObjectType);
        st.AddMember("revisions_checked", stats->missing_checked, a);
        st.AddMember("missing_revisions_found", stats->missing_found, a);
        st.AddMember("docs_read", stats->docs_read, a);
        st.AddMember("docs_written", stats->docs_written, a);
        st.AddMember("doc_write_failures", stats->doc_write_failures, a);
        rapidjson::Document seq;
        seq.Parse(stats->end_last_seq.data(), stats->end_last_seq.size());
        if (!seq.HasParseError()) st.AddMember("checkpointed_source_seq", rapidjson::Value(seq, a), a);
        set("_replication_stats", std::move(st));
      }
      rapidjson::StringBuffer sb;
      Writer w(sb);
      d.Accept(w);
      auto put = db_->put(std::string_view(sb.GetString(), sb.GetSize()));
      if (put.is_ok() || put.status().code() != ErrorCode::kConflict) return;
    }
  }

  ReplicationScheduler& scheduler_;
  std::shared_ptr<Database> db_;
  Subscription sub_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t signals_ = 0;  // changes notified
  std::map<std::string, DocJob> by_doc_;  // the worker's only
};

Result<std::unique_ptr<ReplicatorDatabase>> ReplicatorDatabase::start(DataDir& dir,
                                                                      ReplicationScheduler& scheduler,
                                                                      std::string db_name) {
  auto db = dir.open_database(db_name);
  if (!db && db.status().code() == ErrorCode::kNotFound) db = dir.create_database(db_name);
  if (!db && db.status().code() == ErrorCode::kFileExists) db = dir.open_database(db_name);
  if (!db) return db.status();
  auto impl = std::make_shared<Impl>(scheduler, std::move(*db));
  impl->start();
  return std::unique_ptr<ReplicatorDatabase>(new ReplicatorDatabase(std::move(impl)));
}

ReplicatorDatabase::ReplicatorDatabase(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReplicatorDatabase::~ReplicatorDatabase() { impl_->stop(); }

}  // namespace divan
