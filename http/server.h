// Server: divan's CouchDB-compatible HTTP server over a DataDir.
//
// Built on cpp-httplib, with divan's own loop over each connection
// (ConnectionServer: plain TCP or TLS), one thread per connection for the
// connection's life. divan sizes for that: connections run on a pool that
// grows on demand up to max_connections threads (long-lived _changes
// listeners each hold one, and must not starve ordinary requests), with
// TCP_NODELAY on and a listen backlog fit for bursts. Idle connections and
// feeds wait without polling, and stop() wakes them all.
//
// Thread-safety: every public method is thread-safe.
#ifndef DIVAN_HTTP_SERVER_H_
#define DIVAN_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "divan/data_dir.h"
#include "divan/options.h"
#include "divan/replication_scheduler.h"
#include "divan/status.h"
#include "http/auth.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace divan::http {
class ConnectionServer;
}

namespace divan::http {

enum class LogLevel { kError, kWarn, kInfo, kDebug };

struct CorsOptions {
  bool enabled = false;
  // Allowed origins; "*" allows any. With credentials, the request's Origin
  // is echoed rather than "*", as browsers require.
  std::vector<std::string> origins;
  bool credentials = false;
  std::string methods = "GET, PUT, POST, HEAD, DELETE";
  std::string headers = "accept, authorization, content-type, origin, referer";
};

struct ServerOptions {
  std::string bind = "127.0.0.1";
  int port = 5984;  // 0: any free port (see Server::port())
  std::string data_dir = "data";
  DataDirOptions data;  // durability, document size limit, ...

  // Connections served at once (one thread each). Further connections wait
  // for a free thread.
  std::size_t max_connections = 2048;
  // The largest request body accepted (CouchDB's max_http_request_size);
  // larger requests get 413 too_large.
  std::size_t max_request_size = 64u << 20;
  // Seconds an idle keep-alive connection stays open. cpp-httplib 0.11
  // does not end idle connections when the server stops, so this also
  // bounds how long a stop can take.
  int keep_alive_timeout = 5;

  // HTTPS: the PEM files of the server's certificate (chain) and private
  // key, both or neither. Given, the server speaks only HTTPS (TLS through
  // OpenSSL) on its port. Default: neither, plain HTTP.
  std::string tls_cert, tls_key;

  // How often the server hands back file pages that reads mapped in, so
  // that its resident size stays near its working set (see
  // DataDirOptions::release_pages_interval). Zero: never.
  std::chrono::milliseconds release_pages_interval{100};

  CorsOptions cors;
  LogLevel log_level = LogLevel::kInfo;

  // Users and sessions. The server refuses to start without an admin
  // unless auth.admin_party is set.
  AuthOptions auth;

  // Run the replications described in the `_replicator` database (made if
  // missing), resuming unfinished ones at start.
  bool replicator_db = true;
  // Backoff of replication retries after transient errors (doubling from
  // the first to the largest wait).
  std::chrono::milliseconds replication_initial_backoff{250};
  std::chrono::milliseconds replication_max_backoff{std::chrono::minutes(5)};
  // The PEM file of the CAs that replications trust for https peers
  // (HttpPeerOptions::ca_file). Empty: the system's trusted CAs.
  std::string tls_ca_file;
  // Whether replications check https peers' certificates and host names
  // ([replicator] verify_ssl_certificates; HttpPeerOptions::
  // verify_certificates). On by default, unlike CouchDB 3, whose default is
  // off: turning it off lets anyone on the path read and change what is
  // replicated.
  bool tls_verify_peers = true;

  // Keep local databases in sync with remote ones, both ways: local name ->
  // database URL. Each pair becomes two continuous jobs in `_replicator`
  // (documents "sync:<name>:pull" and "sync:<name>:push"), so they run
  // across restarts and show in _scheduler/docs.
  std::map<std::string, std::string> sync;
};

// Wakes one waiting feed: set by database change callbacks, by its own
// heartbeat deadline, and by Server::stop().
class FeedWaiter {
 public:
  void wake();
  // Waits until woken or `deadline`; clears the wake flag. Returns true if
  // woken.
  bool wait_until(std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

class Server {
 public:
  // Opens the data folder and binds the port. Errors: io_error (cannot
  // bind, folder in use), bad_request (only one of tls_cert and tls_key, or
  // a certificate or key that cannot be read or used), and those of
  // DataDir::open.
  static Result<std::unique_ptr<Server>> open(const ServerOptions& options);

  // How long stop() waits for open feeds to end and requests in flight to
  // be answered; the connections still open then are shut down.
  static constexpr std::chrono::seconds kDrain{2};
  ~Server();

  // The port bound (useful with port 0).
  int port() const { return port_; }

  // Serves until stop(). Returns ok after a clean stop.
  Status run();
  // Ends open feeds, lets in-flight requests finish, and stops accepting;
  // connections still open after kDrain (a client that does not read its
  // response, or sends its request slowly) are cut off.
  void stop();
  bool stopping() const { return stopping_.load(); }

  // Whether the server speaks HTTPS (cookies are then marked Secure).
  bool tls() const;
  DataDir& data_dir() { return *data_dir_; }
  Authenticator& auth() { return *auth_; }
  // Runs POST /_replicate and _replicator jobs.
  ReplicationScheduler& scheduler() { return *scheduler_; }
  const ServerOptions& options() const { return options_; }

  // Open feeds register so stop() can wake them.
  void add_feed(FeedWaiter* w);
  void remove_feed(FeedWaiter* w);

  void log(LogLevel level, const std::string& line);

  // Runs `fn` on a thread of its own (a background compaction); stop()
  // waits for such threads.
  void spawn(std::function<void()> fn);

 private:
  // `tls`: the HTTPS context (a reference is taken), or nullptr.
  Server(const ServerOptions& options, std::unique_ptr<DataDir> data_dir, ssl_ctx_st* tls);
  void install_handlers();
  // Writes the `_replicator` documents of options_.sync.
  Status write_sync_jobs();

  const ServerOptions options_;
  std::unique_ptr<DataDir> data_dir_;
  // Declared after data_dir_, so destroyed (jobs cancelled and joined)
  // before the databases close.
  std::unique_ptr<ReplicationScheduler> scheduler_;
  std::unique_ptr<ReplicatorDatabase> replicator_db_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<ConnectionServer> http_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex feeds_mu_;
  std::condition_variable feeds_cv_;  // a feed went away
  std::set<FeedWaiter*> feeds_;
  std::mutex log_mu_;
  std::mutex background_mu_;
  std::vector<std::thread> background_;
};

}  // namespace divan::http

#endif  // DIVAN_HTTP_SERVER_H_
