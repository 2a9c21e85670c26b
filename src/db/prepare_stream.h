// The documents of one large `_bulk_docs` array on their way from the
// thread that parses them to the writer, in batches, while parsing goes on.
//
// Between parsing and writing, each document is prepared (its revision hash
// and its records computed), which costs about as much as parsing it. Either
// thread prepares a parsed batch: the writer whenever the next batch it needs
// is parsed but not yet prepared, instead of waiting for it, and the parser,
// once it has parsed everything, the batches the writer has not reached. So
// the two threads share the work, and a bulk load keeps both cores going.
// When the parser is preparing the very batch the writer needs next, the
// writer prepares a later one meanwhile rather than wait (measured: its
// waits fell from 14% to 8% of its time, and back-to-back arrays on tmpfs
// ran about 5% faster, paired runs).
// (The parser parses on first because only it can parse; preparing batches
// as it went made the writer wait for it. Measured: 2-3% faster.)
//
// A batch takes some tens of microseconds to parse, which is about what
// waking a sleeping thread takes on a virtual machine; so the writer spins
// for a short while (kSpin) before it sleeps on the condition variable.
//
// Errors keep the order a single thread would give: a parse error (reported
// by the parser when it finishes) comes before any refused document, and of
// refused documents the first in the array counts. Once a document is
// refused, nothing after it is prepared; the parser still reads on to the
// end, since a JSON error further on is the answer then.
#ifndef DIVAN_DB_PREPARE_STREAM_H_
#define DIVAN_DB_PREPARE_STREAM_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "db/spin_wait.h"
#include "divan/status.h"

namespace divan::db {

template <typename In, typename Out>
class PrepareStream {
 public:
  // Turns one parsed item into a prepared one; an error refuses the array.
  // Called from either thread, never twice at once for one batch, and for
  // the batches of one stream in any order.
  using Prepare = std::function<Status(In&, Out*)>;

  // How long the writer spins for the next batch before it sleeps.
  static constexpr std::chrono::microseconds kSpin{100};

  static constexpr std::size_t kDefaultBatch = 64;
  static constexpr std::size_t kFirstBatch = 8;

  // With `producer_prepares` false only the consumer prepares (tests use it
  // to drive that path on its own).
  explicit PrepareStream(Prepare prepare, std::size_t batch_size = kDefaultBatch,
                         bool producer_prepares = true)
      : prepare_(std::move(prepare)), batch_size_(batch_size),
        producer_prepares_(producer_prepares) {}

  // ---- producer (the parsing thread) ----

  // Adds the next parsed item. Every batch_size items it publishes a batch.
  void add(In item) {
    if (refused_.load(std::memory_order_relaxed)) return;  // to be discarded anyway
    filling_.push_back(std::move(item));
    // The first batch is small, so that the writer starts soon (measured:
    // it waited 40 us less per 1000-document array).
    if (filling_.size() < (published_ == 0 ? kFirstBatch : batch_size_)) return;
    publish();
  }

  // Ends the stream with how parsing went, publishing what is left, and
  // prepares every batch still waiting for it.
  void finish(Status parse_status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (parse_status.is_ok() && !filling_.empty()) push_locked();
      parse_status_ = std::move(parse_status);
      done_ = true;
      changed_locked();
    }
    cv_.notify_all();
    prepare_rest();
  }

  // The consumer stopped early: the producer may stop too.
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // ---- consumer (the writer) ----

