// HttpPeer: the Peer interface over CouchDB's HTTP API (divan/http_peer.h).
//
// Each Peer call is one request (or a few: _bulk_docs halves its batch on
// 413, the _bulk_get fallback sends one GET per document, and a session
// logs in first), sent on one keep-alive connection of a cpp-httplib
// client, an SSLClient for https. Answers are read whole and
// parsed with RapidJSON; anything of the wrong shape becomes bad_request,
// never a crash, so every member is type-checked before it is read
// (RapidJSON asserts on a wrong-type access).
//
// Errors are sorted as the replicator needs them: what may work later
// (refused or broken connections, timeouts, 408, 429, 5xx) is a transient
// io_error; everything the server refused for good keeps CouchDB's error
// name. A certificate that cannot be verified is refused for good too:
// waiting does not make it trustworthy. Reasons name the database by its
// redacted URL, never the password.
#include <httplib.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "divan/http_peer.h"
#include "http/http_peer.h"
#include "http/json.h"
#include "http/peer_url.h"
#include "http/version.h"

namespace divan {
namespace {

using http::get_json_text;
using http::get_member;
using http::get_string;
using http::JsonWriter;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The longest pause between heartbeats of a longpoll: short enough that
// proxies and our own read timeout see a live connection.
constexpr milliseconds kMaxHeartbeat{10000};
constexpr milliseconds kMinHeartbeat{10};

// Revisions per GET of the _bulk_get fallback, as PouchDB does, so that the
// open_revs query string stays a sane length.
constexpr std::size_t kRevsPerGet = 50;

const char kNoDatabase[] = "Database does not exist.";

// One HTTP answer, read whole.
struct Reply {
  int status = 0;
  std::string body;
  bool wait_ended = false;  // a longpoll that we ended at its deadline
};

// The AuthSession cookie a server sets ("AuthSession=TOKEN; Path=/; ..."),
// or nullopt if `set_cookie` sets another cookie. An empty token is a
// cleared cookie.
std::optional<std::string> auth_session_cookie(std::string_view set_cookie) {
  constexpr std::string_view kName = "AuthSession=";
  while (!set_cookie.empty() && set_cookie.front() == ' ') set_cookie.remove_prefix(1);
  if (!set_cookie.starts_with(kName)) return std::nullopt;
  set_cookie.remove_prefix(kName.size());
  return std::string(set_cookie.substr(0, set_cookie.find(';')));
}

// How a longpoll is ended by us: the server keeps it open with heartbeats
// (CouchDB ignores `timeout` once `heartbeat` is set), so at the first
// heartbeat near the deadline we hang up, unless a row has begun.
struct Longpoll {
  steady_clock::time_point deadline;
  milliseconds heartbeat{0};
  // How much of kOpening has arrived; CouchDB and divan send it at once and
  // then heartbeats (newlines) until the first row.
  std::size_t opening_seen = 0;
  bool rows_started = false;
  bool timed_out = false;

  static constexpr std::string_view kOpening = "{\"results\":[";

