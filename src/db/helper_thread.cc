#include "db/helper_thread.h"

#include <utility>

#include "db/spin_wait.h"

namespace divan::db {

void HelperThread::Task::join() {
  if (own_.joinable()) own_.join();
  if (!done_) return;
  // The caller usually has been working beside the task and it is about to
  // end: spin briefly, as waking a sleeping thread takes longer here.
  if (!spin_until(kJoinSpin, [&] { return done_->done.load(std::memory_order_acquire); })) {
    std::unique_lock<std::mutex> lock(done_->mu);
    done_->cv.wait(lock, [&] { return done_->done.load(std::memory_order_acquire); });
  }
  done_.reset();
}

HelperThread::~HelperThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

HelperThread::Task HelperThread::start(std::function<void()> fn) {
  Task task;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Behind a posted task, which is short, the task waits its turn.
    const bool queue = busy_ && running_posted_ && !next_ && !stop_;
    last_spawned_ = !queue && (busy_ || stop_);
    if (!last_spawned_) {
      busy_ = true;
      next_ = std::move(fn);
      task.done_ = std::make_shared<Task::Done>();
      next_done_ = task.done_;
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
  }
  if (!task.done_) return spawn(std::move(fn));
  cv_.notify_all();
  return task;
}

HelperThread::Task HelperThread::spawn(std::function<void()> fn) {
  Task task;
  task.own_ = std::thread(std::move(fn));
  return task;
}

void HelperThread::post(std::function<void()> fn) {
  bool handed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!busy_ && !stop_ && thread_.joinable()) {
      busy_ = true;
      next_ = std::move(fn);
      next_done_ = nullptr;
      handed = true;
    }
  }
  if (!handed) {
    fn();
    return;
  }
  cv_.notify_all();
}

bool HelperThread::last_start_spawned() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_spawned_;
}

void HelperThread::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || next_; });
    if (!next_) return;  // stopping, nothing left to run
    std::function<void()> fn = std::exchange(next_, nullptr);
    std::shared_ptr<Task::Done> done = std::move(next_done_);
    running_posted_ = done == nullptr;
    lock.unlock();
    fn();
    fn = nullptr;  // whatever the task captured goes before it counts as done
    // Idle again before the caller learns the task is done, so that its
    // next start() finds this thread free; unless a task was queued behind
    // a posted one, which runs next.
    lock.lock();
    running_posted_ = false;
    if (!next_) busy_ = false;
    if (!done) continue;
    lock.unlock();
    {
      std::lock_guard<std::mutex> done_lock(done->mu);
      done->done.store(true, std::memory_order_release);
    }
    done->cv.notify_all();
    lock.lock();
  }
}

}  // namespace divan::db
