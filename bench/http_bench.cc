// http_bench: the divan server against PouchDB Server, over HTTP.
//
// Run by hand, never from the tests (see docs/benchmarks.md):
//
//   http_bench [--docs N] [--seconds N] [--only LIST] [--divan-only]
//              [--pouchdb-only] [--keep-going] [--divan PATH]
//              [--pouchdb-server-dir DIR] [--pouchdb-server-arg ARG]...
//              [--node PATH] [--dir PATH]
//              [--changes-reads N] [--put-clients N] [--get-clients N]
//              [--perf LIST] [--perf-dir DIR] [--perf-call-graph MODE]
//
// The bench starts both servers itself, each on loopback with a fresh data
// folder under a scratch folder (mkdtemp under --dir, default /tmp), runs
// the phases against divan and then against PouchDB Server with the same
// load generator, stops each server with SIGTERM, prints a markdown table
// and the details, and removes the scratch folder.
//
//   divan           <build>/http/divan (the sibling of this binary's folder,
//                   found through /proc/self/exe), or --divan PATH, run as
//                   `divan serve --bind 127.0.0.1 --port P --data DIR
//                   --log-level warn` on a free port the bench picks
//   PouchDB Server  `node DIR/bin/pouchdb-server --host 127.0.0.1 --port P
//                   --dir DIR`, DIR being bench/node_modules/pouchdb-server
//                   in the source tree (install it with `cd bench && npm
//                   ci`), or --pouchdb-server-dir DIR. Its working folder is
//                   in the scratch folder (it writes config.json and
//                   log.txt there); its default storage is LevelDB.
//
// Phases (--only takes a comma-separated subset; get and changes load the
// documents first, unreported, when bulk is not selected):
//   bulk     POST /bench/_bulk_docs: --docs new docs (241 bytes each with
//            their _id) in batches of 1000, one keep-alive connection
//   put      PUT /bench_put/{new id}: 16 keep-alive connections, --seconds
//   get      GET /bench/{random existing id}: 32 keep-alive connections,
//            --seconds
//   changes  GET /bench/_changes, without and with include_docs, read in
//            full --changes-reads times each (median)
// and, at the end of each server's run, its peak RSS (VmHWM in
// /proc/PID/status).
//
// The load generator is a minimal HTTP/1.1 client over blocking sockets with
// TCP_NODELAY, one connection per thread, kept alive across requests. Every
// response's status (and body, where cheap) is checked; failures are counted
// and a phase with failures is reported as such. Without --keep-going the
// first phase with errors ends that server's run.
//
// --perf LIST records `perf record -e cpu-clock -g` of the divan process
// during the listed phases, into --perf-dir (default .) as
// perf-divan-PHASE.data (the changes phase gives perf-divan-changes.data and
// perf-divan-changes_docs.data); --perf-call-graph MODE (e.g. dwarf,16384)
// replaces -g with --call-graph MODE.
//
// Besides the table, the details give for each phase and server: requests,
// errors (the first few verbatim), latency percentiles, connections opened,
// the CPU time of the server, of the bench and of other processes (a busy
// machine is called out under the table), the bytes written to the scratch
// folder's disk, and the server's RSS; and, at the end, the server's largest
// resident mappings. The exit status is 0 when every run completed without
// errors, 1 otherwise, 2 for a bad command line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "bench_docs.h"

#ifndef HTTP_BENCH_SOURCE_DIR
#define HTTP_BENCH_SOURCE_DIR "."
#endif

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void progress(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void progress(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strprintf(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// ------------------------------------------------------------------ options

const char* const kPhases[] = {"bulk", "put", "get", "changes"};

struct Options {
  std::size_t docs = 100'000;
  std::size_t batch = 1'000;
  double seconds = 10;
  unsigned put_clients = 16;
  unsigned get_clients = 32;
  unsigned changes_reads = 3;
  std::set<std::string> only;  // empty: every phase
  bool divan = true;
  bool pouchdb = true;
  bool keep_going = false;
  // Send _bulk_docs documents without "_id", so that each server makes its
  // own ids (divan: CouchDB's sequential ids; PouchDB Server: random UUIDs).
  bool server_ids = false;
  // Secure divan (an admin instead of --insecure-admin-party) and send
  // every request with that admin's Basic credentials, to measure what
  // authentication costs.
  bool auth = false;
  std::string divan_path;        // empty: next to this binary
  std::string pouchdb_dir;       // empty: <source>/bench/node_modules/pouchdb-server
  std::string node = "node";
  std::vector<std::string> pouchdb_args;  // extra arguments for pouchdb-server
  std::string dir = "/tmp";
  std::set<std::string> perf;    // divan phases to record with perf
  std::string perf_dir = ".";
  std::string perf_call_graph;   // empty: -g (frame pointers)
  bool want(const std::string& phase) const { return only.empty() || only.count(phase) != 0; }
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--docs N] [--seconds N] [--only bulk,put,get,changes]\n"
               "          [--divan-only | --pouchdb-only] [--keep-going] [--server-ids] [--auth]\n"
               "          [--divan PATH] [--pouchdb-server-dir DIR] [--pouchdb-server-arg ARG]...\n"
               "          [--node PATH]\n"
               "          [--dir PATH] [--changes-reads N] [--put-clients N] [--get-clients N]\n"
               "          [--perf LIST] [--perf-dir DIR] [--perf-call-graph MODE]\n",
               argv0);
  std::exit(2);
}

std::set<std::string> parse_phase_list(const std::string& list, const char* argv0) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string p = list.substr(start, comma - start);
    if (std::find(std::begin(kPhases), std::end(kPhases), p) == std::end(kPhases)) usage(argv0);
    out.insert(p);
    start = comma + 1;
  }
  return out;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    auto number = [&]() -> double {
      std::string v = value();
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || d <= 0) usage(argv[0]);
      return d;
    };
    if (a == "--docs") {
      o.docs = static_cast<std::size_t>(number());
    } else if (a == "--seconds") {
      o.seconds = number();
    } else if (a == "--only") {
      o.only = parse_phase_list(value(), argv[0]);
    } else if (a == "--divan-only") {
      o.pouchdb = false;
    } else if (a == "--pouchdb-only") {
      o.divan = false;
    } else if (a == "--keep-going") {
      o.keep_going = true;
    } else if (a == "--server-ids") {
      o.server_ids = true;
    } else if (a == "--auth") {
      o.auth = true;
    } else if (a == "--divan") {
      o.divan_path = value();
    } else if (a == "--pouchdb-server-dir") {
      o.pouchdb_dir = value();
    } else if (a == "--pouchdb-server-arg") {
      o.pouchdb_args.push_back(value());
    } else if (a == "--node") {
      o.node = value();
    } else if (a == "--dir") {
      o.dir = value();
    } else if (a == "--changes-reads") {
      o.changes_reads = static_cast<unsigned>(number());
    } else if (a == "--put-clients") {
      o.put_clients = static_cast<unsigned>(number());
    } else if (a == "--get-clients") {
      o.get_clients = static_cast<unsigned>(number());
    } else if (a == "--perf") {
      o.perf = parse_phase_list(value(), argv[0]);
    } else if (a == "--perf-dir") {
      o.perf_dir = value();
    } else if (a == "--perf-call-graph") {
      o.perf_call_graph = value();
    } else {
      usage(argv[0]);
    }
  }
  if (o.docs == 0 || o.put_clients == 0 || o.get_clients == 0 || o.changes_reads == 0) {
    usage(argv[0]);
  }
  if (!o.divan && !o.pouchdb) usage(argv[0]);
  return o;
}

