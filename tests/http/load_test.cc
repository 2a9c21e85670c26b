// Many change listeners at once, against the real binary: 500 open
// _changes connections (half continuous, half longpoll re-polling as
// PouchDB does) while writers write and readers read. One client thread
// drives all 500 sockets with poll(); every listener must see every write,
// and ordinary requests must stay served throughout.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "raw_http.h"
#include "server_process.h"

using divan::testing::connect_loopback;
using divan::testing::ResponseParser;
using divan::testing::send_all;
using divan::testing::ServerProcess;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// Document ids are "doc-N"; marks each "id":"doc-N" found in `text`.
void mark_ids(const std::string& text, std::vector<char>* seen, int* count) {
  static const std::string key = "\"id\":\"doc-";
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    std::size_t n = std::strtoul(text.c_str() + at + key.size(), nullptr, 10);
    if (n < seen->size() && !(*seen)[n]) {
      (*seen)[n] = 1;
      ++*count;
    }
  }
}

struct Listener {
  int fd = -1;
  bool continuous = false;
  ResponseParser parser;
  std::size_t consumed = 0;  // continuous: body bytes already scanned
  std::uint64_t since = 0;   // longpoll: where the next poll starts
  std::vector<char> seen;
  int count = 0;
  int polls = 0;
  bool closed = false;
  std::string error;