  // Takes the next bytes of the answer; false to hang up.
  bool receive(const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n && !rows_started; ++i) {
      char c = data[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
      if (opening_seen < kOpening.size() && c == kOpening[opening_seen]) {
        ++opening_seen;
      } else {
        rows_started = true;  // a row, the end of the list, or another answer
      }
    }
    // Nothing yet: hang up if the next heartbeat would come after the deadline.
    if (!rows_started && steady_clock::now() + heartbeat / 2 >= deadline) {
      timed_out = true;
      return false;
    }
    return true;
  }
};

// A heartbeat that divides `wait` evenly, at most kMaxHeartbeat and well
// under the read timeout, so a heartbeat falls on the deadline.
milliseconds heartbeat_for(milliseconds wait, milliseconds request_timeout) {
  milliseconds cap = std::clamp(request_timeout / 2, kMinHeartbeat, kMaxHeartbeat);
  auto n = (wait.count() + cap.count() - 1) / cap.count();
  return std::max(milliseconds(wait.count() / std::max<decltype(n)>(n, 1)), kMinHeartbeat);
}

std::string transport_error(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "could not connect";
    case httplib::Error::ConnectionTimeout: return "timed out connecting";
    case httplib::Error::Read: return "connection broken or timed out while reading the answer";
    case httplib::Error::Write: return "connection broken while sending the request";
    case httplib::Error::Canceled: return "request canceled";
    case httplib::Error::Compression: return "could not decompress the answer";
    default: return "HTTP client error " + std::to_string(static_cast<int>(e));
  }
}

// The client for `url`: plain, or TLS verifying the server's certificate
// (cpp-httplib 0.11 checks the chain, then that the certificate's
// subjectAltName, or else its common name, names the host we connect to).
std::unique_ptr<httplib::ClientImpl> make_client(const http::PeerUrl& url,
                                                 const HttpPeerOptions& options) {
  if (!url.tls) return std::make_unique<httplib::ClientImpl>(url.host, url.port);
  auto tls = std::make_unique<httplib::SSLClient>(url.host, url.port);
  tls->enable_server_certificate_verification(options.verify_certificates);
  if (!options.ca_file.empty()) tls->set_ca_cert_path(options.ca_file);
  return tls;
}

class HttpPeer final : public Peer {
 public:
  HttpPeer(http::PeerUrl url, std::string_view given_url, const HttpPeerOptions& options)
      : url_(std::move(url)),
        redacted_(redact_url(given_url)),
        options_(options),
        client_(make_client(url_, options_)),
        tls_(url_.tls ? static_cast<httplib::SSLClient*>(client_.get()) : nullptr) {
    const std::optional<std::string>& user = options_.username ? options_.username : url_.user;
    id_ = url_.without_password(user);
    origin_ = std::string(url_.scheme()) + "://" + url_.host_header();
    client_->set_keep_alive(true);
    client_->set_tcp_nodelay(true);
    client_->set_url_encode(false);  // paths are encoded here, component by component
    client_->set_connection_timeout(options_.connect_timeout);
    client_->set_read_timeout(options_.request_timeout);
    client_->set_write_timeout(options_.request_timeout);
    if (user) {
      user_ = *user;
      password_ = options_.username ? options_.password.value_or("") : url_.password.value_or("");
      if (options_.auth == PeerAuth::kSession) {
        session_ = Session::kLoginNeeded;
      } else {
        client_->set_basic_auth(user_, password_);
      }
    }
    // Every request carries these (set by us rather than as httplib's
    // default headers, so what is sent does not depend on where a version
    // of httplib merges those). Host is ours so an IPv6 address gets its
    // brackets.
    headers_.emplace("Host", url_.host_header());
    headers_.emplace("Accept", "application/json");
    headers_.emplace("User-Agent", std::string("divan/") + http::kDivanVersion);
    for (const auto& [name, value] : options_.headers) {
      headers_.erase(name);
      headers_.emplace(name, value);
    }
  }

  std::string id() const override { return id_; }
  Result<PeerInfo> info() override;
  Status create() override;
  Result<PeerChanges> changes(const PeerChangesOptions& options) override;
  Result<std::vector<RevsDiffEntry>> revs_diff(const std::vector<RevsDiffRequest>& request) override;
  Result<std::vector<BulkGetResult>> bulk_get(const std::vector<BulkGetRequest>& request) override;
  Result<std::vector<DocResult>> bulk_docs(const std::vector<std::string>& docs) override;
  Result<std::string> ensure_full_commit() override;
  Result<std::optional<std::string>> get_local(std::string_view id) override;
  Result<std::string> put_local(std::string_view id, std::string_view json) override;
  void interrupt() override;