// ------------------------------------------------------- the scratch folder

std::string g_root;  // removed on exit, including by die()
std::vector<pid_t> g_children;  // killed by die()

void remove_root() {
  if (g_root.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(g_root, ec);
  if (ec) std::fprintf(stderr, "warning: cannot remove %s: %s\n", g_root.c_str(), ec.message().c_str());
  g_root.clear();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "http_bench: %s\n", what.c_str());
  for (pid_t p : g_children) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  remove_root();
  std::exit(1);
}

std::atomic<bool> g_interrupted{false};
// Sent with every request when non-empty (--auth): "Authorization: ...\r\n".
std::string g_auth_header;

void on_interrupt(int) { g_interrupted = true; }

// ---------------------------------------------------------------- documents

std::string hex128(std::uint64_t hi, std::uint64_t lo) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 "%016" PRIx64, hi, lo);
  return std::string(buf, 32);
}

// Document ids: 32 lowercase hex digits, uniformly random, from a seed, so
// both servers get the same ids in the same order.
class IdGen {
 public:
  explicit IdGen(std::uint64_t seed) : rng_(seed) {}
  std::string next() { return hex128(rng_(), rng_()); }

 private:
  std::mt19937_64 rng_;
};

using divan::bench::kBodySize;
using divan::bench::make_body;

// {"_id":id, body members...}
std::string make_doc(const std::string& id, const std::string& body) {
  std::string doc;
  doc.reserve(body.size() + id.size() + 16);
  doc += "{\"_id\":\"";
  doc += id;
  doc += "\",";
  doc.append(body, 1, std::string::npos);
  return doc;
}

// ------------------------------------------------------ a minimal HTTP client

struct Response {
  int status = 0;
  std::string body;
};

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port over a blocking
// socket with TCP_NODELAY. Handles Content-Length, chunked and
// read-until-close bodies, and `Connection: close` (reconnects on the next
// request). Not thread-safe: one per thread.
class HttpConn {
 public:
  explicit HttpConn(int port) : port_(port), host_header_("127.0.0.1:" + std::to_string(port)) {}
  ~HttpConn() { close(); }
  HttpConn(const HttpConn&) = delete;
  HttpConn& operator=(const HttpConn&) = delete;

  // Opens the connection now (rather than on the first request). Returns an
  // error message, or "" on success.
  std::string connect() {
    if (fd_ >= 0) return "";
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket: ") + std::strerror(errno);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{300, 0};  // a hung server fails the request rather than the bench
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::string err = std::string("connect: ") + std::strerror(errno);
      ::close(fd);
      return err;
    }
    fd_ = fd;
    buf_.clear();
    pos_ = 0;
    ++connects_;
    return "";
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::uint64_t connects() const { return connects_; }

  // Sends one request and reads its whole response. Returns "" on success
  // (any status), or what went wrong at the transport level.
  std::string request(std::string_view method, std::string_view target, std::string_view body,
                      Response& out) {
    out.status = 0;
    out.body.clear();
    if (std::string err = connect(); !err.empty()) return err;
    head_.clear();
    head_.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
    head_.append(host_header_).append("\r\nAccept: application/json\r\n");
    head_.append(g_auth_header);
    if (!body.empty() || method == "PUT" || method == "POST") {
      head_.append("Content-Type: application/json\r\nContent-Length: ");
      head_.append(std::to_string(body.size())).append("\r\n");
    }
    head_.append("\r\n");
    if (std::string err = send_all(head_, body); !err.empty()) {
      close();
      return err;
    }
    std::string err = read_response(method == "HEAD", out);
    if (!err.empty()) close();
    return err;
  }

 private:
  std::string send_all(std::string_view a, std::string_view b) {
    iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    int n = b.empty() ? 1 : 2;
    iovec* v = iov;
    while (n > 0) {
      msghdr msg{};
      msg.msg_iov = v;
      msg.msg_iovlen = static_cast<std::size_t>(n);
      ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        return std::string("send: ") + std::strerror(errno);
      }
      auto left = static_cast<std::size_t>(sent);
      while (n > 0 && left >= v->iov_len) {
        left -= v->iov_len;
        ++v;
        --n;
      }
      if (n > 0) {
        v->iov_base = static_cast<char*>(v->iov_base) + left;
        v->iov_len -= left;
      }
    }
    return "";
  }

  // Reads more bytes into buf_. Returns 0 at EOF, -1 on error (err set).
  ssize_t fill(std::string& err) {
    for (;;) {
      std::size_t old = buf_.size();
      std::size_t chunk = std::max<std::size_t>(65536, old / 2);
      buf_.resize(old + chunk);
      ssize_t got = ::recv(fd_, buf_.data() + old, chunk, 0);
      buf_.resize(old + static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
      if (got < 0) {
        if (errno == EINTR && !g_interrupted) continue;
        err = std::string("recv: ") + std::strerror(errno);
        return -1;
      }
      return got;
    }
  }

  // Makes sure buf_ holds at least `n` unread bytes.
  std::string need(std::size_t n) {
    while (buf_.size() - pos_ < n) {
      std::string err;
      ssize_t got = fill(err);
      if (got < 0) return err;
      if (got == 0) return "connection closed mid-response";
    }
    return "";
  }

  // The offset of the next "\r\n" at or after pos_, reading more as needed.
  std::string find_crlf(std::size_t* at) {
    std::size_t from = pos_;
    for (;;) {
      std::size_t p = buf_.find("\r\n", from);
      if (p != std::string::npos) {
        *at = p;
        return "";
      }
      from = buf_.size() > 0 ? buf_.size() - 1 : 0;
      if (buf_.size() - pos_ > (1u << 20)) return "line too long";
      std::string err;
      ssize_t got = fill(err);
      if (got < 0) return err;
      if (got == 0) return buf_.size() == pos_ ? "connection closed by the server" : "connection closed mid-response";
    }
  }

  std::string read_response(bool head_request, Response& out) {
    // Status line and headers.
    std::size_t end = std::string::npos;
    std::size_t from = pos_;
    for (;;) {
      end = buf_.find("\r\n\r\n", from);
      if (end != std::string::npos) break;
      from = buf_.size() >= 3 ? std::max(pos_, buf_.size() - 3) : pos_;
      if (buf_.size() - pos_ > 65536) return "response headers too long";
      std::string err;
      ssize_t got = fill(err);
      if (got < 0) return err;
      if (got == 0) {
        return buf_.size() == pos_ ? "connection closed by the server before a response"
                                   : "connection closed in the response headers";
      }
    }
    std::string_view head(buf_.data() + pos_, end - pos_);
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") {
      return "bad status line: " + std::string(head.substr(0, 80));
    }
    out.status = std::atoi(std::string(head.substr(9, 3)).c_str());
    std::optional<std::size_t> content_length;
    bool chunked = false;
    bool close_after = head.substr(0, 8) == "HTTP/1.0";
    std::size_t line = head.find("\r\n");
    while (line != std::string_view::npos && line + 2 < head.size()) {
      std::size_t next = head.find("\r\n", line + 2);
      std::string_view h = head.substr(line + 2, (next == std::string_view::npos ? head.size() : next) - line - 2);
      line = next;
      std::size_t colon = h.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(h.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value(h.substr(colon + 1));
      for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "content-length") {
        content_length = static_cast<std::size_t>(std::strtoull(value.c_str(), nullptr, 10));
      } else if (name == "transfer-encoding") {
        chunked = value.find("chunked") != std::string::npos;
      } else if (name == "connection") {
        if (value.find("close") != std::string::npos) close_after = true;
        if (value.find("keep-alive") != std::string::npos) close_after = false;
      }
    }
    pos_ = end + 4;

    if (head_request || out.status == 204 || out.status == 304 || (out.status >= 100 && out.status < 200)) {
      // no body
    } else if (chunked) {
      for (;;) {
        std::size_t crlf = 0;
        if (std::string err = find_crlf(&crlf); !err.empty()) return err;
        std::size_t size = std::strtoull(buf_.c_str() + pos_, nullptr, 16);
        pos_ = crlf + 2;
        if (size == 0) {
          // Trailers, then an empty line.
          for (;;) {
            if (std::string err = find_crlf(&crlf); !err.empty()) return err;
            bool empty = crlf == pos_;
            pos_ = crlf + 2;
            if (empty) break;
          }
          break;
        }
        if (std::string err = need(size + 2); !err.empty()) return err;
        out.body.append(buf_, pos_, size);
        pos_ += size + 2;
      }
    } else if (content_length) {
      if (std::string err = need(*content_length); !err.empty()) return err;
      out.body.assign(buf_, pos_, *content_length);
      pos_ += *content_length;
    } else {
      // Until the server closes.
      for (;;) {
        std::string err;
        ssize_t got = fill(err);
        if (got < 0) return err;
        if (got == 0) break;
      }
      out.body.assign(buf_, pos_, std::string::npos);
      pos_ = buf_.size();
      close_after = true;
    }
    // Drop what has been consumed.
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > 65536) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    if (buf_.capacity() > (8u << 20)) {
      std::string(buf_, pos_).swap(buf_);
      pos_ = 0;
    }
    if (close_after) close();
    return "";
  }

  int port_;
  std::string host_header_;
  int fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;
  std::string head_;
  std::uint64_t connects_ = 0;
};

