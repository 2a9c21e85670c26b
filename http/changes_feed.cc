// ChangesFeed and the _changes parameters.
//
// How a feed runs: start() reads the first page; run() sends it and loops:
// read the next page while the last one was full, else decide whether the
// response is over (normal; longpoll with rows; limit reached; server
// stopping), else wait on the FeedWaiter until the next change, the next
// heartbeat or the timeout. The database's change callback only wakes the
// waiter; the feed itself reads the changes on its own (connection) thread.
// A wake that comes between the check of update_seq() and the wait is kept
// by the waiter's flag, so no change is missed.
#include "http/changes_feed.h"

#include <algorithm>
#include <charconv>

#include "http/system_docs.h"

namespace divan::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Rows per read: big enough to amortise a read transaction, small enough
// that a feed of any length needs little memory.
constexpr std::uint64_t kPageRows = 1000;
constexpr std::uint64_t kPageRowsWithDocs = 100;

// Buffers larger than this are given back after each write.
constexpr std::size_t kKeepBuffer = 64 << 10;

Status bad(std::string reason) { return Status::bad_request(std::move(reason)); }

// `since`: an integer, "now", optionally JSON-quoted (CouchDB takes both), or
// a CouchDB 2.x/3.x "N-opaque" sequence, of which the leading N counts.
// Returns nullopt for "now".
Result<std::optional<std::uint64_t>> parse_since(std::string_view v) {
  if (v.size() > 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v == "now") return std::optional<std::uint64_t>();
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  bool ok = ec == std::errc() && p != v.data() && (p == v.data() + v.size() || *p == '-');
  if (!ok) return bad("Malformed sequence supplied in 'since' parameter.");
  return std::optional<std::uint64_t>(n);
}

// A positive number of milliseconds for `heartbeat` ("true": the default).
Result<milliseconds> parse_heartbeat(const std::string& v) {
  if (v == "true") return kMaxChangesTimeout;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    return bad("Invalid heartbeat value. Expecting a positive integer value (in milliseconds).");
  }
  if (n <= 0) return bad("The heartbeat value should be a positive integer (in milliseconds).");
  return std::min(milliseconds(n), kMaxChangesTimeout);
}

// The ids of a `doc_ids` value; non-string entries can match no document
// and are dropped (CouchDB compares them and never matches either).
Status read_doc_ids(const rapidjson::Value* v, std::vector<std::string>* out) {
  if (v == nullptr || !v->IsArray()) return bad("`doc_ids` filter parameter is not a list.");
  for (const auto& id : v->GetArray()) {
    if (id.IsString()) out->emplace_back(id.GetString(), id.GetStringLength());
  }
  return Status::ok();
}

// `body`: a POST's parsed body, or null.
Status parse_filter(const Ctx& ctx, const rapidjson::Document* body, const std::string& filter,
                    ChangesParams* p) {
  if (filter.empty()) return Status::ok();
  if (filter == "_design") {
    p->options.filter = ChangesFilter::kDesign;
    return Status::ok();
  }
  if (filter == "_doc_ids") {
    p->options.filter = ChangesFilter::kDocIds;
    // POST: the body's "doc_ids"; the query's `doc_ids` if the body has none.
    if (body != nullptr) {
      if (auto it = body->FindMember("doc_ids"); it != body->MemberEnd()) {
        return read_doc_ids(&it->value, &p->options.doc_ids);
      }
    }
    auto q = ctx.json_param("doc_ids");
    if (!q.is_ok()) return q.status();
    return read_doc_ids(q->has_value() ? &**q : nullptr, &p->options.doc_ids);
  }
  if (filter == "_selector" || filter == "_view") {
    return bad("The " + filter + " filter is not supported.");
  }
  if (filter[0] == '_') return bad("unknown builtin filter name");
  // "ddoc/name": a JavaScript filter. Without a JS engine we refuse it
  // plainly rather than ignore it (a replication would copy everything).
  std::size_t slash = filter.find('/');
  if (slash == 0 || slash == std::string::npos || slash + 1 == filter.size() ||
      filter.find('/', slash + 1) != std::string::npos) {
    return bad("`filter` must be of the form `designname/filtername`");
  }
  return bad("JavaScript filters (" + filter + ") are not supported; use _doc_ids or _design.");
}

std::string seq_text(std::uint64_t seq) { return std::to_string(seq); }

}  // namespace