 private:
  // One request with its answer; in a cookie session, logs in first when
  // needed, and once more (then sends again) on a 401.
  Result<Reply> send(const char* method, const std::string& target, std::string body = {},
                     Longpoll* longpoll = nullptr);
  // One request as it is, with the session cookie if there is one;
  // adopts an AuthSession cookie the answer sets.
  Result<Reply> exchange(const char* method, const std::string& target, std::string body,
                         Longpoll* longpoll, const char* content_type = "application/json");
  // POST /_session with the credentials; on 404 or 405 (no sessions on this
  // server) Basic auth instead. Errors: unauthorized (refused), or those of
  // any answer.
  Status log_in();
  // The Status for a request that got no answer.
  Status transport_failure(const std::string& what, httplib::Error e) const;
  // The Status for an answer that is not the one hoped for. `db_level`: a
  // 404 means the database is missing (rather than a document).
  Status error_from(const Reply& r, const char* method, const std::string& target,
                    bool db_level = true) const;
  Status bad_answer(const std::string& what) const {
    return Status::bad_request("Unexpected answer to " + what + " from " + redacted_);
  }
  Status no_database() const { return Status::not_found("Database does not exist: " + redacted_); }
  Result<std::vector<DocResult>> write_docs(const std::vector<std::string>& docs, std::size_t begin,
                                            std::size_t end);
  Result<std::vector<BulkGetResult>> bulk_get_each(const std::vector<BulkGetRequest>& request);

  http::PeerUrl url_;
  std::string redacted_;  // the URL as given, password masked: for reasons
  std::string origin_;    // "http://host:port", to name a request in reasons
  std::string id_;
  HttpPeerOptions options_;
  httplib::Headers headers_;
  std::unique_ptr<httplib::ClientImpl> client_;
  httplib::SSLClient* tls_;  // client_, for https; else null
  // The credentials in use (of the options, or else of the URL).
  std::string user_, password_;
  // kLoginNeeded: a session is wanted and has no cookie yet (or lost it);
  // kCookie: requests carry cookie_. kNone: no session (no credentials,
  // Basic auth, or a server without _session).
  enum class Session { kNone, kLoginNeeded, kCookie };
  Session session_ = Session::kNone;
  std::string cookie_;  // the AuthSession token
  bool root_checked_ = false;  // GET / said "couchdb"; its fields are in root_
  PeerInfo root_;
  bool no_bulk_get_ = false;  // the server has no _bulk_get: GET open_revs instead

