#include "http/server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <thread>

#include "divan/http_peer.h"
#include "http/connection_server.h"
#include "http/context.h"
#include "http/json.h"
#include "http/router.h"

namespace divan::http {
namespace {

// The connection pool behind cpp-httplib: a thread per open connection,
// started on demand up to `max` threads, kept for reuse. (cpp-httplib's own
// pool has a fixed 8 threads, each held by one keep-alive connection for its
// whole life: 9 clients would already wait.)
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(std::size_t max) : max_(max) {}
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(fn));
    if (idle_ < tasks_.size() && threads_.size() < max_) {
      threads_.emplace_back([this] { work(); });
    } else {
      cv_.notify_one();
    }
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return;  // stopping, and nothing left to finish
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  const std::size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stop_ = false;
};

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "info";
}

// When each request began, for the log line (one connection = one thread,
// and requests on a connection are served in turn).
thread_local std::chrono::steady_clock::time_point request_start;

// The first error in OpenSSL's queue (the cause; later ones say where it
// surfaced), as " (error:...)", and the queue cleared; "" if it is empty.
std::string openssl_error() {
  unsigned long e = ERR_peek_error();
  ERR_clear_error();
  if (e == 0) return "";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return std::string(" (") + text + ")";
}

using TlsContext = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// The HTTPS context of --tls-cert and --tls-key (nullptr without them). Each
// file is checked on its own, so that the error says which one is wrong.
Result<TlsContext> load_tls_context(const ServerOptions& o) {
  if (o.tls_cert.empty() && o.tls_key.empty()) return TlsContext(nullptr, SSL_CTX_free);
  if (o.tls_cert.empty() || o.tls_key.empty()) {
    return Status::bad_request("HTTPS needs both a certificate and its private key (--tls-cert and --tls-key)");
  }
  for (const std::string* file : {&o.tls_cert, &o.tls_key}) {
    if (::access(file->c_str(), R_OK) != 0) {
      return Status::bad_request("cannot read " + std::string(file == &o.tls_cert ? "TLS certificate " : "TLS private key ") +
                                 *file + ": " + std::strerror(errno));
    }
  }
  TlsContext ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return Status::internal("OpenSSL could not make a TLS context" + openssl_error());
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), o.tls_cert.c_str()) != 1) {
    return Status::bad_request("TLS certificate " + o.tls_cert + " is not a PEM certificate OpenSSL accepts" +
                               openssl_error());
  }
  // Read apart from its use, to tell a bad key from one of another
  // certificate; never asking for a passphrase on the terminal.
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_file(o.tls_key.c_str(), "r"), BIO_free);
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      in ? PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr) : nullptr, EVP_PKEY_free);
  if (!key) {
    return Status::bad_request("TLS private key " + o.tls_key +
                               " is not an unencrypted PEM private key OpenSSL accepts" + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Status::bad_request("TLS private key " + o.tls_key + " does not belong to certificate " +
                               o.tls_cert + openssl_error());
  }
  // TLS 1.2 or later; no compression (CRIME), no renegotiation.
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

}  // namespace

void FeedWaiter::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool FeedWaiter::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return woken_; });
  bool woken = woken_;
  woken_ = false;
  return woken;
}

Server::Server(const ServerOptions& options, std::unique_ptr<DataDir> data_dir, SSL_CTX* tls)
    : options_(options), data_dir_(std::move(data_dir)), http_(std::make_unique<ConnectionServer>(tls)) {}

Server::~Server() {
  stop();
  // The _replicator watcher before the scheduler it starts jobs on.
  replicator_db_.reset();
  scheduler_.reset();
  std::lock_guard<std::mutex> lock(background_mu_);
  for (auto& t : background_) t.join();
}

