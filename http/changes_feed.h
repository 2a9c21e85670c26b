// The _changes feed over HTTP: its parameters, and ChangesFeed, which
// produces one response in any of CouchDB's four formats (normal, longpoll,
// continuous, eventsource).
//
// A feed reads the core's changes in pages (never the whole feed at once),
// and live feeds wait for the next change on a FeedWaiter that a database
// subscription wakes: no polling. Server::stop() wakes them too, and they
// then end their response cleanly.
#ifndef DIVAN_HTTP_CHANGES_FEED_H_
#define DIVAN_HTTP_CHANGES_FEED_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "divan/changes.h"
#include "divan/database.h"
#include "divan/status.h"
#include "http/context.h"
#include "http/server.h"

namespace divan::http {

enum class FeedKind {
  kNormal,       // one JSON object, answered at once
  kLongpoll,     // one JSON object, answered once there is at least one row
  kContinuous,   // one JSON row per line, open while changes come
  kEventsource,  // Server-Sent Events, open while changes come
};

// chttpd's changes_timeout: the longest wait without a heartbeat, and the
// longest interval between heartbeats.
inline constexpr std::chrono::milliseconds kMaxChangesTimeout{60000};

struct ChangesParams {
  FeedKind feed = FeedKind::kNormal;
  // What to read. `since` is resolved, except for since=now (below).
  // `descending` is honoured by the normal feed only.
  ChangesOptions options;
  bool since_now = false;  // start at the update_seq when the feed starts
  // Live feeds: the newline heartbeat interval; when set the feed never ends
  // on its own (the timeout is ignored).
  std::optional<std::chrono::milliseconds> heartbeat;
  // Live feeds without a heartbeat: end after this long without a change.
  std::chrono::milliseconds timeout = kMaxChangesTimeout;
  // Only every seq_interval-th row carries its seq; the others "seq":null.
  std::uint64_t seq_interval = 1;
};

// Reads _changes' query parameters, the Last-Event-ID header (eventsource)
// and, for POST ?filter=_doc_ids, the body's "doc_ids". Does not check the
// Content-Type. Errors: bad_request with CouchDB's reasons.
Result<ChangesParams> parse_changes_params(const Ctx& ctx);

// One _changes response being produced. Use: start(); then either the
// response is complete() and take_output() is all of it, or run() streams
// the rest (blocking) through a write function.
//
// Thread-safety: one thread drives a feed; the database's commit threads
// only wake it.
class ChangesFeed {
 public:
  // Writes `data` to the client; false once the client is gone.
  using WriteFn = std::function<bool(std::string_view data)>;

  ChangesFeed(Server& server, std::shared_ptr<Database> db, ChangesParams params);
  ~ChangesFeed();
  ChangesFeed(const ChangesFeed&) = delete;
  ChangesFeed& operator=(const ChangesFeed&) = delete;

  // Reads the first page of rows (subscribing to the database first, for a
  // live feed), so that errors can still become an HTTP status.
  // Errors: those of Database::changes.
  Status start();

  // The response is already whole: take_output() is all of it.
  bool complete() const { return complete_; }
  std::string take_output() { return std::move(out_); }

  // Sends what start() prepared and everything after it, waiting for
  // changes as the feed's kind says. Returns true when the response ended
  // cleanly, false when the client went away or a read failed mid-stream
  // (the response is then cut short, as CouchDB does).
  bool run(const WriteFn& write);

  // "application/json", or "text/event-stream" for eventsource.
  const char* content_type() const;

 private:
  bool live() const { return params_.feed != FeedKind::kNormal; }
  // Reads the next page after since_ and renders its rows into out_.
  Status fetch();
  void append_row(const ChangeRow& row);
  // Ends the response: the closing text of the kind into out_.
  void finish();
  bool limit_reached() const { return remaining_.has_value() && *remaining_ == 0; }

  Server& server_;
  std::shared_ptr<Database> db_;
  ChangesParams params_;

  std::uint64_t since_ = 0;                 // where the next read starts (last_seq so far)
  std::uint64_t pending_ = 0;               // of the latest read
  std::optional<std::uint64_t> remaining_;  // rows the limit still allows
  std::uint64_t rows_ = 0;                  // rows rendered so far
  bool more_ = false;                       // the latest read stopped at a page boundary
  std::uint64_t burst_end_ = 0;             // update_seq when the current burst began
  bool complete_ = false;
  std::string out_;  // rendered, not yet sent

  // Declared before subscription_: the callback wakes it until unsubscribed.
  FeedWaiter waiter_;
  bool registered_ = false;  // waiter_ is known to the server
  Subscription subscription_;
};

}  // namespace divan::http

#endif  // DIVAN_HTTP_CHANGES_FEED_H_
