// The changes feed: every document of a database in the order of its
// latest update sequence, and a way to wait for the next change.
#ifndef DIVAN_CHANGES_H_
#define DIVAN_CHANGES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "divan/document.h"

namespace divan {

enum class ChangesStyle {
  kMainOnly,  // each row lists the winning revision
  kAllDocs,   // each row lists every leaf, winner first
};

enum class ChangesFilter {
  kNone,
  kDocIds,  // only the documents in ChangesOptions::doc_ids
  kDesign,  // only design documents ("_design/...")
};

struct ChangesOptions {
  // Start strictly after this sequence (0: from the beginning). Ignored
  // when descending.
  std::uint64_t since = 0;
  // At most this many rows. 0 returns no rows but a valid last_seq.
  std::optional<std::uint64_t> limit;
  bool descending = false;
  ChangesStyle style = ChangesStyle::kMainOnly;
  bool include_docs = false;
  bool conflicts = false;  // with include_docs: add `_conflicts` to each doc
  ChangesFilter filter = ChangesFilter::kNone;
  std::vector<std::string> doc_ids;  // for ChangesFilter::kDocIds
};

struct ChangeRow {
  std::uint64_t seq = 0;
  std::string id;
  std::vector<std::string> changes;  // revisions, per the style
  bool deleted = false;              // the winning revision is a tombstone
  std::optional<Document> doc;       // with include_docs: the winner
};

struct ChangesResult {
  std::vector<ChangeRow> rows;
  // The sequence to pass as `since` next time: the last row's seq, or,
  // when the scan reached the end of the feed, the last sequence examined;
  // never lower than `since`.
  std::uint64_t last_seq = 0;
  // Changes after last_seq not returned (in the filter, if any).
  std::uint64_t pending = 0;
};

// Keeps a change callback registered; unregisters it when destroyed.
// After the destructor returns the callback is not running and will not run
// again (unless the destructor runs inside the callback itself).
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&&) noexcept = default;
  Subscription& operator=(Subscription&&) noexcept = default;
  ~Subscription() = default;

  class Handle {
   public:
    virtual ~Handle() = default;
  };
  explicit Subscription(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
  bool active() const { return handle_ != nullptr; }
  void reset() { handle_.reset(); }

 private:
  std::unique_ptr<Handle> handle_;
};

// Called after each commit that changed the feed, with the new update_seq,
// on the committing thread. Keep it short (wake something and return); it
// must not write to the same database.
using ChangeCallback = std::function<void(std::uint64_t update_seq)>;

}  // namespace divan

#endif  // DIVAN_CHANGES_H_