  // interrupt() against a call in progress.
  std::mutex mu_;
  std::condition_variable call_done_;
  bool interrupted_ = false;
  bool in_call_ = false;
};

Result<Reply> HttpPeer::send(const char* method, const std::string& target, std::string body,
                             Longpoll* longpoll) {
  if (session_ == Session::kLoginNeeded) {
    if (Status s = log_in(); !s.is_ok()) return s;
  }
  if (session_ != Session::kCookie) return exchange(method, target, std::move(body), longpoll);
  // The cookie may have expired (or the server restarted with a new
  // secret): a 401 gets one fresh login and one more try, from the start.
  const Longpoll fresh = longpoll != nullptr ? *longpoll : Longpoll{};
  auto r = exchange(method, target, body, longpoll);
  if (!r.is_ok() || r->status != 401) return r;
  session_ = Session::kLoginNeeded;
  if (Status s = log_in(); !s.is_ok()) return s;
  if (longpoll != nullptr) *longpoll = fresh;
  return exchange(method, target, std::move(body), longpoll);
}

Status HttpPeer::log_in() {
  const std::string target = url_.root_path + "_session";
  std::string form = "name=" + http::encode_component(user_) +
                     "&password=" + http::encode_component(password_);
  cookie_.clear();
  auto r = exchange("POST", target, std::move(form), nullptr, "application/x-www-form-urlencoded");
  if (!r.is_ok()) return r.status();
  if (r->status == 404 || r->status == 405 || (r->status == 200 && cookie_.empty())) {
    // No sessions here (CouchDB's replicator falls back the same way).
    session_ = Session::kNone;
    client_->set_basic_auth(user_, password_);
    return Status::ok();
  }
  if (r->status != 200) return error_from(*r, "POST", target, false);
  session_ = Session::kCookie;
  return Status::ok();
}

Status HttpPeer::transport_failure(const std::string& what, httplib::Error e) const {
  switch (e) {
    case httplib::Error::SSLServerVerification: {
      long result = tls_ != nullptr ? tls_->get_openssl_verify_result() : X509_V_OK;
      std::string why = result != X509_V_OK ? X509_verify_cert_error_string(result)
                                            : "it is not a certificate for " + url_.host;
      return Status::bad_request(redacted_ + ": the server's certificate could not be verified (" +
                                 why + ")");
    }
    case httplib::Error::SSLLoadingCerts:
      return Status::bad_request(redacted_ + ": could not load trusted CA certificates from " +
                                 (options_.ca_file.empty() ? "the system's store" : options_.ca_file));
    case httplib::Error::SSLConnection:
      return Status::io_error(what + " failed: the TLS handshake failed (is it an https server?)",
                              true);
    default: return Status::io_error(what + " failed: " + transport_error(e), true);
  }
}

Result<Reply> HttpPeer::exchange(const char* method, const std::string& target, std::string body,
                                 Longpoll* longpoll, const char* content_type) {
  if (tls_ != nullptr && !tls_->is_valid()) {
    return Status::io_error(redacted_ + ": OpenSSL could not set up a TLS context");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (interrupted_) return Status::io_error("interrupted");
    in_call_ = true;
  }
  httplib::Request req;
  req.method = method;
  req.path = target;
  req.headers = headers_;
  if (req.method == "POST" || req.method == "PUT") {
    // An empty body with a Content-Type makes httplib send Content-Length: 0,
    // which servers need to see that a bodiless PUT has ended.
    req.headers.emplace("Content-Type", content_type);
    req.body = std::move(body);
  }
  if (!cookie_.empty()) {
    // Beside any cookie of options.headers, in the one Cookie header.
    if (auto it = req.headers.find("Cookie"); it != req.headers.end()) {
      it->second += "; AuthSession=" + cookie_;
    } else {
      req.headers.emplace("Cookie", "AuthSession=" + cookie_);
    }
  }
  std::string streamed;
  if (longpoll != nullptr) {
    req.content_receiver = [&streamed, longpoll](const char* data, std::size_t n, std::uint64_t,
                                                 std::uint64_t) {
      streamed.append(data, n);
      return longpoll->receive(data, n);
    };
  }
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool sent = false, threw = false;
  std::string failure;
  try {
    sent = client_->send(req, res, err);
  } catch (const std::exception& e) {  // e.g. bad_alloc: not worth a retry
    threw = true;
    failure = e.what();
  }
  bool interrupted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_call_ = false;
    interrupted = interrupted_;
  }
  call_done_.notify_all();
  if (interrupted) return Status::io_error("interrupted");
  if (longpoll != nullptr && longpoll->timed_out) return Reply{0, {}, true};
  std::string what = std::string(method) + " " + origin_ + target;
  if (threw) return Status::io_error(what + " failed: " + failure);
  if (!sent) return transport_failure(what, err);
  if (session_ != Session::kNone) {
    // Servers refresh a session's cookie on the way (CouchDB when a tenth
    // of its life is gone), and clear it on a failed login.
    auto [begin, end] = res.headers.equal_range("Set-Cookie");
    for (auto it = begin; it != end; ++it) {
      if (auto token = auth_session_cookie(it->second)) cookie_ = std::move(*token);
    }
  }
  return Reply{res.status, longpoll != nullptr ? std::move(streamed) : std::move(res.body), false};
}

