// PlainServer: cpp-httplib's HTTP server with its own wait between the
// requests of a keep-alive connection.
//
// cpp-httplib 0.11 waits for a connection's next request by polling the
// socket every 10 ms (and sleeping 1 ms between polls) until the keep-alive
// timeout, and it does not look at stop() meanwhile. So every idle
// keep-alive connection woke its thread about 90 times a second (500 idle
// clients kept 70% of a core busy on a 2-core machine), and stop() waited
// for idle connections to time out. PlainServer serves each connection
// itself: it blocks in one poll() on the socket and on a stop pipe until a
// request arrives, the keep-alive timeout passes or end_idle_waits() is
// called, and hands each request to cpp-httplib's own process_request (so
// parsing, routing and responses stay cpp-httplib's).
//
// HTTPS keeps cpp-httplib's SSLServer and its waits.
#ifndef DIVAN_HTTP_PLAIN_SERVER_H_
#define DIVAN_HTTP_PLAIN_SERVER_H_

#include <httplib.h>

namespace divan::http {

class PlainServer final : public httplib::Server {
 public:
  PlainServer();
  ~PlainServer() override;
  PlainServer(const PlainServer&) = delete;
  PlainServer& operator=(const PlainServer&) = delete;

  // Ends, at once and for good, every wait for a next request (call after
  // stop(), which stops accepting): idle connections close; a connection in
  // the middle of a request finishes it and then closes.
  void end_idle_waits();

 private:
  bool process_and_close_socket(socket_t sock) override;
  // Waits until `sock` has a request to read (true), or the keep-alive
  // timeout passes or end_idle_waits() was called (false).
  bool wait_for_request(socket_t sock) const;

  int stop_pipe_[2] = {-1, -1};  // written once by end_idle_waits(), never read
};

}  // namespace divan::http

#endif  // DIVAN_HTTP_PLAIN_SERVER_H_