Result<std::unique_ptr<Server>> Server::open(const ServerOptions& options) {
  if (options.auth.admins.empty() && !options.auth.admin_party) {
    return Status::bad_request(
        "no server admin: give one with --admin NAME:PASSWORD, in the config file's [admins], "
        "or with DIVAN_USER and DIVAN_PASSWORD (or run an insecure admin party with "
        "--insecure-admin-party)");
  }
  auto tls = load_tls_context(options);
  if (!tls.is_ok()) return tls.status();
  DataDirOptions data = options.data;
  data.release_pages_interval = options.release_pages_interval;
  // New databases are for server admins until their _security says
  // otherwise, as in CouchDB 3.
  if (data.default_security.empty()) data.default_security = std::string(kAdminOnlySecurity);
  auto dir = DataDir::open(options.data_dir, data);
  if (!dir.is_ok()) return dir.status();
  std::unique_ptr<Server> server(new Server(options, std::move(dir.value()), tls->get()));
  AuthOptions auth = options.auth;
  if (auth.secret.empty()) {
    RandomSource* random = options.data.random ? options.data.random : RandomSource::system();
    auto secret = load_or_make_secret(options.data_dir, *random);
    if (!secret.is_ok()) return secret.status();
    auth.secret = *secret;
  }
  server->auth_ = std::make_unique<Authenticator>(
      std::move(auth), *server->data_dir_,
      options.data.clock ? *options.data.clock : *Clock::system(),
      options.data.random ? *options.data.random : *RandomSource::system());
  // _users holds the users who are not server admins (made if missing, as
  // CouchDB does), server-admin-only except for the users' own documents.
  if (auto users = server->data_dir_->open_database(users_db::kName);
      !users.is_ok() && users.status().code() == ErrorCode::kNotFound) {
    if (auto made = server->data_dir_->create_database(users_db::kName); !made.is_ok()) {
      return made.status();
    }
  }
  server->install_handlers();
  SchedulerOptions so;
  so.replicator_id = server->data_dir_->uuid();
  so.initial_backoff = options.replication_initial_backoff;
  so.max_backoff = options.replication_max_backoff;
  // Replications trust the CAs of --tls-ca-file for https peers.
  HttpPeerOptions peers;
  peers.ca_file = options.tls_ca_file;
  peers.verify_certificates = options.tls_verify_peers;
  server->scheduler_ = std::make_unique<ReplicationScheduler>(peer_factory(*server->data_dir_, peers), so);

  httplib::Server& h = *server->http_;
  // Remember the listening socket: cpp-httplib listens with a backlog of 5,
  // which drops connections in bursts; it is raised below.
  int* fd_slot = &server->listen_fd_;
  h.set_socket_options([fd_slot](int sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    *fd_slot = sock;
  });
  int port = options.port == 0 ? h.bind_to_any_port(options.bind)
                               : (h.bind_to_port(options.bind, options.port) ? options.port : -1);
  if (port < 0) {
    return Status::io_error("cannot listen on " + options.bind + ":" + std::to_string(options.port));
  }
  if (server->listen_fd_ >= 0) ::listen(server->listen_fd_, 1024);
  server->port_ = port;
  if (Status s = server->write_sync_jobs(); !s.is_ok()) return s;
  if (options.replicator_db) {
    auto rdb = ReplicatorDatabase::start(*server->data_dir_, *server->scheduler_);
    if (!rdb.is_ok()) return rdb.status();
    server->replicator_db_ = std::move(*rdb);
  }
  return server;
}

void Server::install_handlers() {
  httplib::Server& h = *http_;
  const std::size_t max_connections = options_.max_connections;
  h.new_task_queue = [max_connections] { return new ConnectionPool(max_connections); };
  h.set_tcp_nodelay(true);
  h.set_keep_alive_max_count(SIZE_MAX);
  h.set_keep_alive_timeout(options_.keep_alive_timeout);
  h.set_read_timeout(60, 0);
  h.set_write_timeout(60, 0);
  h.set_payload_max_length(options_.max_request_size);

  h.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    request_start = std::chrono::steady_clock::now();
    // cpp-httplib 0.11 reads a PUT, POST or DELETE without Content-Length
    // or Transfer-Encoding until the client closes (so `curl -X PUT
    // http://host/db` would hang until the read timeout). HTTP/1.1 says
    // such a request has no body; tell cpp-httplib so. This runs before the
    // body is read; the Request is httplib's own non-const object.
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      const_cast<httplib::Request&>(req).headers.emplace("Content-Length", "0");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx(*this, req, res);
    if (!ctx.path_ok()) return;
    Identity id;
    if (auto e = auth_->identify(req.get_header_value("Authorization"), req.get_header_value("Cookie"),
                                 req.remote_addr, tls(), &id)) {
      if (e->status == 401) res.set_header("Set-Cookie", auth_->clearing_cookie(tls()));
      return ctx.error(*e);
    }
    if (id.set_cookie) res.set_header("Set-Cookie", *id.set_cookie);
    ctx.set_identity(std::move(id));
    route(ctx);
  };
  for (const char* pattern : {".*"}) {
    h.Get(pattern, handle);
    h.Post(pattern, handle);
    h.Put(pattern, handle);
    h.Delete(pattern, handle);
    h.Patch(pattern, handle);
    h.Options(pattern, handle);
  }

  // Responses cpp-httplib makes on its own (a request too large to read, a
  // malformed request line, an unknown method) get CouchDB's error body.
  h.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    HttpError e;
    e.status = res.status;
    if (res.status == 413) {
      e = HttpError::too_large();
    } else if (res.status == 404) {
      e = HttpError::not_found("missing");
    } else if (res.status == 405) {
      e = {405, "method_not_allowed", "Method not allowed", {}};
    } else {
      e = HttpError::bad_request("The request could not be read.");
      e.status = res.status;
    }
    res.set_content(e.body() + "\n", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  h.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log(LogLevel::kError, "request failed: " + what);
    HttpError e{500, "internal_server_error", "The server could not complete the request.", {}};
    res.status = 500;
    res.set_content(e.body() + "\n", "application/json");
  });

  h.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (options_.log_level < LogLevel::kInfo) return;
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                        request_start)
                  .count();
    // The path without its query: query strings may hold credentials.
    std::string path = req.target.substr(0, req.target.find('?'));
    char line[64];
    std::snprintf(line, sizeof line, " %d %.1fms", res.status, ms);
    log(LogLevel::kInfo, req.method + " " + path + line);
  });
}