// --------------------------------------------------------------- processes

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind failed");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Starts argv in `cwd` with stdout and stderr going to `log`; the child is
// killed if the bench dies.
pid_t spawn(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  g_children.push_back(pid);
  return pid;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Sends `sig`, waits up to `timeout_s` (then SIGKILL). Returns how it ended.
std::string stop_process(pid_t pid, int sig, double timeout_s) {
  ::kill(pid, sig);
  auto t0 = Clock::now();
  int status = 0;
  std::string how;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      how = describe_wait_status(status);
      break;
    }
    if (r < 0) {
      how = "unknown (waitpid failed)";
      break;
    }
    if (seconds_since(t0) > timeout_s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      how = strprintf("did not stop within %.0f s of %s; killed", timeout_s, strsignal(sig));
      break;
    }
    ::usleep(20'000);
  }
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
  return how;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

// A "Name:   1234 kB" field of /proc/PID/status, in KiB, or -1.
long proc_status_kib(pid_t pid, const char* field) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/status");
  std::string key = std::string("\n") + field + ":";
  std::size_t p = text.find(key);
  if (p == std::string::npos) return -1;
  return std::strtol(text.c_str() + p + key.size(), nullptr, 10);
}

// The process's largest resident mappings, grouped by what they map (a file,
// "[heap]", "[anon]"...), as "name 12.3 MiB" strings, largest first.
std::vector<std::string> top_mappings(pid_t pid, std::size_t n) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::map<std::string, long> rss;
  std::string line, current = "[anon]";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 17 && line.find(':') > 17) {
      // "start-end perms offset dev inode   pathname"
      std::istringstream f(line);
      std::string range, perms, offset, dev, inode, path;
      f >> range >> perms >> offset >> dev >> inode;
      std::getline(f, path);
      path.erase(0, path.find_first_not_of(' '));
      current = path.empty() ? "[anon]" : path;
    } else if (line.rfind("Rss:", 0) == 0) {
      rss[current] += std::strtol(line.c_str() + 4, nullptr, 10);
    }
  }
  std::vector<std::pair<long, std::string>> v;
  for (auto& [name, kib] : rss) v.emplace_back(kib, name);
  std::sort(v.rbegin(), v.rend());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size() && i < n; ++i) {
    std::string name = v[i].second;
    if (!g_root.empty() && name.rfind(g_root, 0) == 0) name = "<scratch>" + name.substr(g_root.size());
    out.push_back(strprintf("%s %.1f MiB", name.c_str(), v[i].first / 1024.0));
  }
  return out;
}

// User + system CPU seconds of all the process's threads so far.
double proc_cpu_seconds(pid_t pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::size_t p = text.rfind(')');
  if (p == std::string::npos) return 0;
  std::istringstream in(text.substr(p + 2));
  std::string field;
  double ticks = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The block device holding the scratch folder: /sys/dev/block/MAJ:MIN/stat,
// set once the folder exists.
std::string g_disk_stat;

// Bytes written to the scratch folder's block device so far (by everyone),
// or 0 where unknown.
double disk_written_bytes() {
  if (g_disk_stat.empty()) return 0;
  std::istringstream in(read_file(g_disk_stat));
  double v = 0, sectors = 0;
  // Fields: reads, merged, sectors read, ms, writes, merged, sectors written...
  for (int i = 0; i < 7 && (in >> v); ++i) {
    if (i == 6) sectors = v;
  }
  return sectors * 512;
}

// Busy (non-idle, non-iowait) CPU seconds of the whole machine so far.
double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  double total = 0, idle = 0, v = 0;
  for (int i = 0; i < 8 && (in >> v); ++i) {
    total += v;
    if (i == 3 || i == 4) idle += v;
  }
  return (total - idle) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// ------------------------------------------------------------------ results

struct Phase {
  bool ran = false;
  bool skipped = false;       // not run: an earlier phase failed
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;   // failed requests (or failed docs in bulk)
  std::uint64_t items = 0;    // docs or rows processed successfully
  double seconds = 0;
  double rate = 0;            // the headline figure (per second)
  std::vector<double> lat_us; // per request
  std::uint64_t connects = 0;
  double server_cpu = 0;      // CPU seconds of the server during the phase
  double client_cpu = 0;      // ... of the bench (the load generator)
  double other_cpu = 0;       // ... of everything else on the machine
  double window = 0;          // wall seconds over which those were taken
  double disk_bytes = 0;      // bytes written to the data folder's device (by everyone)
  long rss_after_kib = -1;
  std::vector<std::string> samples;  // the first few failures, verbatim
  std::vector<std::string> notes;

  void fail(const std::string& what) {
    ++errors;
    if (samples.size() < 5) samples.push_back(what);
  }
  double pct(double q) const {
    if (lat_us.empty()) return 0;
    std::vector<double> v = lat_us;
    std::size_t k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k];
  }
  double max() const { return lat_us.empty() ? 0 : *std::max_element(lat_us.begin(), lat_us.end()); }
};

