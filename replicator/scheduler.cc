// ReplicationScheduler: background replication jobs, listed and cancelled
// by id (see divan/replication_scheduler.h).

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "divan/replication_scheduler.h"

namespace divan {

std::string iso8601_utc(std::int64_t micros) {
  std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

PeerFactory local_peer_factory(DataDir& dir) {
  return [&dir](const PeerEndpoint& e) -> Result<std::unique_ptr<Peer>> {
    if (e.url.find("://") != std::string::npos) {
      return Status::bad_request("this build cannot reach " + e.url.substr(0, e.url.find("://") + 3) +
                                 " peers: it was built without HTTP");
    }
    if (Status s = DataDir::validate_database_name(e.url); !s.is_ok()) return s;
    return make_local_peer(dir, e.url);
  };
}

class ReplicationScheduler::Impl {
 public:
  Impl(PeerFactory factory, SchedulerOptions options)
      : factory_(std::move(factory)), o_(std::move(options)) {
    clock_ = o_.clock ? o_.clock.get() : Clock::system();
  }

  ~Impl() {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) job->rep->cancel();
    cv_.wait(lock, [&] { return jobs_.empty(); });
    std::list<std::thread> threads = std::move(finished_);
    lock.unlock();
    for (auto& t : threads) t.join();
  }

  // A job, built but not yet registered.
  struct Job {
    std::string id;
    std::unique_ptr<Replication> rep;
    ReplicationJobInfo info;  // the parts that do not change
    Listener listener;
    ReplicationState last_state = ReplicationState::kInitializing;
    bool finished = false;
    std::optional<Result<ReplicationResult>> result;
    std::thread thread;
  };

  Result<std::shared_ptr<Job>> make_job(const ReplicationSpec& spec, std::string doc_id,
                                        Listener listener) {
    auto source = factory_(spec.source);
    if (!source) return source.status();
    auto target = factory_(spec.target);
    if (!target) return target.status();
    auto job = std::make_shared<Job>();
    job->info.source = (*source)->id();
    job->info.target = (*target)->id();
    ReplicationOptions o = spec.options;
    o.replicator_id = o_.replicator_id;
    o.initial_backoff = o_.initial_backoff;
    o.max_backoff = std::max(o_.max_backoff, o_.initial_backoff);
    if (o_.clock) o.clock = o_.clock;
    Job* raw = job.get();
    o.on_progress = [this, raw](const ReplicationStats&, ReplicationState state) {
      progress(raw, state);
    };
    auto rep = Replication::create(std::move(*source), std::move(*target), std::move(o));
    if (!rep) return rep.status();
    job->rep = std::move(*rep);
    job->id = job->rep->replication_id();
    if (spec.options.continuous) job->id += "+continuous";
    if (spec.options.create_target) job->id += "+create_target";
    job->info.id = job->id;
    job->info.doc_id = std::move(doc_id);
    job->info.continuous = spec.options.continuous;
    job->info.owner = spec.owner;
    job->info.start_time = job->info.update_time = clock_->now_micros();
    job->listener = std::move(listener);
    return job;
  }

  Result<std::string> job_id(const ReplicationSpec& spec) {
    auto job = make_job(spec, {}, {});
    if (!job) return job.status();
    return (*job)->id;
  }

  Result<std::string> start(const ReplicationSpec& spec, std::string doc_id, Listener listener) {
    auto made = make_job(spec, std::move(doc_id), std::move(listener));
    if (!made) return made.status();
    std::shared_ptr<Job> job = *made;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::io_error("the replication scheduler is stopping");
    reap_locked();
    if (jobs_.count(job->id)) return job->id;
    jobs_[job->id] = job;
    job->thread = std::thread([this, job] {
      auto result = job->rep->run();
      finish(job, std::move(result));
    });
    return job->id;
  }

  Result<ReplicationResult> run(const ReplicationSpec& spec) {
    auto made = make_job(spec, {}, {});
    if (!made) return made.status();
    std::shared_ptr<Job> job = *made;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return Status::io_error("the replication scheduler is stopping");
      auto running = jobs_.find(job->id);
      if (running != jobs_.end()) {
        // The same replication is under way: its result is ours.
        std::shared_ptr<Job> other = running->second;
        cv_.wait(lock, [&] { return other->finished; });
        return *other->result;
      }
      jobs_[job->id] = job;
    }
    auto result = job->rep->run();
    finish(job, result);
    return result;
  }