Result<ChangesParams> parse_changes_params(const Ctx& ctx) {
  ChangesParams p;
  if (const std::string* f = ctx.param("feed")) {
    if (*f == "normal") p.feed = FeedKind::kNormal;
    else if (*f == "longpoll") p.feed = FeedKind::kLongpoll;
    else if (*f == "continuous" || *f == "live") p.feed = FeedKind::kContinuous;
    else if (*f == "eventsource") p.feed = FeedKind::kEventsource;
    else return bad("Supported `feed` types: normal, continuous, live, longpoll, eventsource");
  }

  // A browser's EventSource reconnects with the last id it saw.
  std::string since_text;
  bool has_since = false;
  if (const std::string* s = ctx.param("since")) {
    since_text = *s;
    has_since = true;
  }
  if (p.feed == FeedKind::kEventsource && ctx.req().has_header("Last-Event-ID")) {
    since_text = ctx.header("Last-Event-ID");
    has_since = true;
  }
  if (has_since) {
    auto since = parse_since(since_text);
    if (!since.is_ok()) return since.status();
    if (since->has_value()) p.options.since = **since;
    else p.since_now = true;
  }

  auto limit = ctx.uint_param("limit");
  if (!limit.is_ok()) return limit.status();
  p.options.limit = *limit;

  auto descending = ctx.bool_param("descending", false);
  if (!descending.is_ok()) return descending.status();
  // A live feed follows the end of the feed: descending means nothing there.
  p.options.descending = *descending && p.feed == FeedKind::kNormal;

  if (const std::string* hb = ctx.param("heartbeat")) {
    auto heartbeat = parse_heartbeat(*hb);
    if (!heartbeat.is_ok()) return heartbeat.status();
    p.heartbeat = *heartbeat;
  }
  auto timeout = ctx.uint_param("timeout");
  if (!timeout.is_ok()) return timeout.status();
  if (timeout->has_value()) {
    p.timeout = milliseconds(std::min<std::uint64_t>(**timeout, kMaxChangesTimeout.count()));
  }

  auto include_docs = ctx.bool_param("include_docs", false);
  if (!include_docs.is_ok()) return include_docs.status();
  p.options.include_docs = *include_docs;
  auto conflicts = ctx.bool_param("conflicts", false);
  if (!conflicts.is_ok()) return conflicts.status();
  p.options.conflicts = *conflicts;

  if (const std::string* style = ctx.param("style")) {
    if (*style == "main_only") p.options.style = ChangesStyle::kMainOnly;
    else if (*style == "all_docs") p.options.style = ChangesStyle::kAllDocs;
    else return bad("Invalid `style` value: must be main_only or all_docs");
  }

  if (ctx.param("seq_interval") != nullptr) {
    auto interval = ctx.uint_param("seq_interval");
    if (!interval.is_ok() || **interval == 0) {
      return bad("Invalid `seq_interval`: must be a positive integer");
    }
    p.seq_interval = **interval;
  }

  // A POST's body, when there is one, must be a JSON object (CouchDB reads
  // it whatever the filter; an empty body is allowed).
  std::optional<rapidjson::Document> body;
  if (ctx.is("POST") && !ctx.body().empty()) {
    auto parsed = ctx.json_body();
    if (!parsed.is_ok()) return parsed.status();
    if (!parsed->IsObject()) return bad("Request body must be a JSON object");
    body = std::move(parsed.value());
  }
  if (const std::string* filter = ctx.param("filter")) {
    if (Status s = parse_filter(ctx, body ? &*body : nullptr, *filter, &p); !s.is_ok()) return s;
  }
  // attachments, att_encoding_info: documents carry no attachments yet.
  return p;
}

ChangesFeed::ChangesFeed(Server& server, std::shared_ptr<Database> db, ChangesParams params)
    : server_(server), db_(std::move(db)), params_(std::move(params)) {}

ChangesFeed::~ChangesFeed() {
  subscription_.reset();  // the callback no longer runs, so waiter_ is free
  if (registered_) server_.remove_feed(&waiter_);
}

const char* ChangesFeed::content_type() const {
  return params_.feed == FeedKind::kEventsource ? "text/event-stream" : "application/json";
}

Status ChangesFeed::start() {
  remaining_ = params_.options.limit;
  if (live()) {
    // Subscribe before the first read: a change committed after that read
    // then either shows in update_seq() or wakes the waiter.
    subscription_ = db_->subscribe([w = &waiter_](std::uint64_t) { w->wake(); });
    server_.add_feed(&waiter_);
    registered_ = true;
  }
  since_ = params_.since_now ? db_->update_seq() : params_.options.since;
  if (params_.feed == FeedKind::kNormal || params_.feed == FeedKind::kLongpoll) {
    out_ = "{\"results\":[\n";
  }
  if (Status s = fetch(); !s.is_ok()) return s;
  if (!more_ && (params_.feed == FeedKind::kNormal || limit_reached() ||
                 (params_.feed == FeedKind::kLongpoll && rows_ > 0))) {
    finish();
  }
  return Status::ok();
}

Status ChangesFeed::fetch() {
  ChangesOptions& o = params_.options;  // reused: no copy of doc_ids per read
  // Unfiltered ascending reads go page by page; filtered ones look their
  // documents up by id and come whole, and descending is read at once.
  const bool paged = o.filter == ChangesFilter::kNone && !o.descending;
  if (!more_) burst_end_ = db_->update_seq();
  o.since = since_;
  o.limit = remaining_;
  if (paged) {
    std::uint64_t page = o.include_docs ? kPageRowsWithDocs : kPageRows;
    o.limit = std::min(remaining_.value_or(UINT64_MAX), page);
  }
  auto r = db_->changes(o);
  if (!r.is_ok()) return r.status();
  for (const ChangeRow& row : r->rows) append_row(row);
  if (remaining_) *remaining_ -= std::min<std::uint64_t>(*remaining_, r->rows.size());
  since_ = r->last_seq;
  pending_ = r->pending;
  // More to read at once when the page was full and rows are left, up to
  // where the feed ended when this burst began (so a normal response ends
  // even under a steady stream of writes).
  more_ = paged && o.limit && r->rows.size() == *o.limit && r->pending > 0 && !limit_reached() &&
          since_ < burst_end_;
  return Status::ok();
}

