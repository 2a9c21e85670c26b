#include "storage/resize_gate.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using divan::storage::ResizeGate;

namespace {

// Waits until `cond` holds, for at most five seconds.
template <typename Cond>
bool wait_for(Cond cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Long enough for a thread that is not blocked to get through a few lines.
void let_others_run() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

}  // namespace

TEST_SUITE("storage") {
  TEST_CASE("shared passes of the resize gate do not block each other") {
    ResizeGate gate;
    gate.acquire_shared();
    std::atomic<bool> got{false};
    std::thread t([&] {
      gate.acquire_shared();
      got = true;
      gate.release_shared();
    });
    CHECK(wait_for([&] { return got.load(); }));
    t.join();
    CHECK(gate.held_by_this_thread() == 1);
    gate.release_shared();
    CHECK(gate.held_by_this_thread() == 0);
  }

  TEST_CASE("an exclusive request waits for shared passes and holds off new ones") {
    ResizeGate gate;
    gate.acquire_shared();  // held by this thread, like a long ReadTxn

    std::atomic<bool> exclusive{false};
    std::atomic<bool> release{false};
    std::thread grower([&] {
      REQUIRE(gate.acquire_exclusive());
      exclusive = true;
      while (!release) std::this_thread::yield();
      gate.release_exclusive();
    });
    REQUIRE(wait_for([&] { return gate.exclusive_pending(); }));

    // A new reader on another thread waits behind the pending request.
    std::atomic<bool> reader_in{false};
    std::thread reader([&] {
      gate.acquire_shared();
      reader_in = true;
      gate.release_shared();
    });
    let_others_run();
    CHECK_FALSE(exclusive.load());
    CHECK_FALSE(reader_in.load());

    // This thread already holds a pass, so it gets another one at once
    // instead of waiting on itself.
    gate.acquire_shared();
    CHECK(gate.held_by_this_thread() == 2);
    gate.release_shared();
    CHECK_FALSE(exclusive.load());

    gate.release_shared();
    CHECK(wait_for([&] { return exclusive.load(); }));
    let_others_run();
    CHECK_FALSE(reader_in.load());  // still shut out while the map changes
    release = true;
    CHECK(wait_for([&] { return reader_in.load(); }));
    grower.join();
    reader.join();
    CHECK_FALSE(gate.exclusive_pending());
  }

  TEST_CASE("a thread holding a shared pass cannot take the gate exclusively") {
    ResizeGate gate;
    gate.acquire_shared();
    CHECK_FALSE(gate.acquire_exclusive());
    gate.release_shared();
    REQUIRE(gate.acquire_exclusive());
    gate.release_exclusive();
  }

  TEST_CASE("the resize gate survives many readers and repeated exclusive requests") {
    ResizeGate gate;
    std::atomic<bool> stop{false};
    std::atomic<int> inside_shared{0};
    std::atomic<bool> violated{false};
    std::atomic<long> reads{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 3; ++i) {
      readers.emplace_back([&] {
        while (!stop) {
          gate.acquire_shared();
          ++inside_shared;
          ++reads;
          --inside_shared;
          gate.release_shared();
          std::this_thread::yield();  // the test machine may have two cores
        }
      });
    }
    for (int i = 0; i < 100; ++i) {
      const long before = reads.load();
      CHECK(wait_for([&] { return reads.load() > before; }));  // readers get through
      REQUIRE(gate.acquire_exclusive());
      if (inside_shared.load() != 0) violated = true;
      gate.release_exclusive();
    }
    stop = true;
    for (auto& t : readers) t.join();
    CHECK_FALSE(violated.load());
    CHECK(reads.load() >= 100);
  }
}
