#include "changes/change_notifier.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using divan::changes::ChangeNotifier;
using Clock = std::chrono::steady_clock;

TEST_SUITE("changes") {
  TEST_CASE("publish raises the sequence, never lowers it") {
    ChangeNotifier n(5);
    CHECK(n.seq() == 5);
    n.publish(7);
    CHECK(n.seq() == 7);
    n.publish(6);
    CHECK(n.seq() == 7);
  }

  TEST_CASE("wait_until returns at once when already past, and on timeout otherwise") {
    ChangeNotifier n(3);
    CHECK(n.wait_until(2, Clock::now()));
    CHECK_FALSE(n.wait_until(3, Clock::now() + std::chrono::milliseconds(10)));
  }

  TEST_CASE("many waiters all wake on one publish") {
    ChangeNotifier n(0);
    std::atomic<int> woke{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 50; ++i) {
      threads.emplace_back([&] {
        if (n.wait_until(0, Clock::now() + std::chrono::seconds(30))) ++woke;
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    n.publish(1);
    for (auto& t : threads) t.join();
    CHECK(woke == 50);
  }

  TEST_CASE("close wakes waiters for good") {
    ChangeNotifier n(0);
    std::thread closer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      n.close();
    });
    CHECK_FALSE(n.wait_until(0, Clock::now() + std::chrono::seconds(30)));
    closer.join();
    CHECK(n.closed());
    CHECK_FALSE(n.wait_until(0, Clock::now() + std::chrono::seconds(30)));
  }

  TEST_CASE("callbacks run on publish and may unsubscribe themselves or others") {
    ChangeNotifier n(0);
    std::vector<std::uint64_t> seen;
    std::uint64_t second = 0;
    std::uint64_t first = n.subscribe([&](std::uint64_t s) {
      seen.push_back(s);
      n.unsubscribe(second);  // removes the next one before it runs
    });
    second = n.subscribe([&](std::uint64_t) { seen.push_back(999); });
    std::uint64_t self = 0;
    self = n.subscribe([&](std::uint64_t s) {
      seen.push_back(s * 10);
      n.unsubscribe(self);
    });
    n.publish(1);
    n.publish(2);
    CHECK(seen == std::vector<std::uint64_t>{1, 10, 2});
    n.unsubscribe(first);
    n.publish(3);
    CHECK(seen.size() == 3);
  }

  TEST_CASE("unsubscribe waits for a running callback to finish") {
    ChangeNotifier n(0);
    std::atomic<bool> running{false}, finished{false};
    std::uint64_t id = n.subscribe([&](std::uint64_t) {
      running = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;
    });
    std::thread publisher([&] { n.publish(1); });
    while (!running) std::this_thread::yield();
    n.unsubscribe(id);
    CHECK(finished);
    publisher.join();
  }
}

TEST_SUITE("changes") {
  TEST_CASE("close runs the callbacks once more, then never again") {
    ChangeNotifier n(4);
    int calls = 0;
    std::uint64_t seen = 0;
    n.subscribe([&](std::uint64_t s) {
      ++calls;
      seen = s;
    });
    n.close();
    CHECK(calls == 1);
    CHECK(seen == 4);
    n.close();
    CHECK(calls == 1);
  }
}