struct ServerRun {
  std::string name;
  bool started = false;
  std::string start_error;
  std::map<std::string, Phase> phases;  // bulk, put, get, changes, changes_docs
  long hwm_kib = -1, rss_kib = -1, rss_anon_kib = -1, rss_file_kib = -1;
  std::vector<std::string> mappings;  // the largest resident mappings at the end
  bool complete = false;  // every selected phase ran without errors
  std::string stop_how;
  std::string log_tail;
  std::string version;
};

std::string abbreviate(const std::string& s, std::size_t n = 300) {
  std::string out = s.size() <= n ? s : s.substr(0, n) + "…";
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::string describe_failure(std::string_view method, std::string_view target,
                             const std::string& transport_err, const Response& r) {
  if (!transport_err.empty()) {
    return std::string(method) + " " + std::string(target) + " -> " + transport_err;
  }
  return std::string(method) + " " + std::string(target) + " -> " + std::to_string(r.status) + " " +
         abbreviate(r.body);
}

// --------------------------------------------------------------- the phases

struct Target {
  int port = 0;
  pid_t pid = 0;
};

// A server-side figure around a phase.
struct ServerSample {
  double cpu;         // the server's
  double self_cpu;    // the bench's (the load generator)
  double busy_cpu;    // the machine's
  double disk_bytes;   // the device's
  Clock::time_point wall = Clock::now();
  explicit ServerSample(const Target& t)
      : cpu(proc_cpu_seconds(t.pid)),
        self_cpu(proc_cpu_seconds(::getpid())),
        busy_cpu(machine_busy_seconds()),
        disk_bytes(disk_written_bytes()) {}
};

void finish_phase(const Target& t, const ServerSample& before, Phase& ph) {
  ph.server_cpu = proc_cpu_seconds(t.pid) - before.cpu;
  ph.client_cpu = proc_cpu_seconds(::getpid()) - before.self_cpu;
  ph.other_cpu = std::max(0.0, machine_busy_seconds() - before.busy_cpu - ph.server_cpu - ph.client_cpu);
  ph.window = seconds_since(before.wall);
  ph.disk_bytes = disk_written_bytes() - before.disk_bytes;
  ph.rss_after_kib = proc_status_kib(t.pid, "VmRSS");
  ph.ran = true;
}

// One request on a fresh connection, for set-up steps; dies on failure.
Response must(const Target& t, std::string_view method, std::string_view target, std::string_view body,
              std::initializer_list<int> ok_statuses) {
  HttpConn c(t.port);
  Response r;
  std::string err = c.request(method, target, body, r);
  if (!err.empty() || std::find(ok_statuses.begin(), ok_statuses.end(), r.status) == ok_statuses.end()) {
    throw std::runtime_error(describe_failure(method, target, err, r));
  }
  return r;
}

struct BulkPlan {
  std::vector<std::string> ids;     // all docs, in order
  std::vector<std::string> bodies;  // one _bulk_docs request body per batch
  std::vector<std::size_t> counts;  // docs per batch
};

BulkPlan plan_bulk(const Options& o) {
  BulkPlan plan;
  IdGen gen(0x5eed0001);
  plan.ids.reserve(o.docs);
  for (std::size_t i = 0; i < o.docs; ++i) plan.ids.push_back(gen.next());
  for (std::size_t start = 0; start < o.docs; start += o.batch) {
    std::size_t n = std::min(o.batch, o.docs - start);
    std::string req = "{\"docs\":[";
    req.reserve(n * 250 + 16);
    for (std::size_t i = start; i < start + n; ++i) {
      if (i != start) req += ',';
      req += o.server_ids ? make_body(i, 0) : make_doc(plan.ids[i], make_body(i, 0));
    }
    req += "]}";
    plan.bodies.push_back(std::move(req));
    plan.counts.push_back(n);
  }
  return plan;
}

// Checks one _bulk_docs response: every row {"ok":true,"id":...,"rev":...}.
void check_bulk_response(const Response& r, std::size_t expected, std::string_view target, Phase& ph,
                         std::uint64_t* ok_docs, std::vector<std::string>* ids) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (d.HasParseError() || !d.IsArray()) {
    ph.fail(describe_failure("POST", target, "", r) + " (not a JSON array)");
    return;
  }
  if (d.Size() != expected) {
    ph.fail(strprintf("POST %s -> %u rows for %zu docs", std::string(target).c_str(), d.Size(), expected));
  }
  for (const auto& row : d.GetArray()) {
    bool ok = row.IsObject() && row.HasMember("ok") && row["ok"].IsTrue() && row.HasMember("rev") &&
              row["rev"].IsString() && row.HasMember("id");
    if (ok) {
      ++*ok_docs;
      if (ids != nullptr && row["id"].IsString()) ids->push_back(row["id"].GetString());
    } else {
      ++ph.errors;
      if (ph.samples.size() < 5) {
        std::string s = "POST " + std::string(target) + " row: ";
        if (row.IsObject() && row.HasMember("error") && row["error"].IsString()) {
          s += row["error"].GetString();
          if (row.HasMember("reason") && row["reason"].IsString()) s += std::string(": ") + row["reason"].GetString();
        } else {
          s += "malformed row";
        }
        ph.samples.push_back(s);
      }
    }
  }
}

// `ids` receives the ids the server gave (with --server-ids), else is
// left alone.
void run_bulk(const Target& t, const BulkPlan& plan, Phase& ph, std::vector<std::string>* ids) {
  ServerSample before(t);
  HttpConn c(t.port);
  if (std::string err = c.connect(); !err.empty()) {
    ph.fail("connect: " + err);
    finish_phase(t, before, ph);
    return;
  }
  std::vector<Response> responses(plan.bodies.size());
  std::vector<std::string> transport(plan.bodies.size());
  const std::string target = "/bench/_bulk_docs";
  auto t0 = Clock::now();
  for (std::size_t b = 0; b < plan.bodies.size() && !g_interrupted; ++b) {
    auto r0 = Clock::now();
    transport[b] = c.request("POST", target, plan.bodies[b], responses[b]);
    ph.lat_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - r0).count());
    ++ph.requests;
  }
  ph.seconds = seconds_since(t0);
  finish_phase(t, before, ph);
  ph.connects = c.connects();
  std::uint64_t ok_docs = 0;
  for (std::size_t b = 0; b < ph.requests; ++b) {
    if (!transport[b].empty() || responses[b].status != 201) {
      ph.fail(describe_failure("POST", target, transport[b], responses[b]));
      continue;
    }
    check_bulk_response(responses[b], plan.counts[b], target, ph, &ok_docs, ids);
  }
  ph.items = ok_docs;
  ph.rate = static_cast<double>(ok_docs) / ph.seconds;
  // The database now holds exactly the docs (untimed check).
  try {
    Response info = must(t, "GET", "/bench", "", {200});
    rapidjson::Document d;
    d.Parse(info.body.data(), info.body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("doc_count") || !d["doc_count"].IsUint64() ||
        d["doc_count"].GetUint64() != plan.ids.size()) {
      ph.fail("GET /bench after the bulk insert: expected doc_count " + std::to_string(plan.ids.size()) +
              ": " + abbreviate(info.body));
    }
  } catch (const std::exception& e) {
    ph.fail(e.what());
  }
}

