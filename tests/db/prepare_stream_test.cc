// PrepareStream: batches handed from a parsing thread to the writer, each
// prepared by whichever of the two gets to it (db/prepare_stream.h).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db/prepare_stream.h"

using divan::ErrorCode;
using divan::Status;
using divan::db::PrepareStream;

namespace {

struct Prepared {
  int value = 0;
  std::thread::id by;  // the thread that prepared it
};

using Stream = PrepareStream<int, Prepared>;

// Prepares n as n * 10, refusing the values in `refuse` with a message
// naming the value.
Stream::Prepare preparer(std::vector<int> refuse = {}) {
  return [refuse](int& n, Prepared* out) -> Status {
    for (int r : refuse) {
      if (n == r) return Status::bad_request("refused " + std::to_string(n));
    }
    out->value = n * 10;
    out->by = std::this_thread::get_id();
    return Status::ok();
  };
}

std::vector<Prepared> take_all(Stream& s) {
  std::vector<Prepared> out;
  while (s.take(&out)) {
  }
  return out;
}

void check_sequence(const std::vector<Prepared>& got, int n) {
  REQUIRE(got.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) CHECK(got[i].value == i * 10);
}

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("a prepare stream hands over every item once, in order, prepared by the producer") {
    Stream s(preparer(), 8);
    for (int i = 0; i < 100; ++i) s.add(i);  // 12 full batches and 4 left over
    s.finish(Status::ok());
    auto got = take_all(s);
    check_sequence(got, 100);
    for (const Prepared& p : got) CHECK(p.by == std::this_thread::get_id());
    CHECK(s.status().is_ok());
  }

  TEST_CASE("the consumer prepares the batches no one has prepared") {
    Stream s(preparer(), 8, /*producer_prepares=*/false);
    std::thread producer([&] {
      for (int i = 0; i < 100; ++i) s.add(i);
      s.finish(Status::ok());
    });
    auto got = take_all(s);
    producer.join();
    check_sequence(got, 100);
    for (const Prepared& p : got) CHECK(p.by == std::this_thread::get_id());
    CHECK(s.status().is_ok());
  }

  TEST_CASE("while the producer prepares the next batch, the consumer prepares later ones") {
    // The producer's prepare of the first batch (items 0-7) blocks until
    // released; the consumer, finding that batch taken on, must prepare the
    // two batches behind it instead of waiting.
    std::atomic<bool> producer_in{false}, release{false};
    std::atomic<int> by_consumer{0};
    std::thread::id producer_id;
    Stream* stream = nullptr;
    Stream s(
        [&](int& n, Prepared* out) -> Status {
          if (std::this_thread::get_id() == producer_id) {
            producer_in = true;
            while (!release) std::this_thread::yield();
          } else {
            ++by_consumer;
          }
          out->value = n * 10;
          out->by = std::this_thread::get_id();
          return Status::ok();
        },
        2);
    stream = &s;
    std::thread producer([&] {
      producer_id = std::this_thread::get_id();
      for (int i = 0; i < 12; ++i) stream->add(i);  // batches of 8, 2 and 2
      stream->finish(Status::ok());
    });
    while (!producer_in) std::this_thread::yield();
    std::vector<Prepared> got;
    std::thread consumer([&] { got = take_all(s); });
    // Both later batches, before the producer is released (bounded, so
    // that a consumer that waits instead fails the check, not the run).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (by_consumer < 4 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    CHECK(by_consumer == 4);
    release = true;
    consumer.join();
    producer.join();
    check_sequence(got, 12);
    for (int i = 0; i < 8; ++i) CHECK(got[i].by == producer_id);
    for (int i = 8; i < 12; ++i) CHECK(got[i].by != producer_id);
  }

  TEST_CASE("with both threads preparing, every item arrives once and in order") {
    for (std::size_t batch : {1u, 7u, 64u}) {
      CAPTURE(batch);
      Stream s(preparer(), batch);
      const int n = 20000;
      std::thread producer([&] {
        for (int i = 0; i < n; ++i) s.add(i);
        s.finish(Status::ok());
      });
      auto got = take_all(s);
      producer.join();
      check_sequence(got, n);
      CHECK(s.status().is_ok());
    }
  }

  TEST_CASE("the first refused item decides, whichever thread prepared which batch") {
    std::mt19937 rng(7);
    for (int round = 0; round < 40; ++round) {
      const int n = 3000;
      int first = std::uniform_int_distribution<int>(0, n - 1)(rng);
      int second = std::uniform_int_distribution<int>(first, n - 1)(rng);
      CAPTURE(first);
      CAPTURE(second);
      Stream s(preparer({second, first}), 16, /*producer_prepares=*/round % 4 != 0);
      std::thread producer([&] {
        for (int i = 0; i < n; ++i) s.add(i);
        s.finish(Status::ok());
      });
      auto got = take_all(s);
      producer.join();
      // Only whole batches before the refused one were handed over.
      CHECK(got.size() <= static_cast<std::size_t>(first));
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].value == static_cast<int>(i) * 10);
      Status st = s.status();
      CHECK(st.code() == ErrorCode::kBadRequest);
      CHECK(st.reason() == "refused " + std::to_string(first));
    }
  }

  TEST_CASE("a parse error wins over a refused item before it") {
    Stream s(preparer({3}), 4);
    for (int i = 0; i < 20; ++i) s.add(i);
    std::thread consumer([&] { take_all(s); });
    s.finish(Status::bad_request("invalid UTF-8 JSON"));
    consumer.join();
    CHECK(s.status().reason() == "invalid UTF-8 JSON");
  }

  TEST_CASE("after a parse error the consumer gets no more batches") {
    Stream s(preparer(), 4);
    for (int i = 0; i < 20; ++i) s.add(i);
    s.finish(Status::bad_request("invalid UTF-8 JSON"));
    std::vector<Prepared> got;
    CHECK_FALSE(s.take(&got));
    CHECK(got.empty());
    CHECK(s.status().code() == ErrorCode::kBadRequest);
  }

  TEST_CASE("an empty stream ends at once, and cancel reaches the producer") {
    Stream s(preparer(), 4);
    CHECK_FALSE(s.cancelled());
    s.finish(Status::ok());
    std::vector<Prepared> got;
    CHECK_FALSE(s.take(&got));
    CHECK(s.status().is_ok());
    s.cancel();
    CHECK(s.cancelled());
  }
}