Status HttpPeer::error_from(const Reply& r, const char* method, const std::string& target,
                           bool db_level) const {
  std::string error, reason;
  if (auto d = http::parse_json(r.body); d.is_ok()) {
    error = get_string(*d, "error").value_or("");
    reason = get_string(*d, "reason").value_or("");
  }
  if (r.status == 404 && (db_level || reason == kNoDatabase)) return no_database();
  std::string context = std::string(method) + " " + origin_ + target + " answered " + std::to_string(r.status);
  if (!error.empty()) context += " " + error;
  std::string text = reason.empty() ? context : reason + " [" + context + "]";
  const bool transient = r.status == 408 || r.status == 429 || r.status >= 500;
  if (transient) return Status::io_error(std::move(text), true);
  switch (r.status) {
    case 401: return Status(ErrorCode::kUnauthorized, std::move(text));
    case 403: return Status(ErrorCode::kForbidden, std::move(text));
    case 404: return Status::not_found(std::move(text));
    case 409: return Status::conflict(std::move(text));
    case 412: return Status(ErrorCode::kFileExists, std::move(text));
    case 413: return Status(ErrorCode::kDocumentTooLarge, std::move(text));
    default: break;
  }
  if (r.status >= 400 && r.status < 500) {
    return Status(http::code_for_name(error, ErrorCode::kBadRequest), std::move(text));
  }
  return Status::io_error("unexpected HTTP status: " + text);  // 1xx, 3xx, an odd 2xx
}

// CouchDB-style servers greet at their root with a JSON object holding a
// "Welcome": {"couchdb":"Welcome"} from CouchDB, Cloudant and Sync
// Gateway, {"express-pouchdb":"Welcome!"} from PouchDB Server.
bool is_welcome(const rapidjson::Value& root) {
  if (!root.IsObject()) return false;
  for (const auto& m : root.GetObject()) {
    if (m.value.IsString() && std::string_view(m.value.GetString(), m.value.GetStringLength())
                                      .substr(0, 7) == "Welcome") {
      return true;
    }
  }
  return false;
}

Result<PeerInfo> HttpPeer::info() {
  // The server root first, once: it tells a CouchDB-style server from any
  // other web server, and gives the uuid and version.
  if (!root_checked_) {
    auto r = send("GET", url_.root_path);
    if (!r.is_ok()) return r.status();
    if (r->status == 401 || r->status == 403 || r->status == 408 || r->status == 429 ||
        r->status >= 500) {
      return error_from(*r, "GET", url_.root_path, false);
    }
    auto d = http::parse_json(r->body);
    if (r->status != 200 || !d.is_ok() || !is_welcome(*d)) {
      return Status::bad_request(redacted_ + " is not a CouchDB-style server");
    }
    root_.server_uuid = get_string(*d, "uuid").value_or("");
    root_.version = get_string(*d, "version").value_or("");
    if (const rapidjson::Value* vendor = get_member(*d, "vendor")) {
      root_.vendor = get_string(*vendor, "name").value_or("");
    }
    root_checked_ = true;
  }
  auto r = send("GET", url_.db_path);
  if (!r.is_ok()) return r.status();
  if (r->status != 200) return error_from(*r, "GET", url_.db_path);
  auto d = http::parse_json(r->body);
  if (!d.is_ok()) return bad_answer("GET /db");
  std::optional<std::string> update_seq = get_json_text(*d, "update_seq");
  if (!update_seq) return bad_answer("GET /db");
  PeerInfo info = root_;
  info.db_name = get_string(*d, "db_name").value_or(url_.db_name);
  info.update_seq = std::move(*update_seq);
  // A string on CouchDB ("0"); a number's digits if a server sends one.
  std::optional<std::string> start = get_string(*d, "instance_start_time");
  if (!start) start = get_json_text(*d, "instance_start_time");
  info.instance_start_time = start.value_or("0");
  return info;
}

Status HttpPeer::create() {
  auto r = send("PUT", url_.db_path);
  if (!r.is_ok()) return r.status();
  if (r->status == 201 || r->status == 202 || r->status == 412) return Status::ok();
  return error_from(*r, "PUT", url_.db_path, false);
}