// `clients` threads, each with its own keep-alive connection, sending
// requests for `seconds`. `make(worker, i, &method, &target, &body)` builds
// request i of a worker; `check(worker, target, response)` says whether the
// response is right.
using MakeRequest = std::function<void(unsigned, std::uint64_t, std::string*, std::string*, std::string*)>;
using CheckResponse = std::function<bool(unsigned, const std::string&, const Response&)>;

void run_timed(const Target& t, unsigned clients, double seconds, const MakeRequest& make,
               const CheckResponse& check, Phase& ph) {
  struct Worker {
    std::unique_ptr<HttpConn> conn;
    std::vector<double> lat;
    std::uint64_t requests = 0, errors = 0;
    std::vector<std::string> samples;
    Clock::time_point end;
  };
  std::vector<Worker> workers(clients);
  for (auto& w : workers) {
    w.conn = std::make_unique<HttpConn>(t.port);
    w.lat.reserve(static_cast<std::size_t>(seconds * 20000 / clients) + 1024);
    if (std::string err = w.conn->connect(); !err.empty()) {
      ph.fail("connect: " + err);
      ph.ran = true;
      return;
    }
  }
  ServerSample before(t);
  std::atomic<bool> go{false};
  Clock::time_point start, deadline;
  std::vector<std::thread> threads;
  for (unsigned wi = 0; wi < clients; ++wi) {
    threads.emplace_back([&, wi] {
      Worker& w = workers[wi];
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      std::string method, target, body;
      Response r;
      for (std::uint64_t i = 0;; ++i) {
        auto now = Clock::now();
        if (now >= deadline || g_interrupted) break;
        make(wi, i, &method, &target, &body);
        std::string err = w.conn->request(method, target, body, r);
        auto done = Clock::now();
        w.lat.push_back(std::chrono::duration<double, std::micro>(done - now).count());
        ++w.requests;
        if (!err.empty() || !check(wi, target, r)) {
          ++w.errors;
          if (w.samples.size() < 3) w.samples.push_back(describe_failure(method, target, err, r));
        }
      }
      w.end = Clock::now();
    });
  }
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go.store(true, std::memory_order_release);
  for (auto& th : threads) th.join();
  Clock::time_point end = start;
  for (auto& w : workers) end = std::max(end, w.end);
  ph.seconds = std::chrono::duration<double>(end - start).count();
  finish_phase(t, before, ph);
  for (auto& w : workers) {
    ph.requests += w.requests;
    ph.errors += w.errors;
    ph.connects += w.conn->connects();
    ph.lat_us.insert(ph.lat_us.end(), w.lat.begin(), w.lat.end());
    for (auto& s : w.samples) {
      if (ph.samples.size() < 5) ph.samples.push_back(s);
    }
  }
  ph.items = ph.requests - ph.errors;
  ph.rate = static_cast<double>(ph.items) / ph.seconds;
}

