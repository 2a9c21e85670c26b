#include "http/plain_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace divan::http {
namespace {

// poll() on one descriptor for `events`, restarted after signals, for up to
// `timeout_ms`. Returns poll's result.
int poll_one(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int rc = ::poll(&p, 1, timeout_ms);
    if (rc >= 0 || errno != EINTR) return rc;
    timeout_ms = static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
               .count()));
  }
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

// A connection's socket as cpp-httplib's Stream, with its read and write
// timeouts and a read buffer, as cpp-httplib's own SocketStream behaves.
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int sock, int read_timeout_ms, int write_timeout_ms)
      : sock_(sock), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override { return poll_one(sock_, POLLIN, read_timeout_ms_) > 0; }

  // Writable within the timeout, and the client still there: cpp-httplib
  // asks before each write, and streamed responses (feeds) ask to notice a
  // client that left.
  bool is_writable() const override {
    if (poll_one(sock_, POLLOUT, write_timeout_ms_) <= 0) return false;
    if (poll_one(sock_, POLLIN, 0) <= 0) return true;  // nothing to read: still there
    char c;
    ssize_t n;
    do n = ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));  // data waiting, or a false alarm
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
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
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

  // Whether bytes already read from the socket wait here (the start of a
  // pipelined next request).
  bool buffered() const { return buffered_ < filled_; }

 private:
  ssize_t receive(char* ptr, std::size_t size) {
    ssize_t n;
    do n = ::recv(sock_, ptr, size, 0);
    while (n < 0 && errno == EINTR);
    return n;
  }

  const int sock_;
  const int read_timeout_ms_, write_timeout_ms_;
  char buffer_[4096];
  std::size_t buffered_ = 0, filled_ = 0;  // buffer_[buffered_, filled_) not yet read
};

}  // namespace

PlainServer::PlainServer() {
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
}

PlainServer::~PlainServer() {
  for (int fd : stop_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

void PlainServer::end_idle_waits() {
  // One byte, never read: the pipe stays readable for every poll from now on.
  if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
}

bool PlainServer::wait_for_request(socket_t sock) const {
  pollfd p[2] = {{sock, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  const nfds_t count = stop_pipe_[0] >= 0 ? 2 : 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    int rc = ::poll(p, count, static_cast<int>(std::max<long long>(0, left)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;  // the keep-alive timeout, or poll failed
    if (count == 2 && p[1].revents != 0) return false;  // stopping
    return p[0].revents != 0;  // a request, or the client closed (read sees it)
  }
}

bool PlainServer::process_and_close_socket(socket_t sock) {
  SocketStream stream(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                      to_ms(write_timeout_sec_, write_timeout_usec_));
  bool ok = false;
  // One stream for the connection's life, so that a pipelined request read
  // with the one before it is served from the buffer.
  while (svr_sock_ != INVALID_SOCKET && (stream.buffered() || wait_for_request(sock))) {
    bool connection_closed = false;
    ok = process_request(stream, false, connection_closed, nullptr);
    if (!ok || connection_closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace divan::http
