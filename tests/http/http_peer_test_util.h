// Helpers of the HttpPeer tests: open_peer(), and FakeServer, a tiny
// cpp-httplib server on a free loopback port with handlers a test sets, for
// answers the real binary never gives (errors, other web servers, a server
// without _bulk_get, a request that blocks).
#ifndef DIVAN_TESTS_HTTP_HTTP_PEER_TEST_UTIL_H_
#define DIVAN_TESTS_HTTP_HTTP_PEER_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "divan/http_peer.h"

namespace divan::testing {

// A peer for `url` (REQUIREs the URL is accepted).
inline std::unique_ptr<Peer> open_peer(const std::string& url, const HttpPeerOptions& options = {}) {
  auto p = make_http_peer(url, options);
  REQUIRE_MESSAGE(p.is_ok(), p.status().to_string());
  return std::move(p).value();
}

class FakeServer {
 public:
  FakeServer() {
    // A client that keeps its connection open holds a worker until this
    // timeout: keep it short so that stop() is quick.
    server_.set_keep_alive_timeout(1);
    // Without it, Nagle's algorithm and the client's delayed ACK hold each
    // small answer for tens of milliseconds.
    server_.set_tcp_nodelay(true);
  }
  ~FakeServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Set the handlers here, then start().
  httplib::Server& http() { return server_; }

  void start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    // The socket listens from bind on; connections made before the thread
    // runs wait in the backlog.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }

  int port() const { return port_; }
  // "http://127.0.0.1:PORT/" + path
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + path;
  }

  // GET / as a CouchDB-style server answers it.
  void serve_welcome() {
    server_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"couchdb":"Welcome","version":"3.3.3","uuid":"fake"})", "application/json");
    });
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace divan::testing

#endif  // DIVAN_TESTS_HTTP_HTTP_PEER_TEST_UTIL_H_