  Status cancel(std::string_view id) {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = jobs_.find(std::string(id));
    if (it == jobs_.end()) return Status::not_found("no replication job " + std::string(id));
    std::shared_ptr<Job> job = it->second;
    job->rep->cancel();
    // As in CouchDB, a cancelled job is gone once cancel returns: no longer
    // in _active_tasks, and the same replication can be started again at
    // once (start() would otherwise answer with the dying job's id). It
    // ends at its next step, its peers' requests cut short; a job cannot
    // wait for itself.
    if (job->thread.get_id() != std::this_thread::get_id()) {
      cv_.wait_for(lock, kCancelWait, [&] { return job->finished; });
    }
    return Status::ok();
  }

  std::vector<ReplicationJobInfo> jobs() const {
    std::vector<std::pair<std::int64_t, ReplicationJobInfo>> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, job] : jobs_) out.emplace_back(job->info.start_time, info_locked(*job));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<ReplicationJobInfo> list;
    for (auto& [t, info] : out) list.push_back(std::move(info));
    return list;
  }

 private:
  ReplicationJobInfo info_locked(const Job& job) const {
    ReplicationJobInfo info = job.info;
    info.stats = job.rep->stats();
    info.state = job.rep->state();
    info.error = job.rep->last_error();
    return info;
  }

  // Called on the job's thread after each batch and state change.
  void progress(Job* job, ReplicationState state) {
    ReplicationJobInfo info;
    Listener listener;
    {
      std::lock_guard<std::mutex> lock(mu_);
      job->info.update_time = clock_->now_micros();
      if (state == job->last_state) return;
      job->last_state = state;
      info = info_locked(*job);
      info.state = state;
      listener = job->listener;
    }
    if (listener) listener(info);
  }

  void finish(const std::shared_ptr<Job>& job, Result<ReplicationResult> result) {
    ReplicationJobInfo info;
    {
      std::lock_guard<std::mutex> lock(mu_);
      job->info.update_time = clock_->now_micros();
      info = info_locked(*job);
    }
    // The final state reaches the listener even if progress() saw it.
    if (job->listener) job->listener(info);
    std::lock_guard<std::mutex> lock(mu_);
    job->finished = true;
    job->result = std::move(result);
    jobs_.erase(job->id);
    if (job->thread.joinable()) finished_.push_back(std::move(job->thread));
    cv_.notify_all();
  }

  // Joins the threads of jobs that have finished.
  void reap_locked() {
    for (auto& t : finished_) {
      if (t.get_id() != std::this_thread::get_id()) t.join();
    }
    finished_.clear();
  }

  static constexpr std::chrono::seconds kCancelWait{10};

  PeerFactory factory_;
  const SchedulerOptions o_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::list<std::thread> finished_;
};

ReplicationScheduler::ReplicationScheduler(PeerFactory factory, SchedulerOptions options)
    : impl_(std::make_shared<Impl>(std::move(factory), std::move(options))) {}
ReplicationScheduler::~ReplicationScheduler() = default;

Result<std::string> ReplicationScheduler::job_id(const ReplicationSpec& spec) {
  return impl_->job_id(spec);
}
Result<std::string> ReplicationScheduler::start(const ReplicationSpec& spec, std::string doc_id,
                                                Listener listener) {
  return impl_->start(spec, std::move(doc_id), std::move(listener));
}
Result<ReplicationResult> ReplicationScheduler::run(const ReplicationSpec& spec) {
  return impl_->run(spec);
}
Status ReplicationScheduler::cancel(std::string_view job_id) { return impl_->cancel(job_id); }
std::vector<ReplicationJobInfo> ReplicationScheduler::jobs() const { return impl_->jobs(); }

}  // namespace divan
