// Crash safety: a writer process is killed with SIGKILL mid-stream, many
// times, sometimes while it compacts; every write it saw acknowledged must
// be there afterwards, and the database must open cleanly and be
// self-consistent.
//
// The writer is a forked child that reports each acknowledged write on a
// pipe only after the call returned ok. The parent kills it at a random
// moment, reads every report that made it into the pipe, and checks them
// against what the reopened database holds.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "db_test_util.h"

using divan::AllDocsOptions;
using divan::ChangesOptions;
using divan::DataDir;
using divan::testing::TempDir;

namespace {

// Runs in the child: writes until killed. Batches of new documents
// (bulk_docs) alternate with updates of one counter document; each success
// is reported as "B <iteration> <first> <count>" or "C <value> <rev>".
[[noreturn]] void writer(const std::string& path, int iteration, int report_fd, std::uint64_t seed) {
  auto dir = DataDir::open(path);
  if (!dir.is_ok()) _exit(3);
  auto db = (*dir)->open_database("crash");
  if (!db.is_ok()) db = (*dir)->create_database("crash");
  if (!db.is_ok()) _exit(4);
  std::mt19937_64 rng(seed);
  auto counter = (*db)->get("counter");
  std::string rev = counter.is_ok() ? counter->rev : "";
  long value = 0;
  if (counter.is_ok()) value = std::stol(counter->body.substr(counter->body.find(':') + 1));
  for (int next = 0;;) {
    int count = 1 + static_cast<int>(rng() % 20);
    std::string docs = "[";
    for (int i = 0; i < count; ++i) {
      docs += (i ? "," : "") + std::string("{\"_id\":\"it") + std::to_string(iteration) + "_" +
              std::to_string(next + i) + "\",\"pad\":\"" + std::string(rng() % 300, 'p') + "\"}";
    }
    docs += "]";
    auto r = (*db)->bulk_docs(docs);
    if (!r.is_ok()) _exit(5);
    std::string line = "B " + std::to_string(iteration) + " " + std::to_string(next) + " " +
                       std::to_string(count) + "\n";
    if (write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(6);
    next += count;

    std::string body = "{\"_id\":\"counter\",\"v\":" + std::to_string(value + 1);
    if (!rev.empty()) body += ",\"_rev\":\"" + rev + "\"";
    auto c = (*db)->put(body + "}");
    if (!c.is_ok()) _exit(7);
    rev = c->rev;
    ++value;
    line = "C " + std::to_string(value) + " " + rev + "\n";
    if (write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(8);
    // Now and then a compaction, so that some kills land in its copy or
    // its file swap.
    if (rng() % 6 == 0 && !(*db)->compact().is_ok()) _exit(9);
  }
}

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("every acknowledged write survives SIGKILL of the writer, many times") {
    std::uint64_t seed = std::random_device{}();
    if (const char* s = std::getenv("DIVAN_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
    INFO("seed = " << seed << " (rerun with DIVAN_TEST_SEED)");
    std::mt19937_64 rng(seed);
    TempDir tmp;
    const std::string path = tmp.path() + "/data";

    std::map<std::string, bool> acked_docs;  // id -> acknowledged
    long acked_counter = 0;
    std::string acked_counter_rev;
    constexpr int kRounds = 15;
    int killed_compacting = 0;
    for (int round = 0; round < kRounds; ++round) {
      CAPTURE(round);
      int fds[2];
      REQUIRE(pipe(fds) == 0);
      pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        close(fds[0]);
        writer(path, round, fds[1], rng());
      }
      close(fds[1]);
      // Let it run a random while (after its first report), then kill it.
      std::string reports;
      char buf[4096];
      ssize_t n = read(fds[0], buf, sizeof buf);  // blocks until the first report
      REQUIRE(n > 0);
      reports.append(buf, static_cast<std::size_t>(n));
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 60));
      REQUIRE(kill(pid, SIGKILL) == 0);
      int status = 0;
      REQUIRE(waitpid(pid, &status, 0) == pid);
      REQUIRE(WIFSIGNALED(status));  // killed, not failed on its own
      while ((n = read(fds[0], buf, sizeof buf)) > 0) reports.append(buf, static_cast<std::size_t>(n));
      close(fds[0]);

      std::istringstream lines(reports);
      std::string line;
      while (std::getline(lines, line)) {
        if (lines.eof()) break;  // a report cut short by the kill was never complete
        std::istringstream f(line);
        char kind;
        f >> kind;
        if (kind == 'B') {
          int it, first, count;
          f >> it >> first >> count;
          for (int i = first; i < first + count; ++i) {
            acked_docs["it" + std::to_string(it) + "_" + std::to_string(i)] = true;
          }
        } else {
          f >> acked_counter >> acked_counter_rev;
        }
      }

      // A copy left behind means the kill landed inside a compaction.
      if (std::filesystem::exists(path + "/crash.divan.compact")) ++killed_compacting;

      // Reopen and check.
      auto dir = DataDir::open(path);
      REQUIRE_MESSAGE(dir.is_ok(), dir.status().to_string());
      auto db = (*dir)->open_database("crash");
      REQUIRE_MESSAGE(db.is_ok(), db.status().to_string());
      for (const auto& [id, _] : acked_docs) {
        CAPTURE(id);
        CHECK((*db)->get(id).is_ok());
      }
      auto counter = (*db)->get("counter");
      REQUIRE(counter.is_ok());
      long stored = std::stol(counter->body.substr(counter->body.find(':') + 1));
      CHECK(stored >= acked_counter);
      if (stored == acked_counter) CHECK(counter->rev == acked_counter_rev);
      // Self-consistent: counts, all_docs and the feed agree.
      auto info = (*db)->info();
      auto all = (*db)->all_docs(AllDocsOptions{});
      auto feed = (*db)->changes(ChangesOptions{});
      REQUIRE(info.is_ok());
      REQUIRE(all.is_ok());
      REQUIRE(feed.is_ok());
      CHECK(info->doc_count == all->rows.size());
      CHECK(info->doc_count >= acked_docs.size() + 1);
      CHECK(feed->rows.size() == info->doc_count + info->doc_del_count);
      CHECK(feed->last_seq == info->update_seq);
    }
    MESSAGE(killed_compacting << " of " << kRounds << " kills landed inside a compaction");
  }
}