  std::string request() const {
    std::string target =
        continuous ? "/db/_changes?feed=continuous&since=0&heartbeat=5000"
                   : "/db/_changes?feed=longpoll&heartbeat=10000&since=" + std::to_string(since);
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }
};

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("500 change listeners each see every write while ordinary requests stay served") {
    constexpr int kListeners = 500;
    constexpr int kWriters = 4, kWritesEach = 50, kWrites = kWriters * kWritesEach;
    constexpr int kReaders = 2;
    const auto test_start = steady_clock::now();

    // Each listener is a socket here and one in the server (which inherits
    // this limit); 1024 is a common default and too tight for both.
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 4096) {
      lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4096);
      setrlimit(RLIMIT_NOFILE, &lim);
    }

    // (Default log level: the harness waits for the "listening on" line.)
    ServerProcess s;
    REQUIRE(s.put("/db").status == 201);

    std::vector<Listener> listeners(kListeners);
    for (int i = 0; i < kListeners; ++i) {
      Listener& l = listeners[i];
      l.continuous = i % 2 == 0;
      l.seen.assign(kWrites, 0);
      l.fd = connect_loopback(s.port());
      REQUIRE_MESSAGE(l.fd >= 0, "connect failed for listener " << i);
      REQUIRE(send_all(l.fd, l.request()));
      l.polls = 1;
    }

    // Drives every listener's socket until `done()` or the deadline.
    std::vector<pollfd> fds(kListeners);
    auto pump = [&](const std::function<bool()>& done, milliseconds timeout) {
      auto deadline = steady_clock::now() + timeout;
      while (!done() && steady_clock::now() < deadline) {
        for (int i = 0; i < kListeners; ++i) {
          fds[i] = {listeners[i].closed ? -1 : listeners[i].fd, POLLIN, 0};
        }
        int n = ::poll(fds.data(), fds.size(), 100);
        if (n <= 0) continue;
        for (int i = 0; i < kListeners; ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          Listener& l = listeners[i];
          char buf[16384];
          ssize_t got = ::recv(l.fd, buf, sizeof buf, 0);
          if (got <= 0) {
            if (l.error.empty() && l.count < kWrites) l.error = "connection closed";
            l.closed = true;
            continue;
          }
          l.parser.feed(buf, static_cast<std::size_t>(got));
          if (l.parser.have_head() && l.parser.status() != 200 && l.error.empty()) {
            l.error = "status " + std::to_string(l.parser.status());
          }
          if (l.continuous) {
            // Scan complete lines only, then drop them.
            std::string& body = l.parser.body();
            auto nl = body.rfind('\n');
            if (nl != std::string::npos) {
              mark_ids(body.substr(0, nl + 1), &l.seen, &l.count);
              body.erase(0, nl + 1);
            }
            if (l.parser.ended() && l.error.empty()) l.error = "continuous feed ended";
          } else {
            while (l.parser.ended()) {
              rapidjson::Document d;
              d.Parse(l.parser.body().data(), l.parser.body().size());
              if (d.HasParseError() || !d.IsObject() || !d.HasMember("last_seq")) {
                if (l.error.empty()) l.error = "bad longpoll body: " + l.parser.body();
                break;
              }
              mark_ids(l.parser.body(), &l.seen, &l.count);
              l.since = d["last_seq"].GetUint64();
              l.parser.reset();
              if (l.count < kWrites) {
                ++l.polls;
                if (!send_all(l.fd, l.request()) && l.error.empty()) l.error = "send failed";
              }
            }
          }
        }
      }
      return done();
    };

    // All 500 feeds open (each has its response headers) before any write.
    bool all_open = pump(
        [&] {
          return std::all_of(listeners.begin(), listeners.end(), [](const Listener& l) {
            return l.parser.have_head() || !l.error.empty();
          });
        },
        milliseconds(20000));
    REQUIRE(all_open);
    const auto open_at = steady_clock::now();

    std::atomic<bool> writing{true};
    std::atomic<int> write_failures{0}, read_failures{0}, reads{0};
    std::atomic<long long> max_read_ms{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        httplib::Client c("127.0.0.1", s.port());
        c.set_keep_alive(true);
        c.set_read_timeout(30, 0);
        for (int i = 0; i < kWritesEach; ++i) {
          std::string body = "{\"_id\":\"doc-" + std::to_string(w * kWritesEach + i) + "\"}";
          auto r = c.Post("/db", body, "application/json");
          if (!r || r->status != 201) ++write_failures;
        }
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&] {
        httplib::Client c("127.0.0.1", s.port());
        c.set_keep_alive(true);
        c.set_read_timeout(30, 0);
        while (writing) {
          for (const char* path : {"/db", "/db/_changes?limit=10", "/"}) {
            auto t = steady_clock::now();
            auto res = c.Get(path);
            auto ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t).count();
            if (!res || res->status != 200) ++read_failures;
            ++reads;
            long long prev = max_read_ms;
            while (ms > prev && !max_read_ms.compare_exchange_weak(prev, ms)) {
            }
          }
        }
      });
    }

    bool all_seen = pump(
        [&] {
          return std::all_of(listeners.begin(), listeners.end(), [](const Listener& l) {
            return l.count == kWrites || !l.error.empty();
          });
        },
        milliseconds(30000));
    const auto seen_at = steady_clock::now();
    writing = false;
    for (auto& t : threads) t.join();

    int incomplete = 0, errors = 0, total_polls = 0;
    std::string first_problem;
    for (int i = 0; i < kListeners; ++i) {
      const Listener& l = listeners[i];
      if (!l.continuous) total_polls += l.polls;
      if (!l.error.empty()) ++errors;
      if (l.count != kWrites) ++incomplete;
      if (first_problem.empty() && (!l.error.empty() || l.count != kWrites)) {
        first_problem = "listener " + std::to_string(i) +
                        (l.continuous ? " (continuous)" : " (longpoll)") + " saw " +
                        std::to_string(l.count) + " of " + std::to_string(kWrites) +
                        (l.error.empty() ? "" : ": " + l.error);
      }
    }
    CHECK_MESSAGE(all_seen, first_problem);
    CHECK_MESSAGE(incomplete == 0, first_problem);
    CHECK_MESSAGE(errors == 0, first_problem);
    CHECK(write_failures == 0);
    CHECK(read_failures == 0);
    CHECK(reads > 0);
    // Ordinary requests are not starved by the open feeds.
    CHECK(max_read_ms < 5000);

    // The server is still serving, and stops promptly with the 250
    // continuous feeds open. (The longpoll clients, done, hang up first: an
    // idle keep-alive connection holds its server thread until cpp-httplib's
    // keep-alive timeout, which stop() cannot cut short.)
    CHECK(s.get("/db").json()["update_seq"].GetUint64() == kWrites);
    for (Listener& l : listeners) {
      if (!l.continuous) ::close(l.fd);
    }
    auto stop_at = steady_clock::now();
    CHECK(s.stop() == 0);
    auto stop_ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - stop_at).count();
    CHECK(stop_ms < 5000);
    for (Listener& l : listeners) {
      if (l.continuous) ::close(l.fd);
    }

    auto ms = [](auto a, auto b) {
      return std::chrono::duration_cast<milliseconds>(b - a).count();
    };
    MESSAGE("load: " << kListeners << " listeners open in " << ms(test_start, open_at) << " ms; "
                     << kWrites << " writes seen by all in " << ms(open_at, seen_at) << " ms; "
                     << reads.load() << " reads, slowest " << max_read_ms.load() << " ms; "
                     << total_polls << " longpolls; stop " << stop_ms << " ms; total "
                     << ms(test_start, steady_clock::now()) << " ms");
  }
}
