#include "db/write_queue.h"

#include <algorithm>

namespace divan::db {

WriteQueue::Presence::Presence(WriteQueue& q) : q_(q) {
  std::lock_guard<std::mutex> lock(q_.mu_);
  ++q_.active_;
}

WriteQueue::Presence::~Presence() {
  {
    std::lock_guard<std::mutex> lock(q_.mu_);
    --q_.active_;
  }
  q_.arrivals_.notify_all();
}

Status WriteQueue::submit(Op& op) {
  Waiter self;
  Waiter* w = &self;
  w->op = &op;
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(w);
  // A leader keeping its group open is woken by the last active writer to
  // arrive (or by every kWakeBatch-th): waking it for each arrival would
  // cost a context switch per document on its way to the same decision.
  if (queue_.size() >= active_ || queue_.size() % kWakeBatch == 0) arrivals_.notify_all();
  while (!w->done && queue_.front() != w) turns_.wait(lock);
  if (w->done) return w->status;

  // This writer leads. The group is open until the bound is reached, or
  // until no active writer is missing from the queue, or the linger ends.
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::min<std::chrono::steady_clock::duration>(last_commit_, kMaxLinger);
  std::size_t weight = 0;
  bool closed = false;
  std::chrono::steady_clock::time_point closed_at;
  taken_ = 0;
  lock.unlock();

  Source next = [&]() -> Op* {
    std::unique_lock<std::mutex> l(mu_);
    while (!closed) {
      // A full group takes no one else: waiting for arrivals would only
      // delay its commit.
      if (weight >= max_group_weight_) break;
      if (taken_ < queue_.size()) {
        Op* candidate = queue_[taken_]->op;
        std::size_t wgt = candidate->weight();
        if (taken_ > 0 && weight + wgt > max_group_weight_) break;
        weight += wgt;
        ++taken_;
        return candidate;
      }
      if (queue_.size() >= active_ ||
          arrivals_.wait_until(l, deadline) == std::cv_status::timeout) {
        break;
      }
    }
    closed = true;
    closed_at = std::chrono::steady_clock::now();
    return nullptr;
  };

  Status status;
  {
    std::lock_guard<std::mutex> run(run_mu_);
    status = runner_(next);
  }
  // What the commit cost once the group closed: the bound for the next
  // group's linger (measuring from the start would count the linger itself
  // and let it grow on itself).
  auto finished = std::chrono::steady_clock::now();

  lock.lock();
  last_commit_ = closed ? finished - closed_at : std::chrono::steady_clock::duration::zero();
  // The runner may have failed before taking anything: the leader's own
  // operation is always part of its group.
  const std::size_t group_size = std::max<std::size_t>(taken_, 1);
  for (std::size_t i = 0; i < group_size; ++i) {
    queue_[i]->status = status;
    queue_[i]->done = true;
  }
  queue_.erase(queue_.begin(), queue_.begin() + group_size);
  taken_ = 0;
  Status result = w->status;
  lock.unlock();
  // One wake-up call answers the whole group and tells the next leader its
  // turn has come; it touches only members of the queue, which outlives it.
  turns_.notify_all();
  return result;
}

Status WriteQueue::exclusive(const std::function<Status()>& fn) {
  std::lock_guard<std::mutex> run(run_mu_);
  return fn();
}

}  // namespace divan::db