  // Appends the next batch, in order, to `out`, preparing it itself if no
  // one has, and waiting for it otherwise. Returns false once the stream
  // has ended (then status() tells how) or an item was refused.
  bool take(std::vector<Out>* out) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (done_ && !parse_status_.is_ok()) return false;  // nothing of it is written
      if (!batches_.empty()) {
        Batch& b = *batches_.front();
        if (b.state == Batch::kPrepared) {
          if (!b.refusal.is_ok()) break;
          for (Out& o : b.out) out->push_back(std::move(o));
          batches_.pop_front();
          return true;
        }
        // Prepare a batch here rather than wait: this one if nobody is on
        // it, else (the producer is preparing it) a later one.
        if (Batch* todo = b.state == Batch::kParsed ? &b : first_parsed_locked()) {
          todo->state = Batch::kClaimed;
          lock.unlock();
          prepare_batch(*todo);
          lock.lock();
          mark_prepared_locked(*todo);
          continue;
        }
      } else if (done_) {
        return false;
      }
      // The producer is preparing the next batch, or parsing it.
      consumer_waiting_ = true;
      wait_for_change(lock);
      consumer_waiting_ = false;
    }
    // A refused item: the answer waits for the end of parsing.
    cv_.wait(lock, [&] { return done_; });
    return false;
  }

  // How the stream ended: the parse error, else the first refused item,
  // else ok. Valid once take() has returned false.
  Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!parse_status_.is_ok()) return parse_status_;
    return first_refusal_;
  }

  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }

 private:
  struct Batch {
    enum State { kParsed, kClaimed, kPrepared };
    std::vector<In> in;
    std::vector<Out> out;
    State state = kParsed;
    std::size_t index = 0;  // its place in the stream
    Status refusal;
  };

  // Waits until the state changes: spins for up to kSpin, then sleeps.
  // Every change bumps changes_ while holding mu_, so once the lock is held
  // again an unchanged count means no change was missed.
  void wait_for_change(std::unique_lock<std::mutex>& lock) {
    const std::uint64_t seen = changes_.load(std::memory_order_relaxed);
    lock.unlock();
    spin_until(kSpin, [&] { return changes_.load(std::memory_order_acquire) != seen; });
    lock.lock();
    if (changes_.load(std::memory_order_relaxed) == seen) cv_.wait(lock);
  }

  void changed_locked() { changes_.fetch_add(1, std::memory_order_release); }

  void publish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      push_locked();
    }
    cv_.notify_all();
  }

  void push_locked() {
    auto b = std::make_unique<Batch>();
    b->index = published_++;
    b->in = std::move(filling_);
    filling_.clear();
    filling_.reserve(batch_size_);
    batches_.push_back(std::move(b));
    changed_locked();
  }

  // Prepares the batches nobody has taken on, oldest first (newest first,
  // to meet the writer only once, measured no faster).
  void prepare_rest() {
    if (!producer_prepares_) return;
    for (;;) {
      Batch* b = nullptr;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (cancelled()) return;
        // The batch the writer waits for is its to prepare: it would
        // otherwise wait for this thread to prepare it.
        const bool leave_front = consumer_waiting_ && !batches_.empty();
        b = first_parsed_locked(leave_front ? batches_.front().get() : nullptr);
        if (b == nullptr) return;
        b->state = Batch::kClaimed;
      }
      prepare_batch(*b);
      {
        std::lock_guard<std::mutex> lock(mu_);
        mark_prepared_locked(*b);
      }
      cv_.notify_all();
    }
  }

  // The oldest published batch that no one has taken on, other than
  // `skip`, if any; none once an item was refused.
  Batch* first_parsed_locked(const Batch* skip = nullptr) {
    if (refused_.load(std::memory_order_relaxed)) return nullptr;
    for (auto& b : batches_) {
      if (b.get() != skip && b->state == Batch::kParsed) return b.get();
    }
    return nullptr;
  }

  // Runs with no lock held: the batch is claimed, so no one else touches it.
  void prepare_batch(Batch& b) {
    b.out.reserve(b.in.size());
    for (In& item : b.in) {
      b.out.emplace_back();
      if (Status s = prepare_(item, &b.out.back()); !s.is_ok()) {
        b.out.pop_back();
        b.refusal = std::move(s);
        break;
      }
    }
    b.in = std::vector<In>();
  }

  void mark_prepared_locked(Batch& b) {
    b.state = Batch::kPrepared;
    changed_locked();
    if (b.refusal.is_ok()) return;
    refused_.store(true, std::memory_order_relaxed);
    // Batches may finish out of order: the earliest refusal counts.
    if (b.index < first_refusal_index_) {
      first_refusal_index_ = b.index;
      first_refusal_ = b.refusal;
    }
  }

  const Prepare prepare_;
  const std::size_t batch_size_;
  const bool producer_prepares_;
  std::vector<In> filling_;  // producer only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> batches_;  // published, not yet taken, in order
  bool done_ = false;                           // guarded by mu_
  bool consumer_waiting_ = false;               // guarded by mu_
  Status parse_status_;                         // guarded by mu_
  Status first_refusal_;                        // guarded by mu_
  std::size_t first_refusal_index_ = static_cast<std::size_t>(-1);  // guarded by mu_
  std::size_t published_ = 0;                   // guarded by mu_
  std::atomic<bool> refused_{false};
  std::atomic<bool> cancelled_{false};
  std::atomic<std::uint64_t> changes_{0};  // bumped under mu_ at every change
};

}  // namespace divan::db

#endif  // DIVAN_DB_PREPARE_STREAM_H_
