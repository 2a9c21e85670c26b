// WriteQueue: group commit for one database.
//
// Writers queue their operations; the writer at the front of the queue (the
// leader) takes the operations queued behind it too, up to a bound, and runs
// them all in one storage transaction with one fsync, as leveldb's
// DBImpl::Write does with BuildBatchGroup. Each operation keeps its own
// results; the group's commit status is returned to every writer in it.
//
// Thread-safety: submit() and exclusive() are thread-safe.
#ifndef DIVAN_DB_WRITE_QUEUE_H_
#define DIVAN_DB_WRITE_QUEUE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

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

  // Runs a group of operations in one transaction and returns the commit
  // status (ok only once the group is durable).
  using GroupRunner = std::function<Status(std::span<Op* const> group)>;

  WriteQueue(GroupRunner runner, std::size_t max_group_weight)
      : runner_(std::move(runner)), max_group_weight_(max_group_weight) {}

  // Queues `op`, waits until a group containing it has been run, and
  // returns that group's status.
  Status submit(Op& op);

  // Runs `fn` while no group is running (for compaction's file swap).
  Status exclusive(const std::function<Status()>& fn);

 private:
  struct Waiter {
    Op* op;
    Status status;
    bool done = false;
    std::condition_variable cv;
  };

  GroupRunner runner_;
  const std::size_t max_group_weight_;
  std::mutex mu_;            // guards queue_
  std::deque<Waiter*> queue_;
  std::mutex run_mu_;        // held while a group runs, and by exclusive()
};

}  // namespace divan::db

#endif  // DIVAN_DB_WRITE_QUEUE_H_
