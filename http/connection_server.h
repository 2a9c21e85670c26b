// ConnectionServer: cpp-httplib's HTTP server with divan's own loop over each
// connection, in plain TCP or in TLS.
//
// cpp-httplib 0.11 waits for a connection's next request by polling the
// socket every 10 ms (and sleeping 1 ms between polls) until the keep-alive
// timeout, and it does not look at stop() meanwhile. So every idle
// keep-alive connection woke its thread about 90 times a second (500 idle
// clients kept 70% of a core busy on a 2-core machine), stop() waited for
// idle connections to time out, and a pipelined request was lost.
// ConnectionServer serves each connection itself: it blocks in one poll() on
// the socket and on a stop pipe until a request arrives, the keep-alive
// timeout passes or end_idle_waits() is called, and hands each request to
// cpp-httplib's own process_request (so parsing, routing and responses stay
// cpp-httplib's). With a TLS context it does the TLS handshake and reads and
// writes through OpenSSL, in place of cpp-httplib's SSLServer.
#ifndef DIVAN_HTTP_CONNECTION_SERVER_H_
#define DIVAN_HTTP_CONNECTION_SERVER_H_

#include <httplib.h>
#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_set>

namespace divan::http {

class ConnectionServer final : public httplib::Server {
 public:
  // `tls`: serve HTTPS with this context (a reference is taken); nullptr:
  // plain HTTP.
  explicit ConnectionServer(SSL_CTX* tls = nullptr);
  ~ConnectionServer() override;
  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;

  // Ends, at once and for good, every wait for a next request: idle
  // connections close, a connection in the middle of a request finishes it
  // and then closes, and one accepted from now on closes unserved.
  void end_idle_waits();

  // Waits until no connection is being served, or until `deadline`;
  // returns whether none is.
  bool wait_until_idle(std::chrono::steady_clock::time_point deadline);

  // Shuts down (SHUT_RDWR) the socket of every connection still being
  // served, so that their reads and writes fail at once and their threads
  // end: stop() then need not wait out a client that does not read its
  // response, or sends its request slowly, for the read or write timeout.
  void cut_open_connections();

 private:
  bool process_and_close_socket(socket_t sock) override;
  // Waits until `sock` has a request to read (true), or the keep-alive
  // timeout passes or end_idle_waits() was called (false).
  bool wait_for_request(socket_t sock) const;
  SSL_CTX* tls_ = nullptr;
  int stop_pipe_[2] = {-1, -1};  // written once by end_idle_waits(), never read
  // The sockets of the connections being served. A socket leaves the set
  // (under the lock) before it is closed, so cut_open_connections() never
  // touches a closed or reused descriptor.
  std::mutex open_mu_;
  std::condition_variable open_cv_;  // a connection left `open_`
  std::unordered_set<int> open_;
};

}  // namespace divan::http

#endif  // DIVAN_HTTP_CONNECTION_SERVER_H_
