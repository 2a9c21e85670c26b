// ChangeNotifier: tells waiting readers that a database's update sequence
// moved. Pure (no I/O): the database publishes after each commit, and
// longpoll/continuous feeds either block in wait_for() or register a
// callback, so no one has to poll.
//
// Thread-safety: all methods are thread-safe.
#ifndef DIVAN_CHANGES_CHANGE_NOTIFIER_H_
#define DIVAN_CHANGES_CHANGE_NOTIFIER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace divan::changes {

class ChangeNotifier {
 public:
  using Callback = std::function<void(std::uint64_t seq)>;

  explicit ChangeNotifier(std::uint64_t seq) : seq_(seq) {}
  ChangeNotifier(const ChangeNotifier&) = delete;
  ChangeNotifier& operator=(const ChangeNotifier&) = delete;

  std::uint64_t seq() const { return seq_.load(std::memory_order_acquire); }

  // Records that the sequence is now `seq` (called after the commit that
  // made it durable), wakes every waiter and runs every callback on this
  // thread. Sequences only go up; a lower or equal `seq` is ignored.
  void publish(std::uint64_t seq);

  // Blocks until seq() > since, `deadline` passes, or close() is called.
  // Returns true iff seq() > since.
  bool wait_until(std::uint64_t since, std::chrono::steady_clock::time_point deadline);

  // Registers a callback; returns its id for unsubscribe().
  std::uint64_t subscribe(Callback callback);
  // Removes a callback. Once it returns the callback is not running and will
  // not run again, unless it is called from inside that callback.
  void unsubscribe(std::uint64_t id);

  // Wakes every waiter for good (the database is closing or was deleted),
  // and runs every callback once more so that their owners notice; later
  // waits return at once.
  void close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

 private:
  void run_callbacks(std::uint64_t seq);

  std::atomic<std::uint64_t> seq_;
  std::atomic<bool> closed_{false};

  std::mutex wait_mu_;
  std::condition_variable wait_cv_;

  // Callbacks run with callback_mu_ held, so unsubscribe() (which takes it)
  // cannot return while one runs; the running thread is remembered so a
  // callback may unsubscribe itself.
  std::recursive_mutex callback_mu_;
  std::map<std::uint64_t, std::shared_ptr<Callback>> callbacks_;
  std::uint64_t next_id_ = 1;
};

}  // namespace divan::changes

#endif  // DIVAN_CHANGES_CHANGE_NOTIFIER_H_
