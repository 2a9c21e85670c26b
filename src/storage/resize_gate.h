// ResizeGate: keeps every transaction of this process off an LMDB
// environment while its map is resized, swapped or closed.
//
// LMDB lets mdb_env_set_mapsize() run only when no transaction of the process
// is active, and does not check it. Each transaction therefore holds a shared
// pass of the gate for its whole life, and whoever changes the map takes the
// gate exclusively. An exclusive request is writer-preferring: once it is
// pending, new shared passes wait (so a steady stream of readers cannot starve
// map growth), the request waits for the passes already out, and all waiters
// go on when it is released.
//
// Two exceptions keep this from deadlocking a single thread:
//  - A thread that already holds a shared pass of this gate gets another one
//    at once even while an exclusive request is pending (a thread may open a
//    second ReadTxn while it holds a first; making it wait would wait on
//    itself).
//  - A thread that holds a shared pass cannot take the gate exclusively (it
//    would wait for itself forever); acquire_exclusive() returns false.
// Both rely on a pass being released by the thread that took it, which is the
// rule for ReadTxn and WriteTxn anyway.
//
// The uncontended shared path is one compare-and-swap on an atomic counter
// plus a thread-local lookup; the mutex and condition variable are used only
// while an exclusive request is pending.
//
// Thread-safety: all methods are thread-safe.
#ifndef DIVAN_STORAGE_RESIZE_GATE_H_
#define DIVAN_STORAGE_RESIZE_GATE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace divan::storage {

class ResizeGate {
 public:
  ResizeGate() = default;
  ResizeGate(const ResizeGate&) = delete;
  ResizeGate& operator=(const ResizeGate&) = delete;

  // Takes a shared pass; waits while an exclusive request is pending, unless
  // the calling thread already holds a pass of this gate.
  void acquire_shared();
  // Returns a pass taken by the calling thread.
  void release_shared();

  // Waits until no shared pass is out and takes the gate exclusively.
  // Returns false, without waiting, if the calling thread holds a shared pass
  // of this gate (the wait could never end).
  [[nodiscard]] bool acquire_exclusive();
  void release_exclusive();

  // Number of shared passes the calling thread holds on this gate.
  unsigned held_by_this_thread() const;
  // Whether an exclusive request is pending or held (for tests).
  bool exclusive_pending() const {
    return (state_.load(std::memory_order_acquire) & kPending) != 0;
  }

 private:
  static constexpr std::uint64_t kPending = std::uint64_t{1} << 63;

  std::atomic<std::uint64_t> state_{0};  // kPending | number of shared passes
  std::mutex mu_;                        // guards waiting on cv_
  std::condition_variable cv_;
  std::mutex exclusive_mu_;              // one exclusive holder at a time
};

// Holds a shared pass for the scope.
class SharedPass {
 public:
  explicit SharedPass(ResizeGate& gate) : gate_(&gate) { gate_->acquire_shared(); }
  ~SharedPass() { release(); }
  SharedPass(const SharedPass&) = delete;
  SharedPass& operator=(const SharedPass&) = delete;
  void release() {
    if (gate_) gate_->release_shared();
    gate_ = nullptr;
  }

 private:
  ResizeGate* gate_;
};

}  // namespace divan::storage

#endif  // DIVAN_STORAGE_RESIZE_GATE_H_
