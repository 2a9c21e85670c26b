#include "db/write_queue.h"

#include <vector>

namespace divan::db {

Status WriteQueue::submit(Op& op) {
  Waiter w{&op, Status(), false, {}};
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&w);
  while (!w.done && queue_.front() != &w) w.cv.wait(lock);
  if (w.done) return w.status;

  // This writer leads: take it and the writers behind it, up to the bound
  // (always at least itself, however heavy).
  std::vector<Op*> group;
  std::size_t weight = 0;
  std::size_t taken = 0;
  for (Waiter* q : queue_) {
    std::size_t wgt = q->op->weight();
    if (!group.empty() && weight + wgt > max_group_weight_) break;
    group.push_back(q->op);
    weight += wgt;
    ++taken;
  }
  lock.unlock();

  Status status;
  {
    std::lock_guard<std::mutex> run(run_mu_);
    status = runner_(group);
  }

  lock.lock();
  for (std::size_t i = 0; i < taken; ++i) {
    Waiter* q = queue_.front();
    queue_.pop_front();
    q->status = status;
    q->done = true;
    if (q != &w) q->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return w.status;
}

Status WriteQueue::exclusive(const std::function<Status()>& fn) {
  std::lock_guard<std::mutex> run(run_mu_);
  return fn();
}

}  // namespace divan::db
