// WriteQueue: group commit for one database.
//
// Writers queue their operations; the writer at the front of the queue (the
// leader) opens one storage transaction and applies its own operation and
// those queued behind it, up to a bound, then commits them with one fsync,
// as leveldb's DBImpl::Write does with BuildBatchGroup. Each operation keeps
// its own results; the group's commit status is returned to every writer in
// it.
//
// A writer that has just been answered is usually on its way back with its
// next write. So while fewer writers are queued than are active (holding a
// Presence), the leader keeps its group open for them, but no longer than the
// last commit took and never more than kMaxLinger; it wakes when the last of
// them arrives and applies them then. A lone writer never waits.
// (PostgreSQL's commit_delay/commit_siblings trade the same way.)
//
// Thread-safety: every method is thread-safe.
#ifndef DIVAN_DB_WRITE_QUEUE_H_
#define DIVAN_DB_WRITE_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include "divan/status.h"

namespace divan::db {

class WriteQueue {
 public:
  // One queued operation. The group runner decides what to do with it.
  class Op {
   public:
    virtual ~Op() = default;
    // How much of the group bound this operation uses (documents written).
    virtual std::size_t weight() const { return 1; }
  };

  // Hands the runner the group's operations one at a time: the next one, or
  // nullptr once the group is closed (and from then on). It may wait for an
  // active writer to arrive.
  using Source = std::function<Op*()>;

  // Runs a group in one transaction, taking its operations from `next`, and
  // returns the commit status (ok only once the group is durable). If it
  // must start its transaction over, it re-applies the operations taken so
  // far and then goes on calling `next`.
  using GroupRunner = std::function<Status(const Source& next)>;

  WriteQueue(GroupRunner runner, std::size_t max_group_weight)
      : runner_(std::move(runner)), max_group_weight_(max_group_weight) {}

  // Marks a writer as active from its construction (before it parses its
  // input) until its destruction (after submit() returned).
  class Presence {
   public:
    explicit Presence(WriteQueue& q);
    ~Presence();
    Presence(const Presence&) = delete;
    Presence& operator=(const Presence&) = delete;

   private:
    WriteQueue& q_;
  };

  // Queues `op`, waits until a group containing it has been run, and
  // returns that group's status. Callers should hold a Presence.
  Status submit(Op& op);

  // Runs `fn` while no group is running (for compaction's file swap).
  Status exclusive(const std::function<Status()>& fn);

 private:
  struct Waiter {
    Op* op = nullptr;
    Status status;
    bool done = false;
  };

  static constexpr std::chrono::microseconds kMaxLinger{1000};
  // How many queued writers wake a leader that keeps its group open.
  static constexpr std::size_t kWakeBatch = 64;

  GroupRunner runner_;
  const std::size_t max_group_weight_;
  std::mutex mu_;  // guards everything below but run_mu_
  // Queued writers; the first `taken_` belong to the running group.
  std::deque<Waiter*> queue_;
  // Signalled when a group is answered: its writers are done, and the
  // writer now at the front leads.
  std::condition_variable turns_;
  std::size_t taken_ = 0;
  std::size_t active_ = 0;            // writers holding a Presence
  std::condition_variable arrivals_;  // a writer queued or left
  std::chrono::steady_clock::duration last_commit_{0};
  std::mutex run_mu_;  // held while a group runs, and by exclusive()
};

}  // namespace divan::db

#endif  // DIVAN_DB_WRITE_QUEUE_H_
