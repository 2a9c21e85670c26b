#include "http/connection_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace divan::http {
namespace {

// poll(), restarted after signals with what is left of `timeout_ms`.
// Returns poll's result.
int poll_for(pollfd* fds, nfds_t count, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int rc = ::poll(fds, count, timeout_ms);
    if (rc >= 0 || errno != EINTR) return rc;
    timeout_ms = static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
               .count()));
  }
}

// poll_for() on one descriptor for `events`.
int poll_one(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return poll_for(&p, 1, timeout_ms);
}

int to_ms(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

void ip_and_port(const sockaddr_storage& a, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    port = ntohs(in.sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    port = ntohs(in6.sin6_port);
  }
  ip = text;
}

// A connection as cpp-httplib's Stream, with its read and write timeouts, a
// read buffer and a check that the client is still there, as cpp-httplib's
// own streams behave. Subclasses move the bytes: plain TCP or TLS.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int sock, int read_timeout_ms, int write_timeout_ms)
      : sock_(sock), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override { return pending() || poll_one(sock_, POLLIN, read_timeout_ms_) > 0; }

  // Writable within the timeout, and the client still there: cpp-httplib
  // asks before each write, and streamed responses (feeds) ask to notice a
  // client that left. Bytes waiting on the socket (a next request, or in
  // TLS an alert) mean it is still there; end-of-file means it left.
  bool is_writable() const override {
    if (poll_one(sock_, POLLOUT, write_timeout_ms_) <= 0) return false;
    if (poll_one(sock_, POLLIN, 0) <= 0) return true;
    char c;
    ssize_t n;
    do n = ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }

  ssize_t read(char* ptr, std::size_t size) override {
    if (buffered_ < filled_) {
      std::size_t n = std::min(size, filled_ - buffered_);
      std::memcpy(ptr, buffer_ + buffered_, n);
      buffered_ += n;
      return static_cast<ssize_t>(n);
    }
    if (!is_readable()) return -1;
    if (size >= sizeof buffer_) return receive(ptr, size);
    buffered_ = filled_ = 0;
    ssize_t n = receive(buffer_, sizeof buffer_);
    if (n <= 0) return n;
    filled_ = static_cast<std::size_t>(n);
    return read(ptr, size);
  }

  ssize_t write(const char* ptr, std::size_t size) override {
    if (!is_writable()) return -1;
    return send(ptr, size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip_and_port(a, ip, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip_and_port(a, ip, port);
  }

  socket_t socket() const override { return sock_; }

  // Whether a next request (or part of it) has been read already: bytes in
  // the buffer (a pipelined request), or decrypted in TLS.
  bool buffered() const { return buffered_ < filled_ || pending(); }

 protected:
  // Reads what is there (blocking up to the socket's SO_RCVTIMEO): > 0
  // bytes, 0 at end of stream, < 0 on errors.
  virtual ssize_t receive(char* ptr, std::size_t size) = 0;
  virtual ssize_t send(const char* ptr, std::size_t size) = 0;
  // Bytes read from the socket but not yet returned by receive() (TLS).
  virtual bool pending() const { return false; }

  const int sock_;

 private:
  const int read_timeout_ms_, write_timeout_ms_;
  char buffer_[4096];
  std::size_t buffered_ = 0, filled_ = 0;  // buffer_[buffered_, filled_) not yet read
};

class PlainStream final : public ConnectionStream {
 public:
  using ConnectionStream::ConnectionStream;

 private:
  ssize_t receive(char* ptr, std::size_t size) override {
    ssize_t n;
    do n = ::recv(sock_, ptr, size, 0);
    while (n < 0 && errno == EINTR);
    return n;
  }
  ssize_t send(const char* ptr, std::size_t size) override {
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }
};

// TLS over the (blocking) socket. The handshake is done by the caller.
class TlsStream final : public ConnectionStream {
 public:
  TlsStream(SSL* ssl, int sock, int read_timeout_ms, int write_timeout_ms)
      : ConnectionStream(sock, read_timeout_ms, write_timeout_ms), ssl_(ssl) {}

 private:
  ssize_t receive(char* ptr, std::size_t size) override {
    ERR_clear_error();
    int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<std::size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    return SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }
  ssize_t send(const char* ptr, std::size_t size) override {
    ERR_clear_error();
    int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<std::size_t>(size, INT32_MAX)));
    return n > 0 ? n : -1;
  }
  bool pending() const override { return SSL_pending(ssl_) > 0; }

  SSL* const ssl_;
};

}  // namespace

