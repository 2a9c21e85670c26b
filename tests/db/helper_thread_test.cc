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

  TEST_CASE("a posted task runs on the idle helper thread, else on the caller's") {
    HelperThread helper;
    std::thread::id helper_id;
    helper.start([&] { helper_id = std::this_thread::get_id(); }).join();

    std::atomic<bool> ran{false};
    std::thread::id posted_on;
    helper.post([&] {
      posted_on = std::this_thread::get_id();
      ran = true;
    });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!ran.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    REQUIRE(ran.load());
    CHECK(posted_on == helper_id);

    // Busy with a task: the posted one runs at once, on the caller's thread.
    std::atomic<bool> release{false};
    HelperThread::Task busy = helper.start([&] {
      while (!release.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    });
    std::thread::id inline_on;
    helper.post([&] { inline_on = std::this_thread::get_id(); });
    CHECK(inline_on == std::this_thread::get_id());
    release = true;
    busy.join();
  }

  TEST_CASE("a task started while a posted task runs waits for it on the helper thread") {
    HelperThread helper;
    std::thread::id helper_id;
    helper.start([&] { helper_id = std::this_thread::get_id(); }).join();

    std::atomic<bool> posted_started{false}, release{false}, posted_done{false};
    helper.post([&] {
      posted_started = true;
      while (!release.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
      posted_done = true;
    });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!posted_started.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    REQUIRE(posted_started.load());

    std::thread::id ran_on;
    bool saw_posted_done = false;
    HelperThread::Task t = helper.start([&] {
      ran_on = std::this_thread::get_id();
      saw_posted_done = posted_done.load();
    });
    CHECK_FALSE(helper.last_start_spawned());
    // A task queued behind it keeps the helper busy: another start spawns.
    HelperThread::Task other = helper.start([] {});
    CHECK(helper.last_start_spawned());
    other.join();
    release = true;
    t.join();
    CHECK(ran_on == helper_id);
    CHECK(saw_posted_done);
    // And then the helper is idle again.
    helper.start([] {}).join();
    CHECK_FALSE(helper.last_start_spawned());
  }

  TEST_CASE("a posted task still pending when the helper goes away runs first") {
    std::atomic<int> runs{0};
    {
      HelperThread helper;
      helper.start([] {}).join();
      helper.post([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++runs;
      });
    }
    CHECK(runs.load() == 1);
  }
}
