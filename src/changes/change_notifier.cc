#include "changes/change_notifier.h"

namespace divan::changes {

void ChangeNotifier::publish(std::uint64_t seq) {
  {
    std::lock_guard<std::mutex> lock(wait_mu_);
    std::uint64_t cur = seq_.load(std::memory_order_relaxed);
    if (seq <= cur) return;
    seq_.store(seq, std::memory_order_release);
  }
  wait_cv_.notify_all();
  run_callbacks(seq);
}

void ChangeNotifier::run_callbacks(std::uint64_t seq) {
  // A recursive mutex lets a callback unsubscribe itself (or another);
  // walking by id keeps the loop valid whatever the callbacks erase.
  std::lock_guard<std::recursive_mutex> lock(callback_mu_);
  for (auto it = callbacks_.begin(); it != callbacks_.end();) {
    std::uint64_t id = it->first;
    std::shared_ptr<Callback> cb = it->second;  // keeps it alive while it runs
    (*cb)(seq);
    it = callbacks_.upper_bound(id);
  }
}

bool ChangeNotifier::wait_until(std::uint64_t since,
                                std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(wait_mu_);
  wait_cv_.wait_until(lock, deadline, [&] {
    return seq_.load(std::memory_order_relaxed) > since || closed_.load(std::memory_order_relaxed);
  });
  return seq_.load(std::memory_order_relaxed) > since;
}

std::uint64_t ChangeNotifier::subscribe(Callback callback) {
  std::lock_guard<std::recursive_mutex> lock(callback_mu_);
  std::uint64_t id = next_id_++;
  callbacks_.emplace(id, std::make_shared<Callback>(std::move(callback)));
  return id;
}

void ChangeNotifier::unsubscribe(std::uint64_t id) {
  std::lock_guard<std::recursive_mutex> lock(callback_mu_);
  callbacks_.erase(id);
}

void ChangeNotifier::close() {
  {
    std::lock_guard<std::mutex> lock(wait_mu_);
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  }
  wait_cv_.notify_all();
  // Callbacks hear of it too, so that feeds waiting on them end now rather
  // than at their next heartbeat.
  run_callbacks(seq());
}

}  // namespace divan::changes