void ChangesFeed::append_row(const ChangeRow& row) {
  ++rows_;
  // seq_interval N: the N-th, 2N-th, ... rows of the response carry their
  // seq. (CouchDB counts down from the limit instead, an artefact of its
  // clustered collector; any choice is valid for clients, which must accept
  // null seqs once they ask for seq_interval.)
  const bool with_seq = rows_ % params_.seq_interval == 0;
  JsonWriter w;
  w.start_object();
  w.key("seq");
  if (with_seq) w.number(row.seq);
  else w.null();
  w.key("id").string(row.id);
  w.key("changes").start_array();
  for (const std::string& rev : row.changes) w.start_object().key("rev").string(rev).end_object();
  w.end_array();
  if (row.deleted) w.key("deleted").boolean(true);
  if (row.doc) w.key("doc").raw(doc_json_for_read(db_->name(), *row.doc));
  w.end_object();
  std::string json = w.take();

  switch (params_.feed) {
    case FeedKind::kNormal:
    case FeedKind::kLongpoll:
      if (rows_ > 1) out_ += ",\n";
      out_ += json;
      break;
    case FeedKind::kContinuous:
      out_ += json;
      out_ += '\n';
      break;
    case FeedKind::kEventsource:
      out_ += "data: ";
      out_ += json;
      out_ += "\nid: ";
      out_ += with_seq ? seq_text(row.seq) : "null";
      out_ += "\n\n";
      break;
  }
}

void ChangesFeed::finish() {
  const std::string last = seq_text(since_), pending = seq_text(pending_);
  switch (params_.feed) {
    case FeedKind::kNormal:
    case FeedKind::kLongpoll:
      out_ += "\n],\n\"last_seq\":" + last + ",\"pending\":" + pending + "}\n";
      break;
    case FeedKind::kContinuous:
      out_ += "{\"last_seq\":" + last + ",\"pending\":" + pending + "}\n";
      break;
    case FeedKind::kEventsource:
      break;  // EventSource has no closing event
  }
  complete_ = true;
}

bool ChangesFeed::run(const WriteFn& write) {
  const bool is_normal = params_.feed == FeedKind::kNormal;
  const bool is_longpoll = params_.feed == FeedKind::kLongpoll;
  const char* heartbeat_text =
      params_.feed == FeedKind::kEventsource ? "event: heartbeat\ndata: \n\n" : "\n";
  auto last_send = steady_clock::now();
  // Without a heartbeat a live feed ends after `timeout` without a change
  // (chttpd's rule: the wait restarts whenever the database changes).
  auto idle_deadline = last_send + params_.timeout;

  // A read that fails mid-stream: a deleted database ends the feed cleanly
  // (as CouchDB's does); anything else cuts the response short.
  auto read_failed = [&](const Status& s) {
    if (s.code() == ErrorCode::kNotFound) {
      finish();
      return true;
    }
    server_.log(LogLevel::kError, "_changes of " + db_->name() + " failed: " + s.to_string());
    return false;
  };

  for (;;) {
    if (!out_.empty()) {
      if (!write(out_)) return false;  // the client went away
      if (out_.capacity() > kKeepBuffer) std::string().swap(out_);
      else out_.clear();
      last_send = steady_clock::now();
    }
    if (complete_) return true;

    if (more_) {
      if (Status s = fetch(); !s.is_ok() && !read_failed(s)) return false;
      continue;
    }
    if (is_normal || limit_reached() || (is_longpoll && rows_ > 0) || server_.stopping()) {
      finish();
      continue;
    }
    if (db_->update_seq() > since_) {
      if (Status s = fetch(); !s.is_ok() && !read_failed(s)) return false;
      idle_deadline = steady_clock::now() + params_.timeout;
      continue;
    }

    auto deadline = params_.heartbeat ? last_send + *params_.heartbeat : idle_deadline;
    if (waiter_.wait_until(deadline)) continue;  // a change, or the server stopping
    if (!params_.heartbeat) {
      finish();  // timed out
      continue;
    }
    // Time for a heartbeat. A deleted database publishes no more changes,
    // so ask it whether it is still there (a cheap read: limit 0).
    ChangesOptions probe;
    probe.since = since_;
    probe.limit = 0;
    if (auto r = db_->changes(probe); !r.is_ok()) {
      if (!read_failed(r.status())) return false;
      continue;
    }
    out_ += heartbeat_text;
  }
}

}  // namespace divan::http
