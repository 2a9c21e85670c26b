// A long-lived thread for work a caller hands off and waits for (the parse
// of a large `_bulk_docs` array). Starting a thread for every such array
// costs tens of microseconds and a fresh heap arena and stack, whose pages
// the kernel must fault in again each time; a thread that stays keeps them.
//
// One task runs at a time. When the thread is busy, start() runs the task
// on a thread of its own instead of queueing it, so a caller never waits
// for another caller's task. The one exception is a posted task (post()),
// which is short: a task started while one runs is queued behind it.
#ifndef DIVAN_DB_HELPER_THREAD_H_
#define DIVAN_DB_HELPER_THREAD_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace divan::db {

class HelperThread {
 public:
  HelperThread() = default;
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;
  ~HelperThread();

  // A started task; join() waits until it has finished. Destroying a Task
  // that was not joined joins it.
  class Task {
   public:
    Task(Task&&) = default;
    Task& operator=(Task&&) = delete;
    ~Task() { join(); }
    void join();

   private:
    friend class HelperThread;
    struct Done {
      std::mutex mu;
      std::condition_variable cv;
      std::atomic<bool> done{false};
    };
    static constexpr std::chrono::microseconds kJoinSpin{100};
    Task() = default;
    std::shared_ptr<Done> done_;  // run by the helper thread
    std::thread own_;             // run on a thread of its own
  };

  // Runs `fn` on the helper thread if it is idle (starting it the first
  // time), else on a new thread.
  Task start(std::function<void()> fn);

  // Runs `fn` on a new thread.
  static Task spawn(std::function<void()> fn);

  // Runs `fn`, which no one waits for, on the helper thread if it is idle,
  // else at once on the caller's thread. For freeing what a bulk write
  // leaves behind once it has committed: the caller answers sooner, and
  // most of that memory was allocated on the helper thread, whose
  // allocator takes it back faster there.
  void post(std::function<void()> fn);

  // Whether the last start() found the helper thread busy (for tests).
  bool last_start_spawned() const;

 private:
  void loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  std::function<void()> next_;                // guarded by mu_
  std::shared_ptr<Task::Done> next_done_;     // guarded by mu_
  bool busy_ = false;                         // guarded by mu_
  bool running_posted_ = false;               // guarded by mu_
  bool stop_ = false;                         // guarded by mu_
  bool last_spawned_ = false;                 // guarded by mu_
};

}  // namespace divan::db

#endif  // DIVAN_DB_HELPER_THREAD_H_
