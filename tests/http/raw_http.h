// Plain-socket HTTP/1.1 for tests that must see a response arrive piece by
// piece (feed lines, heartbeats) or drive many connections from one thread.
#ifndef DIVAN_TESTS_HTTP_RAW_HTTP_H_
#define DIVAN_TESTS_HTTP_RAW_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace divan::testing {

// A socket connected to 127.0.0.1:port, or -1.
inline int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends all of `data`; false if the connection failed.
inline bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Incremental HTTP/1.1 response parser for one keep-alive connection:
// bytes in, then the status, headers and (de-chunked) body as they arrive;
// reset() for the next response on the same connection.
class ResponseParser {
 public:
  void feed(const char* data, std::size_t n) {
    raw_.append(data, n);
    parse();
  }
  void reset() {
    head_.clear();
    body_.clear();
    have_head_ = chunked_ = ended_ = false;
    length_ = 0;
    status_ = 0;
    parse();  // bytes of the next response may already be here
  }
  bool have_head() const { return have_head_; }
  bool ended() const { return ended_; }
  int status() const { return status_; }
  std::string& body() { return body_; }
  const std::string& body() const { return body_; }

  // A response header (case-insensitive name), or "".
  std::string header(const std::string& name) const {
    std::string key = "\r\n" + lower(name) + ":";
    auto at = lower(head_).find(key);
    if (at == std::string::npos) return "";
    auto start = at + key.size();
    std::string v = head_.substr(start, head_.find("\r\n", start) - start);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  void parse() {
    if (!have_head_) {
      auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      head_ = raw_.substr(0, end + 2);
      raw_.erase(0, end + 4);
      have_head_ = true;
      status_ = std::atoi(head_.c_str() + 9);
      chunked_ = lower(header("Transfer-Encoding")) == "chunked";
      std::string len = header("Content-Length");
      length_ = len.empty() ? 0 : std::strtoul(len.c_str(), nullptr, 10);
      if (!chunked_ && length_ == 0) ended_ = true;
    }
    if (ended_) return;
    if (chunked_) {
      for (;;) {
        auto eol = raw_.find("\r\n");
        if (eol == std::string::npos) return;
        std::size_t size = std::strtoul(raw_.c_str(), nullptr, 16);
        if (raw_.size() < eol + 2 + size + 2) return;
        body_.append(raw_, eol + 2, size);
        raw_.erase(0, eol + 2 + size + 2);
        if (size == 0) {
          ended_ = true;
          return;
        }
      }
    }
    std::size_t take = std::min(raw_.size(), length_ - body_.size());
    body_.append(raw_, 0, take);
    raw_.erase(0, take);
    if (body_.size() == length_) ended_ = true;
  }

  std::string raw_, head_, body_;
  bool have_head_ = false, chunked_ = false, ended_ = false;
  std::size_t length_ = 0;
  int status_ = 0;
};

}  // namespace divan::testing

#endif  // DIVAN_TESTS_HTTP_RAW_HTTP_H_