void run_put(const Target& t, const Options& o, Phase& ph) {
  std::vector<IdGen> gens;
  for (unsigned w = 0; w < o.put_clients; ++w) gens.emplace_back(0x5eed1000 + w);
  MakeRequest make = [&](unsigned w, std::uint64_t i, std::string* method, std::string* target, std::string* body) {
    *method = "PUT";
    *target = "/bench_put/" + gens[w].next();
    *body = make_body(w * 1'000'000'000ull + i, 0);
  };
  CheckResponse check = [](unsigned, const std::string&, const Response& r) {
    return (r.status == 201 || r.status == 202) && r.body.find("\"ok\":true") != std::string::npos;
  };
  run_timed(t, o.put_clients, o.seconds, make, check, ph);
}

void run_get(const Target& t, const Options& o, const std::vector<std::string>& ids, Phase& ph) {
  std::vector<std::mt19937_64> rngs;
  for (unsigned w = 0; w < o.get_clients; ++w) rngs.emplace_back(0x5eed2000 + w);
  std::vector<std::string> last_id(o.get_clients);
  MakeRequest make = [&](unsigned w, std::uint64_t, std::string* method, std::string* target, std::string* body) {
    const std::string& id = ids[rngs[w]() % ids.size()];
    *method = "GET";
    *target = "/bench/" + id;
    body->clear();
    last_id[w] = id;
  };
  CheckResponse check = [&](unsigned w, const std::string&, const Response& r) {
    return r.status == 200 && r.body.find("\"_id\":\"" + last_id[w] + "\"") != std::string::npos &&
           r.body.find("\"_rev\":\"1-") != std::string::npos;
  };
  run_timed(t, o.get_clients, o.seconds, make, check, ph);
}

void run_changes(const Target& t, const Options& o, std::size_t expected_rows, bool include_docs, Phase& ph) {
  ServerSample before(t);
  const std::string target = include_docs ? "/bench/_changes?include_docs=true" : "/bench/_changes";
  std::vector<double> rates;
  for (unsigned rep = 0; rep < o.changes_reads && !g_interrupted; ++rep) {
    HttpConn c(t.port);
    if (std::string err = c.connect(); !err.empty()) {
      ph.fail("connect: " + err);
      break;
    }
    Response r;
    auto t0 = Clock::now();
    std::string err = c.request("GET", target, "", r);
    double s = seconds_since(t0);
    ++ph.requests;
    ph.connects += c.connects();
    ph.lat_us.push_back(s * 1e6);
    if (!err.empty() || r.status != 200) {
      ph.fail(describe_failure("GET", target, err, r));
      continue;
    }
    // Check the rows (untimed).
    rapidjson::Document d;
    d.Parse(r.body.data(), r.body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("results") || !d["results"].IsArray() ||
        !d.HasMember("last_seq")) {
      ph.fail("GET " + target + " -> 200 but not a changes response: " + abbreviate(r.body));
      continue;
    }
    const auto& rows = d["results"];
    std::size_t good = 0;
    for (const auto& row : rows.GetArray()) {
      bool ok = row.IsObject() && row.HasMember("id") && row["id"].IsString() && row.HasMember("seq") &&
                row.HasMember("changes") && row["changes"].IsArray() && row["changes"].Size() >= 1;
      if (ok && include_docs) {
        ok = row.HasMember("doc") && row["doc"].IsObject() && row["doc"].HasMember("_id") &&
             row["doc"]["_id"] == row["id"] && row["doc"].HasMember("note");
      }
      if (ok) {
        ++good;
      }
    }
    if (rows.Size() != expected_rows || good != rows.Size()) {
      ph.fail(strprintf("GET %s -> %u rows (%zu well-formed), expected %zu", target.c_str(), rows.Size(), good,
                        expected_rows));
      continue;
    }
    ph.items += good;
    rates.push_back(static_cast<double>(good) / s);
    ph.seconds += s;
    ph.notes.push_back(strprintf("read %u: %zu rows, %.1f MiB in %.3f s = %.0f rows/s", rep + 1, good,
                                 static_cast<double>(r.body.size()) / (1 << 20), s, good / s));
  }
  finish_phase(t, before, ph);
  if (!rates.empty()) {
    std::sort(rates.begin(), rates.end());
    ph.rate = rates[rates.size() / 2];  // the median (upper median for an even count)
  }
}

// Runs `perf record` on `pid` until the returned function is called.
std::function<void()> start_perf(const Options& o, pid_t pid, const std::string& phase) {
  std::string out = o.perf_dir + "/perf-divan-" + phase + ".data";
  std::string log = o.perf_dir + "/perf-divan-" + phase + ".log";
  std::vector<std::string> argv = {"perf", "record", "-e", "cpu-clock"};
  if (o.perf_call_graph.empty()) {
    argv.push_back("-g");
  } else {
    argv.push_back("--call-graph");
    argv.push_back(o.perf_call_graph);
  }
  for (std::string a : {std::string("-p"), std::to_string(pid), std::string("-o"),
                        std::filesystem::absolute(out).string()}) {
    argv.push_back(a);
  }
  pid_t perf = spawn(argv,
                     std::filesystem::current_path().string(), std::filesystem::absolute(log).string());
  ::usleep(700'000);  // let it attach
  progress("  perf recording divan into %s", out.c_str());
  return [perf] { stop_process(perf, SIGINT, 30); };
}

// ---------------------------------------------------------- one server's run

struct ServerSpec {
  std::string name;
  std::vector<std::string> argv;  // without the port, which goes where "{port}" is
  std::string cwd;
  std::string log;
};

bool wait_ready(pid_t pid, int port, std::string* version, std::string* err) {
  auto t0 = Clock::now();
  while (seconds_since(t0) < 60) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
      *err = "exited at start-up (" + describe_wait_status(status) + ")";
      return false;
    }
    HttpConn c(port);
    Response r;
    if (c.request("GET", "/", "", r).empty() && r.status == 200) {
      *version = abbreviate(r.body, 200);
      return true;
    }
    ::usleep(100'000);
  }
  *err = "not answering GET / after 60 s";
  return false;
}

ServerRun run_server(const ServerSpec& spec, const Options& o, const BulkPlan& plan) {
  // The ids the other phases read: the planned ones, or those this server
  // made itself (--server-ids).
  std::vector<std::string> ids = plan.ids;
  ServerRun run;
  run.name = spec.name;
  int port = free_port();
  std::vector<std::string> argv;
  for (const auto& a : spec.argv) argv.push_back(a == "{port}" ? std::to_string(port) : a);
  progress("%s: starting (port %d): %s", spec.name.c_str(), port, [&] {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
  }().c_str());
  pid_t pid = spawn(argv, spec.cwd, spec.log);
  progress("%s: pid %d", spec.name.c_str(), static_cast<int>(pid));
  if (!wait_ready(pid, port, &run.version, &run.start_error)) {
    run.log_tail = tail(read_file(spec.log), 2000);
    progress("%s: %s\n%s", spec.name.c_str(), run.start_error.c_str(), run.log_tail.c_str());
    if (std::find(g_children.begin(), g_children.end(), pid) != g_children.end()) {
      run.stop_how = stop_process(pid, SIGTERM, 10);
    }
    return run;
  }
  run.started = true;
  Target t{port, pid};
  bool failed = false;
  auto maybe_perf = [&](const std::string& phase) -> std::function<void()> {
    if (spec.name == "divan" && (o.perf.count(phase) || phase == "changes_docs")) return start_perf(o, pid, phase);
    return [] {};
  };
  auto report = [&](const char* what, const Phase& ph, const char* unit) {
    progress("  %-28s %10.0f %s, %" PRIu64 " requests in %.2f s, p50 %.2f ms, p99 %.2f ms, %" PRIu64 " errors",
             what, ph.rate, unit, ph.requests, ph.seconds, ph.pct(0.50) / 1000, ph.pct(0.99) / 1000, ph.errors);
    for (const auto& s : ph.samples) progress("    error: %s", s.c_str());
  };
  // A server that exited ends the run (its exit is reported).
  bool exited = false;
  auto gone = [&]() -> bool {
    if (exited) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
      run.stop_how = "exited during the run (" + describe_wait_status(status) + ")";
      progress("%s: %s", spec.name.c_str(), run.stop_how.c_str());
      failed = true;
    }
    return exited;
  };
  auto skip = [&](const char* name) {
    run.phases[name].skipped = true;
  };

  try {
    must(t, "PUT", "/bench", "", {201});
    if (o.want("put")) must(t, "PUT", "/bench_put", "", {201});
  } catch (const std::exception& e) {
    progress("%s: set-up failed: %s", spec.name.c_str(), e.what());
    run.start_error = std::string("set-up failed: ") + e.what();
    failed = true;
  }

  // Bulk insert (also the load for get and changes).
  if (!failed && (o.want("bulk") || o.want("get") || o.want("changes"))) {
    Phase ph;
    auto stop_perf = maybe_perf("bulk");
    if (o.server_ids) ids.clear();
    run_bulk(t, plan, ph, o.server_ids ? &ids : nullptr);
    stop_perf();
    if (o.want("bulk")) {
      report("_bulk_docs", ph, "docs/s");
      run.phases["bulk"] = std::move(ph);
      if (run.phases["bulk"].errors != 0 && !o.keep_going) failed = true;
    } else if (ph.errors != 0) {
      progress("  loading the documents failed:");
      for (const auto& s : ph.samples) progress("    error: %s", s.c_str());
      if (!o.keep_going) failed = true;
    }
  }
  if (o.want("put")) {
    if (gone() || failed || g_interrupted) {
      skip("put");
    } else {
      Phase& ph = run.phases["put"];
      auto stop_perf = maybe_perf("put");
      run_put(t, o, ph);
      stop_perf();
      report("PUT new doc", ph, "req/s");
      if (ph.errors != 0 && !o.keep_going) failed = true;
    }
  }
  if (o.want("get")) {
    if (gone() || failed || g_interrupted) {
      skip("get");
    } else {
      Phase& ph = run.phases["get"];
      auto stop_perf = maybe_perf("get");
      run_get(t, o, ids, ph);
      stop_perf();
      report("GET random doc", ph, "req/s");
      if (ph.errors != 0 && !o.keep_going) failed = true;
    }
  }
  if (o.want("changes")) {
    for (bool docs : {false, true}) {
      const char* key = docs ? "changes_docs" : "changes";
      if (gone() || failed || g_interrupted) {
        skip(key);
        continue;
      }
      Phase& ph = run.phases[key];
      auto stop_perf = o.perf.count("changes") ? maybe_perf(docs ? "changes_docs" : "changes")
                                               : std::function<void()>([] {});
      run_changes(t, o, ids.size(), docs, ph);
      stop_perf();
      report(docs ? "_changes?include_docs=true" : "_changes", ph, "rows/s");
      if (ph.errors != 0 && !o.keep_going) failed = true;
    }
  }

  if (gone()) {
    run.log_tail = tail(read_file(spec.log), 1500);
    return run;
  }
  run.hwm_kib = proc_status_kib(pid, "VmHWM");
  run.rss_kib = proc_status_kib(pid, "VmRSS");
  run.rss_anon_kib = proc_status_kib(pid, "RssAnon");
  run.rss_file_kib = proc_status_kib(pid, "RssFile");
  run.mappings = top_mappings(pid, 6);
  run.complete = !failed && !g_interrupted;
  for (const auto& [name, ph] : run.phases) {
    if (!ph.ran || ph.errors != 0) run.complete = false;
  }
  progress("  peak RSS (VmHWM) %.1f MiB; RSS now %.1f MiB (anon %.1f, file %.1f)", run.hwm_kib / 1024.0,
           run.rss_kib / 1024.0, run.rss_anon_kib / 1024.0, run.rss_file_kib / 1024.0);
  run.stop_how = stop_process(pid, SIGTERM, 30);
  progress("%s: stopped (%s)", spec.name.c_str(), run.stop_how.c_str());
  run.log_tail = tail(read_file(spec.log), 1500);
  return run;
}