Result<PeerChanges> HttpPeer::changes(const PeerChangesOptions& options) {
  // `since` goes back as the server sent it: a number as its digits, a
  // string (a CouchDB cluster's opaque seq) as its unquoted content.
  std::string since = options.since;
  if (!since.empty() && since[0] == '"') {
    auto d = http::parse_json(since);
    if (!d.is_ok() || !d->IsString()) return Status::bad_request("Invalid since: " + options.since);
    since.assign(d->GetString(), d->GetStringLength());
  }
  std::string target = url_.db_path + "/_changes?style=all_docs&since=" + http::encode_component(since);
  if (options.limit > 0) target += "&limit=" + std::to_string(options.limit);
  Longpoll longpoll;
  const bool wait = options.wait.count() > 0;
  if (wait) {
    longpoll.heartbeat = heartbeat_for(options.wait, options_.request_timeout);
    longpoll.deadline = steady_clock::now() + options.wait;
    target += "&feed=longpoll&timeout=" + std::to_string(options.wait.count()) +
              "&heartbeat=" + std::to_string(longpoll.heartbeat.count());
  }
  const char* method = "GET";
  std::string body;
  if (!options.doc_ids.empty()) {
    method = "POST";
    target += "&filter=_doc_ids";
    JsonWriter w;
    w.start_object().key("doc_ids").strings(options.doc_ids).end_object();
    body = w.take();
  }
  auto r = send(method, target, std::move(body), wait ? &longpoll : nullptr);
  if (!r.is_ok()) return r.status();
  if (r->wait_ended) return PeerChanges{{}, options.since, std::nullopt};  // nothing changed in time
  if (r->status != 200) return error_from(*r, method, target);

  auto out = http::parse_changes(r->body);
  if (!out.is_ok()) return bad_answer("_changes");
  return out;
}

Result<std::vector<RevsDiffEntry>> HttpPeer::revs_diff(const std::vector<RevsDiffRequest>& request) {
  if (request.empty()) return std::vector<RevsDiffEntry>{};
  // One member per id: repeated ids are merged, as a JSON object cannot
  // hold them twice.
  std::vector<std::pair<std::string, std::vector<std::string>>> by_id;
  std::map<std::string, std::size_t> index;
  for (const auto& r : request) {
    auto [it, added] = index.emplace(r.id, by_id.size());
    if (added) by_id.emplace_back(r.id, std::vector<std::string>{});
    auto& revs = by_id[it->second].second;
    revs.insert(revs.end(), r.revs.begin(), r.revs.end());
  }
  JsonWriter w;
  w.start_object();
  for (const auto& [id, revs] : by_id) w.key(id).strings(revs);
  w.end_object();
  const std::string target = url_.db_path + "/_revs_diff";
  auto r = send("POST", target, w.take());
  if (!r.is_ok()) return r.status();
  if (r->status != 200) return error_from(*r, "POST", target);
  auto out = http::parse_revs_diff(r->body);
  if (!out.is_ok()) return bad_answer("_revs_diff");
  return out;
}

Result<std::vector<BulkGetResult>> HttpPeer::bulk_get(const std::vector<BulkGetRequest>& request) {
  if (request.empty()) return std::vector<BulkGetResult>{};
  if (no_bulk_get_) return bulk_get_each(request);
  JsonWriter w;
  w.start_object().key("docs").start_array();
  for (const auto& q : request) {
    w.start_object().key("id").string(q.id).key("rev").string(q.rev);
    if (!q.atts_since.empty()) w.key("atts_since").strings(q.atts_since);
    w.end_object();
  }
  w.end_array().end_object();
  const std::string target = url_.db_path + "/_bulk_get?revs=true&latest=true";
  auto r = send("POST", target, w.take());
  if (!r.is_ok()) return r.status();
  if (r->status == 400 || r->status == 404 || r->status == 405 || r->status == 501) {
    // A server without _bulk_get (CouchDB before 2.0, some proxies) says so
    // with one of these; a missing database says so too, and the fallback
    // then finds that out itself.
    auto d = http::parse_json(r->body);
    if (r->status == 404 && d.is_ok() && get_string(*d, "reason") == kNoDatabase) return no_database();
    no_bulk_get_ = true;
    return bulk_get_each(request);
  }
  if (r->status != 200) return error_from(*r, "POST", target);
  auto results = http::parse_bulk_get(r->body, request);
  if (!results.is_ok()) return bad_answer("_bulk_get");
  return results;
}

