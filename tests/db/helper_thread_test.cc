// HelperThread: a long-lived thread for handed-off work (db/helper_thread.h).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "db/helper_thread.h"

using divan::db::HelperThread;

TEST_SUITE("db") {
  TEST_CASE("the helper thread runs one task after another on the same thread") {
    HelperThread helper;
    std::thread::id first, second;
    int value = 0;
    {
      HelperThread::Task t = helper.start([&] {
        first = std::this_thread::get_id();
        value = 1;
      });
      t.join();
      CHECK_FALSE(helper.last_start_spawned());
    }
    CHECK(value == 1);  // join() waited for it
    HelperThread::Task t = helper.start([&] {
      second = std::this_thread::get_id();
      value = 2;
    });
    t.join();
    CHECK_FALSE(helper.last_start_spawned());
    CHECK(value == 2);
    CHECK(first == second);
    CHECK(first != std::this_thread::get_id());
  }

  TEST_CASE("a task started while the helper is busy runs at once on a thread of its own") {
    HelperThread helper;
    std::atomic<bool> second_ran{false};
    std::atomic<bool> first_saw_second{false};
    HelperThread::Task a = helper.start([&] {
      // Blocks until the second task has run: were it queued behind this
      // one, this would time out.
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!second_ran.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      first_saw_second = second_ran.load();
    });
    HelperThread::Task b = helper.start([&] { second_ran = true; });
    CHECK(helper.last_start_spawned());
    b.join();
    a.join();
    CHECK(first_saw_second.load());
    // Idle again: the next task goes to the helper thread.
    HelperThread::Task c = helper.start([] {});
    c.join();
    CHECK_FALSE(helper.last_start_spawned());
  }

  TEST_CASE("a task not joined is joined when it goes away, and the helper stops cleanly") {
    std::atomic<int> runs{0};
    {
      HelperThread helper;
      for (int i = 0; i < 50; ++i) {
        HelperThread::Task t = helper.start([&] {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          ++runs;
        });
      }  // each ~Task joined before the next start
      CHECK(runs.load() == 50);
      HelperThread::Task spawned = HelperThread::spawn([&] { ++runs; });
    }
    CHECK(runs.load() == 51);
  }
}
