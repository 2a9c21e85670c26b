#include "storage/resize_gate.h"

#include <utility>
#include <vector>

namespace divan::storage {
namespace {

// The shared passes each thread holds, per gate. A thread rarely holds passes
// of more than one or two gates, so a short vector scanned linearly is the
// cheapest map; entries are dropped when their count returns to zero, and the
// vector keeps its capacity, so the steady state allocates nothing.
struct HeldPass {
  const ResizeGate* gate;
  unsigned count;
};
thread_local std::vector<HeldPass> tls_held;

HeldPass* find_held(const ResizeGate* gate) {
  for (HeldPass& h : tls_held) {
    if (h.gate == gate) return &h;
  }
  return nullptr;
}

}  // namespace

unsigned ResizeGate::held_by_this_thread() const {
  const HeldPass* h = find_held(this);
  return h ? h->count : 0;
}

void ResizeGate::acquire_shared() {
  if (HeldPass* h = find_held(this)) {
    // Re-entry: this thread already keeps any exclusive request waiting, so
    // waiting here would wait on ourselves. Take the pass regardless.
    state_.fetch_add(1, std::memory_order_acquire);
    ++h->count;
    return;
  }
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & kPending) == 0) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        break;
      }
      continue;  // s was reloaded by the failed exchange
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return (state_.load(std::memory_order_relaxed) & kPending) == 0; });
    s = state_.load(std::memory_order_relaxed);
  }
  tls_held.push_back(HeldPass{this, 1});
}

void ResizeGate::release_shared() {
  HeldPass* h = find_held(this);
  if (h && --h->count == 0) {
    *h = tls_held.back();
    tls_held.pop_back();
  }
  const std::uint64_t now = state_.fetch_sub(1, std::memory_order_release) - 1;
  if (now == kPending) {
    // The last pass of a pending exclusive request: wake it. Taking the mutex
    // orders this notify after the waiter's check of the predicate.
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
}

bool ResizeGate::acquire_exclusive() {
  if (find_held(this) != nullptr) return false;
  exclusive_mu_.lock();
  state_.fetch_or(kPending, std::memory_order_acq_rel);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return state_.load(std::memory_order_acquire) == kPending; });
  return true;
}

void ResizeGate::release_exclusive() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_.fetch_and(~kPending, std::memory_order_release);
  }
  cv_.notify_all();
  exclusive_mu_.unlock();
}

}  // namespace divan::storage