// ------------------------------------------------------------------ output

std::string with_commas(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string_view s = buf;
  std::size_t begin = (!s.empty() && s[0] == '-') ? 1 : 0;
  std::size_t int_end = std::min(s.find('.'), s.size());
  std::string out(s.substr(0, begin));
  for (std::size_t i = begin; i < int_end; ++i) {
    if (i != begin && (int_end - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  out.append(s.substr(int_end));
  return out;
}

struct TableRow {
  std::string name;
  std::string phase;  // key in ServerRun::phases, or "rss"
  enum Kind { kRate, kP99, kRss } kind;
  std::string unit;
  std::string target;      // text
  double target_ratio = 0; // 0: none
  bool at_most = false;    // the ratio must be <= target_ratio
};

// A cell: the figure, or why there is none.
std::optional<double> figure(const ServerRun& run, const TableRow& row, std::string* why) {
  if (!run.started) {
    *why = "did not start";
    return std::nullopt;
  }
  if (row.kind == TableRow::kRss) {
    if (run.hwm_kib < 0) {
      *why = "n/a";
      return std::nullopt;
    }
    return run.hwm_kib / 1024.0;
  }
  auto it = run.phases.find(row.phase);
  if (it == run.phases.end()) {
    *why = "not run";
    return std::nullopt;
  }
  const Phase& ph = it->second;
  if (ph.skipped || !ph.ran) {
    *why = "skipped";
    return std::nullopt;
  }
  if (ph.errors != 0) {
    *why = "errors: " + with_commas(static_cast<double>(ph.errors)) + " of " +
           with_commas(static_cast<double>(ph.requests)) + " requests";
    return std::nullopt;
  }
  if (row.kind == TableRow::kP99) return ph.pct(0.99) / 1000.0;
  return ph.rate;
}

std::string format_figure(double v, const TableRow& row) {
  if (row.kind == TableRow::kP99) return strprintf("%.2f %s", v, row.unit.c_str());
  if (row.kind == TableRow::kRss) return strprintf("%.1f %s", v, row.unit.c_str());
  return with_commas(v) + " " + row.unit;
}

void print_table(const Options& o, const ServerRun* divan, const ServerRun* pouch) {
  std::vector<TableRow> rows = {
      {strprintf("`_bulk_docs` insert, %s docs in batches of %zu", with_commas(static_cast<double>(o.docs)).c_str(), o.batch),
       "bulk", TableRow::kRate, "docs/s", "≥ 15×", 15, false},
      {strprintf("PUT new doc, %u clients, %g s", o.put_clients, o.seconds), "put", TableRow::kRate, "req/s", "≥ 5×", 5,
       false},
      {"PUT latency p99", "put", TableRow::kP99, "ms", "–", 0, false},
      {strprintf("GET random doc, %u clients, %g s", o.get_clients, o.seconds), "get", TableRow::kRate, "req/s", "≥ 6×",
       6, false},
      {"GET latency p99", "get", TableRow::kP99, "ms", "–", 0, false},
      {"`_changes`, full read", "changes", TableRow::kRate, "rows/s", "≥ 10×", 10, false},
      {"`_changes?include_docs=true`, full read", "changes_docs", TableRow::kRate, "rows/s", "≥ 10×", 10, false},
      {"Peak RSS (VmHWM) at the end of the run", "rss", TableRow::kRss, "MiB", "≤ 0.1×", 0.1, true},
  };
  std::printf("\n| Benchmark | divan | PouchDB Server | divan ÷ PouchDB | Target | Met |\n");
  std::printf("|---|---:|---:|---:|---|---|\n");
  for (const auto& row : rows) {
    if (row.kind != TableRow::kRss) {
      bool selected = row.phase == "changes_docs" ? o.want("changes") : o.want(row.phase);
      if (!selected) continue;
    }
    std::string cell[2], why[2];
    std::optional<double> v[2];
    const ServerRun* runs[2] = {divan, pouch};
    for (int i = 0; i < 2; ++i) {
      if (runs[i] == nullptr) {
        cell[i] = "not run";
        continue;
      }
      v[i] = figure(*runs[i], row, &why[i]);
      cell[i] = v[i] ? format_figure(*v[i], row) : why[i];
    }
    std::string ratio = "–", met = row.target_ratio > 0 ? "–" : "";
    if (v[0] && v[1] && *v[1] > 0) {
      double r = *v[0] / *v[1];
      ratio = r >= 0.995 ? strprintf("%.2f×", r) : strprintf("%.3f×", r);
      if (row.target_ratio > 0) {
        bool ok = row.at_most ? r <= row.target_ratio : r >= row.target_ratio;
        // RSS compares only complete runs.
        if (row.kind == TableRow::kRss && !(divan->complete && pouch->complete)) {
          met = ok ? "yes (incomplete run)" : "**no** (incomplete run)";
        } else {
          met = ok ? "yes" : "**no**";
        }
      }
    } else if (row.target_ratio > 0 && ((v[0] == std::nullopt && runs[0] != nullptr) ||
                                        (v[1] == std::nullopt && runs[1] != nullptr))) {
      std::string w = v[0] ? why[1] : why[0];
      met = "**no** (" + w.substr(0, w.find(':')) + ")";
    }
    std::printf("| %s | %s | %s | %s | %s | %s |\n", row.name.c_str(), cell[0].c_str(), cell[1].c_str(),
                ratio.c_str(), row.target.c_str(), met.c_str());
  }
}

void print_details(const ServerRun& run) {
  std::printf("\n%s:\n", run.name.c_str());
  if (!run.started) {
    std::printf("- did not start: %s\n", run.start_error.c_str());
    if (!run.log_tail.empty()) std::printf("- its log ends: `%s`\n", abbreviate(run.log_tail, 1500).c_str());
    return;
  }
  std::printf("- GET / answered: `%s`\n", run.version.c_str());
  if (!run.start_error.empty()) std::printf("- %s\n", run.start_error.c_str());
  static const std::pair<const char*, const char*> kNames[] = {
      {"bulk", "_bulk_docs"}, {"put", "PUT new doc"}, {"get", "GET random doc"},
      {"changes", "_changes"}, {"changes_docs", "_changes?include_docs=true"}};
  for (const auto& [key, label] : kNames) {
    auto it = run.phases.find(key);
    if (it == run.phases.end()) continue;
    const Phase& ph = it->second;
    if (ph.skipped) {
      std::printf("- %s: skipped after an earlier phase's errors\n", label);
      continue;
    }
    std::printf("- %s: %s requests, %s errors, %.2f s; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; "
                "%s connections opened; CPU: server %.2f s (%.0f%% of one core), bench %.2f s, other processes %.2f s "
                "(%.0f%% of one core); server RSS after %s\n",
                label, with_commas(static_cast<double>(ph.requests)).c_str(),
                with_commas(static_cast<double>(ph.errors)).c_str(), ph.seconds, ph.pct(0.5) / 1000,
                ph.pct(0.9) / 1000, ph.pct(0.99) / 1000, ph.max() / 1000,
                with_commas(static_cast<double>(ph.connects)).c_str(), ph.server_cpu,
                ph.window > 0 ? 100 * ph.server_cpu / ph.window : 0.0, ph.client_cpu, ph.other_cpu,
                ph.window > 0 ? 100 * ph.other_cpu / ph.window : 0.0,
                ph.rss_after_kib >= 0 ? strprintf("%.1f MiB", ph.rss_after_kib / 1024.0).c_str() : "n/a");
    if (!g_disk_stat.empty()) {
      std::printf("  - written to the disk during the phase (its /sys/dev/block stat, all processes): %.1f MiB\n",
                  ph.disk_bytes / (1 << 20));
    }
    for (const auto& n : ph.notes) std::printf("  - %s\n", n.c_str());
    for (const auto& s : ph.samples) std::printf("  - error: `%s`\n", s.c_str());
  }
  if (run.hwm_kib >= 0) {
    std::printf("- peak RSS (VmHWM) %.1f MiB; at the end RSS %.1f MiB = anon %.1f + file %.1f MiB\n",
                run.hwm_kib / 1024.0, run.rss_kib / 1024.0, run.rss_anon_kib / 1024.0, run.rss_file_kib / 1024.0);
  }
  if (!run.mappings.empty()) {
    std::string m;
    for (const auto& s : run.mappings) m += (m.empty() ? "" : ", ") + s;
    std::printf("- largest resident mappings at the end: %s\n", m.c_str());
  }
  std::printf("- %s%s\n", run.hwm_kib >= 0 ? "stopped with SIGTERM: " : "", run.stop_how.c_str());
  if (run.name == "divan" && !run.log_tail.empty()) {
    std::printf("- its log (--log-level warn) ends: `%s`\n", abbreviate(run.log_tail, 1500).c_str());
  }
}

std::string find_divan(const Options& o) {
  if (!o.divan_path.empty()) return o.divan_path;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) die("cannot read /proc/self/exe; pass --divan PATH");
  return (self.parent_path().parent_path() / "http" / "divan").string();
}

std::string find_pouchdb(const Options& o) {
  if (!o.pouchdb_dir.empty()) return o.pouchdb_dir;
  for (const std::string& base : {std::string(HTTP_BENCH_SOURCE_DIR), std::string("bench"), std::string(".")}) {
    std::filesystem::path p = std::filesystem::path(base) / "node_modules" / "pouchdb-server";
    if (std::filesystem::exists(p / "bin" / "pouchdb-server")) return std::filesystem::absolute(p).string();
  }
  die(std::string("pouchdb-server not found: run `npm ci` in ") + HTTP_BENCH_SOURCE_DIR +
      ", or pass --pouchdb-server-dir DIR (or --divan-only)");
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  std::string divan_bin, pouch_dir;
  if (o.divan) {
    divan_bin = find_divan(o);
    if (::access(divan_bin.c_str(), X_OK) != 0) die("no divan binary at " + divan_bin + "; pass --divan PATH");
  }
  if (o.pouchdb) pouch_dir = find_pouchdb(o);

  std::string tmpl = o.dir + "/http-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) die("mkdtemp " + tmpl + ": " + std::strerror(errno));
  g_root = tmpl;
  struct stat st {};
  if (::stat(g_root.c_str(), &st) == 0) {
    std::string path = strprintf("/sys/dev/block/%u:%u/stat", major(st.st_dev), minor(st.st_dev));
    if (::access(path.c_str(), R_OK) == 0) g_disk_stat = path;
  }
  progress("scratch folder %s", g_root.c_str());

  std::string load_start = read_file("/proc/loadavg");
  progress("preparing %zu documents", o.docs);
  BulkPlan plan = plan_bulk(o);

  std::optional<ServerRun> divan, pouch;
  if (o.divan && !g_interrupted) {
    std::filesystem::create_directories(g_root + "/divan/data");
    ServerSpec spec{"divan",
                    {divan_bin, "serve", "--bind", "127.0.0.1", "--port", "{port}", "--data", g_root + "/divan/data",
                     "--log-level", "warn"},
                    g_root + "/divan",
                    g_root + "/divan/server.log"};
    if (o.auth) {
      spec.argv.insert(spec.argv.begin() + 2, {"--admin", "bench:bench"});
      g_auth_header = "Authorization: Basic YmVuY2g6YmVuY2g=\r\n";  // bench:bench
    } else {
      spec.argv.insert(spec.argv.begin() + 2, "--insecure-admin-party");
    }
    divan = run_server(spec, o, plan);
    g_auth_header.clear();
  }
  if (o.pouchdb && !g_interrupted) {
    std::filesystem::create_directories(g_root + "/pouchdb/db");
    ServerSpec spec{"PouchDB Server",
                    {o.node, pouch_dir + "/bin/pouchdb-server", "--host", "127.0.0.1", "--port", "{port}", "--dir",
                     g_root + "/pouchdb/db"},
                    g_root + "/pouchdb",
                    g_root + "/pouchdb/server.log"};
    spec.argv.insert(spec.argv.end(), o.pouchdb_args.begin(), o.pouchdb_args.end());
    pouch = run_server(spec, o, plan);
  }

  print_table(o, divan ? &*divan : nullptr, pouch ? &*pouch : nullptr);
  // Other work on the machine skews the figures: say where there was some.
  std::string busy;
  for (const ServerRun* r : {divan ? &*divan : nullptr, pouch ? &*pouch : nullptr}) {
    if (r == nullptr) continue;
    for (const auto& [name, ph] : r->phases) {
      if (ph.ran && ph.window > 0 && ph.other_cpu / ph.window > 0.25) {
        busy += strprintf("%s%s %s (%.0f%% of one core)", busy.empty() ? "" : ", ", r->name.c_str(), name.c_str(),
                          100 * ph.other_cpu / ph.window);
      }
    }
  }
  if (!busy.empty()) {
    std::printf("\n**Warning:** other processes were busy during: %s. Those figures are skewed; rerun on a quiet "
                "machine.\n",
                busy.c_str());
  }
  std::printf("\nDetails (latency is per request, measured by the client; CPU is user+system time of all "
              "threads during the phase, \"other processes\" being the rest of the machine's busy time):\n");
  if (divan) print_details(*divan);
  if (pouch) print_details(*pouch);
  std::string load_end = read_file("/proc/loadavg");
  std::printf("\nMachine: %ld CPUs online; /proc/loadavg at the start `%s`, at the end `%s`\n",
              ::sysconf(_SC_NPROCESSORS_ONLN), abbreviate(load_start, 60).c_str(), abbreviate(load_end, 60).c_str());

  bool ok = !g_interrupted;
  for (auto* r : {divan ? &*divan : nullptr, pouch ? &*pouch : nullptr}) {
    if (r != nullptr && !r->complete) ok = false;
  }
  remove_root();
  if (g_interrupted) std::fprintf(stderr, "http_bench: interrupted\n");
  return ok ? 0 : 1;
}
