// Spinning briefly before sleeping. On a virtual machine, waking a thread
// that sleeps on a condition variable takes tens of microseconds, about as
// long as the work the waiter expects to finish; the bulk write path spins
// for such short waits first and sleeps only if they run long.
#ifndef DIVAN_DB_SPIN_WAIT_H_
#define DIVAN_DB_SPIN_WAIT_H_

#include <chrono>

namespace divan::db {

// Calls `done` until it returns true or `limit` has passed; returns whether
// it did. The caller then sleeps (on its condition variable) if not.
template <typename Done>
bool spin_until(std::chrono::microseconds limit, Done done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  return true;
}

}  // namespace divan::db

#endif  // DIVAN_DB_SPIN_WAIT_H_