Status Server::write_sync_jobs() {
  if (options_.sync.empty()) return Status::ok();
  auto replicator = data_dir_->open_database("_replicator");
  if (!replicator.is_ok() && replicator.status().code() == ErrorCode::kNotFound) {
    replicator = data_dir_->create_database("_replicator");
  }
  if (!replicator.is_ok()) return replicator.status();
  for (const auto& [name, url] : options_.sync) {
    auto local = data_dir_->open_database(name);
    if (!local.is_ok() && local.status().code() == ErrorCode::kNotFound) {
      local = data_dir_->create_database(name);
    }
    if (!local.is_ok()) return local.status();
    // Pull, and push (which makes the remote database if it is missing).
    for (bool pull : {true, false}) {
      JsonWriter w;
      w.start_object();
      w.key("source").string(pull ? url : name);
      w.key("target").string(pull ? name : url);
      w.key("continuous").boolean(true);
      if (!pull) w.key("create_target").boolean(true);
      w.end_object();
      std::string spec = w.take();
      std::string id = "sync:" + name + (pull ? ":pull" : ":push");
      // Rewritten only when the pair changed, so a restart keeps the
      // document's state and the job resumes from its checkpoint.
      auto existing = (*replicator)->get(id);
      if (existing.is_ok()) {
        auto same = parse_replication_spec(existing->body);
        auto want = parse_replication_spec(spec);
        if (same.is_ok() && want.is_ok() && same->source.url == want->source.url &&
            same->target.url == want->target.url && same->options.continuous) {
          continue;
        }
      }
      PutOptions put;
      put.id = id;
      if (existing.is_ok()) put.rev = existing->rev;
      auto written = (*replicator)->put(spec, put);
      if (!written.is_ok()) return written.status();
      log(LogLevel::kInfo, "sync: " + id + " " + redact_url(pull ? url : name) + " -> " +
                               redact_url(pull ? name : url));
    }
  }
  return Status::ok();
}

Status Server::run() {
  if (stopping_) return Status::ok();
  log(LogLevel::kInfo, std::string("listening on ") + (tls() ? "https://" : "http://") + options_.bind +
                           ":" + std::to_string(port_));
  bool ok = http_->listen_after_bind();
  if (!ok && !stopping_) return Status::io_error("the server stopped unexpectedly");
  return Status::ok();
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  // No next request on any connection, new or kept alive: each closes
  // once its request in flight is answered.
  http_->end_idle_waits();
  const auto deadline = std::chrono::steady_clock::now() + kDrain;
  // Live feeds end before cpp-httplib stops: once stopped, it no longer
  // calls a streamed response's provider, so a feed whose headers had just
  // gone out would be cut off without its last line. (A feed that ends
  // while stopping closes its connection: see handlers_changes.cc. One
  // that starts from now on, on a request already being read, is answered
  // whole at once.)
  {
    std::lock_guard<std::mutex> lock(feeds_mu_);
    for (FeedWaiter* w : feeds_) w->wake();
  }
  // Replications end meanwhile (those kept in _replicator start again with
  // the server); a one-shot POST /_replicate in flight then answers at
  // once instead of holding its connection until its job is done.
  for (const auto& job : scheduler_->jobs()) (void)scheduler_->cancel(job.id);
  {
    std::unique_lock<std::mutex> lock(feeds_mu_);
    feeds_cv_.wait_until(lock, deadline, [&] { return feeds_.empty(); });
  }
  // A response to a client that does not read it (a feed's included), or
  // a request sent slowly, would hold the shutdown for the whole write or
  // read timeout (60 s): what is still open at the deadline is cut off.
  if (!http_->wait_until_idle(deadline)) http_->cut_open_connections();
  http_->stop();
}

void Server::spawn(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(background_mu_);
  background_.emplace_back(std::move(fn));
}

void Server::add_feed(FeedWaiter* w) {
  std::lock_guard<std::mutex> lock(feeds_mu_);
  feeds_.insert(w);
}

void Server::remove_feed(FeedWaiter* w) {
  {
    std::lock_guard<std::mutex> lock(feeds_mu_);
    feeds_.erase(w);
  }
  feeds_cv_.notify_all();
}

bool Server::tls() const { return !options_.tls_cert.empty(); }

void Server::log(LogLevel level, const std::string& line) {
  if (level > options_.log_level) return;
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fprintf(stderr, "[%s] %s\n", level_name(level), line.c_str());
}

}  // namespace divan::http