Result<std::vector<BulkGetResult>> HttpPeer::bulk_get_each(const std::vector<BulkGetRequest>& request) {
  std::vector<BulkGetResult> out;
  for (const auto& q : request) out.push_back(BulkGetResult{q.id, q.rev, {}, Status::ok()});
  // The requests of each id, in order of first appearance.
  std::vector<std::vector<std::size_t>> groups;
  std::map<std::string, std::size_t> group_of;
  for (std::size_t i = 0; i < request.size(); ++i) {
    auto [it, added] = group_of.emplace(request[i].id, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  for (const auto& group : groups) {
    for (std::size_t from = 0; from < group.size(); from += kRevsPerGet) {
      std::vector<std::size_t> chunk(group.begin() + static_cast<std::ptrdiff_t>(from),
                                     group.begin() + static_cast<std::ptrdiff_t>(
                                                         std::min(group.size(), from + kRevsPerGet)));
      std::vector<std::string> revs, atts_since;
      for (std::size_t i : chunk) {
        revs.push_back(request[i].rev);
        atts_since.insert(atts_since.end(), request[i].atts_since.begin(), request[i].atts_since.end());
      }
      const std::string& id = request[chunk[0]].id;
      std::string target = url_.db_path + "/" + http::encode_component(id) +
                           "?revs=true&latest=true&open_revs=" +
                           http::encode_component(JsonWriter().strings(revs).take());
      if (!atts_since.empty()) {
        target += "&atts_since=" + http::encode_component(JsonWriter().strings(atts_since).take());
      }
      auto r = send("GET", target);
      if (!r.is_ok()) return r.status();
      if (r->status == 404) {
        Status s = error_from(*r, "GET", target, false);
        if (s.reason().starts_with("Database does not exist:")) return s;
        for (std::size_t i : chunk) out[i].error = Status::not_found("missing");
        continue;
      }
      if (r->status != 200) return error_from(*r, "GET", target, false);
      if (!http::parse_open_revs(r->body, request, chunk, &out)) return bad_answer("GET open_revs");
    }
  }
  return out;
}

Result<std::vector<DocResult>> HttpPeer::bulk_docs(const std::vector<std::string>& docs) {
  if (docs.empty()) return std::vector<DocResult>{};
  return write_docs(docs, 0, docs.size());
}

Result<std::vector<DocResult>> HttpPeer::write_docs(const std::vector<std::string>& docs,
                                                    std::size_t begin, std::size_t end) {
  JsonWriter w;
  w.start_object().key("new_edits").boolean(false).key("docs").start_array();
  for (std::size_t i = begin; i < end; ++i) w.raw(docs[i]);
  w.end_array().end_object();
  const std::string target = url_.db_path + "/_bulk_docs";
  auto r = send("POST", target, w.take());
  if (!r.is_ok()) return r.status();
  if (r->status == 413) {
    // Too large for the server: halve the batch until each part fits; a
    // single document that does not fit fails alone, as CouchDB's
    // replicator counts it.
    if (end - begin == 1) {
      auto d = http::parse_json(docs[begin]);
      std::string id = d.is_ok() ? get_string(*d, "_id").value_or("") : "";
      std::string rev = d.is_ok() ? get_string(*d, "_rev").value_or("") : "";
      return std::vector<DocResult>{DocResult{id, rev, Status(ErrorCode::kDocumentTooLarge, id)}};
    }
    std::size_t mid = begin + (end - begin) / 2;
    auto first = write_docs(docs, begin, mid);
    if (!first.is_ok()) return first;
    auto second = write_docs(docs, mid, end);
    if (!second.is_ok()) return second;
    first->insert(first->end(), second->begin(), second->end());
    return first;
  }
  if (r->status != 200 && r->status != 201 && r->status != 202 && r->status != 417) {
    return error_from(*r, "POST", target);
  }
  auto d = http::parse_json(r->body);
  if (!d.is_ok() || !d->IsArray()) return bad_answer("_bulk_docs");
  std::vector<DocResult> failed;
  for (const auto& e : d->GetArray()) {
    std::optional<std::string> error = get_string(e, "error");
    if (!error) continue;  // written
    DocResult f;
    f.id = get_string(e, "id").value_or("");
    f.rev = get_string(e, "rev").value_or("");
    f.status = Status(http::code_for_name(*error, ErrorCode::kBadRequest),
                      get_string(e, "reason").value_or(*error));
    failed.push_back(std::move(f));
  }
  return failed;
}

Result<std::string> HttpPeer::ensure_full_commit() {
  const std::string target = url_.db_path + "/_ensure_full_commit";
  auto r = send("POST", target, "{}");
  if (!r.is_ok()) return r.status();
  if (r->status != 200 && r->status != 201) return error_from(*r, "POST", target);
  auto d = http::parse_json(r->body);
  if (!d.is_ok()) return bad_answer("_ensure_full_commit");
  if (auto s = get_string(*d, "instance_start_time")) return *s;
  if (auto n = get_json_text(*d, "instance_start_time")) return *n;
  return bad_answer("_ensure_full_commit");
}

Result<std::optional<std::string>> HttpPeer::get_local(std::string_view id) {
  const std::string target = url_.db_path + "/_local/" + http::encode_component(id);
  auto r = send("GET", target);
  if (!r.is_ok()) return r.status();
  if (r->status == 404) {
    // No such document, unless the database itself is missing.
    Status s = error_from(*r, "GET", target, false);
    if (s.reason().starts_with("Database does not exist:")) return s;
    return std::optional<std::string>();
  }
  if (r->status != 200) return error_from(*r, "GET", target, false);
  // Compact, with numbers as sent (see http/http_peer.h).
  auto d = http::parse_json(r->body);
  auto doc = http::compact_values_at(r->body, {});
  if (!d.is_ok() || !d->IsObject() || !doc.is_ok() || doc->size() != 1) return bad_answer("GET _local");
  return std::optional<std::string>(std::move(doc->front()));
}

Result<std::string> HttpPeer::put_local(std::string_view id, std::string_view json) {
  const std::string target = url_.db_path + "/_local/" + http::encode_component(id);
  auto r = send("PUT", target, std::string(json));
  if (!r.is_ok()) return r.status();
  if (r->status != 200 && r->status != 201 && r->status != 202) {
    return error_from(*r, "PUT", target, false);
  }
  auto d = http::parse_json(r->body);
  std::optional<std::string> rev = d.is_ok() ? get_string(*d, "rev") : std::nullopt;
  if (!rev) return bad_answer("PUT _local");
  return *rev;
}

void HttpPeer::interrupt() {
  std::unique_lock<std::mutex> lock(mu_);
  interrupted_ = true;
  // httplib's stop() shuts the socket of a request in flight, and closes
  // an idle one. A call that has passed its check of interrupted_ but not
  // yet reached httplib would open a fresh connection after that stop(),
  // so keep stopping until the call has returned. (stop() itself waits
  // while httplib is connecting: 0.11 connects under the lock stop() takes.)
  do {
    lock.unlock();
    client_->stop();
    lock.lock();
  } while (in_call_ && !call_done_.wait_for(lock, milliseconds(10), [this] { return !in_call_; }));
}

}  // namespace

Result<std::unique_ptr<Peer>> make_http_peer(std::string_view url, const HttpPeerOptions& options) {
  auto parsed = http::parse_peer_url(url);
  if (!parsed.is_ok()) return parsed.status();
  return std::unique_ptr<Peer>(new HttpPeer(std::move(*parsed), url, options));
}

}  // namespace divan