ConnectionServer::ConnectionServer(SSL_CTX* tls) : tls_(tls) {
  if (tls_ != nullptr) SSL_CTX_up_ref(tls_);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
}

ConnectionServer::~ConnectionServer() {
  for (int fd : stop_pipe_) {
    if (fd >= 0) ::close(fd);
  }
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

void ConnectionServer::end_idle_waits() {
  // One byte, never read: the pipe stays readable for every poll from now on.
  if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
}

bool ConnectionServer::wait_until_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(open_mu_);
  return open_cv_.wait_until(lock, deadline, [&] { return open_.empty(); });
}

void ConnectionServer::cut_open_connections() {
  std::lock_guard<std::mutex> lock(open_mu_);
  for (int sock : open_) ::shutdown(sock, SHUT_RDWR);
}

bool ConnectionServer::wait_for_request(socket_t sock) const {
  pollfd p[2] = {{sock, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  const nfds_t count = stop_pipe_[0] >= 0 ? 2 : 1;
  if (poll_for(p, count, to_ms(keep_alive_timeout_sec_, 0)) <= 0) return false;  // timeout, or poll failed
  if (count == 2 && p[1].revents != 0) return false;  // stopping
  return p[0].revents != 0;  // a request, or the client closed (read sees it)
}

bool ConnectionServer::process_and_close_socket(socket_t sock) {
  {
    std::lock_guard<std::mutex> lock(open_mu_);
    open_.insert(sock);
  }
  const int read_ms = to_ms(read_timeout_sec_, read_timeout_usec_);
  const int write_ms = to_ms(write_timeout_sec_, write_timeout_usec_);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(nullptr, SSL_free);
  std::unique_ptr<ConnectionStream> stream;
  if (tls_ == nullptr) {
    stream = std::make_unique<PlainStream>(sock, read_ms, write_ms);
  } else if (wait_for_request(sock)) {
    // Once the client has begun (so that a silent connection waits no longer
    // than an idle one, and stop() ends it), the handshake blocks up to the
    // socket's read timeout (SO_RCVTIMEO, set by cpp-httplib on accept), as
    // cpp-httplib's own does.
    ssl.reset(SSL_new(tls_));
    ERR_clear_error();
    if (ssl && SSL_set_fd(ssl.get(), sock) == 1 && SSL_accept(ssl.get()) == 1) {
      stream = std::make_unique<TlsStream>(ssl.get(), sock, read_ms, write_ms);
    }
    ERR_clear_error();  // a failed handshake is the client's; the thread goes on
  }
  bool ok = false;
  // One stream for the connection's life, so that a pipelined request read
  // with the one before it is served from the buffer.
  while (stream && svr_sock_ != INVALID_SOCKET && (stream->buffered() || wait_for_request(sock))) {
    bool connection_closed = false;
    ok = process_request(*stream, false, connection_closed, nullptr);
    if (!ok || connection_closed) break;
  }
  if (stream && ssl) SSL_shutdown(ssl.get());  // our close_notify; not waiting for theirs
  ERR_clear_error();
  ssl.reset();
  ::shutdown(sock, SHUT_RDWR);
  {
    std::lock_guard<std::mutex> lock(open_mu_);
    open_.erase(sock);
  }
  open_cv_.notify_all();
  ::close(sock);
  return ok;
}

}  // namespace divan::http
