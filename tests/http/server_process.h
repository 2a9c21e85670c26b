// ServerProcess: the real `divan` binary, started on a free loopback port
// with a fresh data folder, for integration tests. It is stopped with
// SIGTERM (SIGKILL if it does not stop within 20 s) when the object dies.
//
// The binary's path comes from $DIVAN_BIN (meson sets it). A server started
// with --tls-cert/--tls-key speaks HTTPS (tls()); its requests then go over
// TLS, verified against the CA file given to set_ca_file().
#ifndef DIVAN_TESTS_HTTP_SERVER_PROCESS_H_
#define DIVAN_TESTS_HTTP_SERVER_PROCESS_H_

#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace divan::testing {

struct Resp {
  int status = 0;  // 0: no response (connection failed)
  std::string body;
  httplib::Headers headers;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  // The body parsed as JSON (REQUIREs it parses).
  rapidjson::Document json() const {
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    REQUIRE_MESSAGE(!d.HasParseError(), std::string("not JSON: " + body));
    return d;
  }
};

// A JSON string value as std::string (REQUIREs it is a string).
inline std::string str(const rapidjson::Value& v) {
  REQUIRE(v.IsString());
  return std::string(v.GetString(), v.GetStringLength());
}

// The "error" and "reason" of an error answer.
inline std::string error_of(const Resp& r) { return str(r.json()["error"]); }
inline std::string reason_of(const Resp& r) { return str(r.json()["reason"]); }

class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra_args = {}, const std::string& data = "") {
    const char* bin = std::getenv("DIVAN_BIN");
    REQUIRE_MESSAGE(bin != nullptr, "DIVAN_BIN is not set");
    data_ = data.empty() ? tmp_.path() + "/data" : data;
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    // Servers in tests run as an admin party unless a test secures them
    // (secure_args() below).
    std::vector<std::string> args = {bin, "serve", "--bind", "127.0.0.1", "--port", "0",
                                     "--data", data_};
    if (!names_admin(extra_args)) args.push_back("--insecure-admin-party");
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    err_fd_ = fds[0];
    reader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = read(err_fd_, buf, sizeof buf)) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        log_.append(buf, static_cast<std::size_t>(n));
      }
    });
    // Wait for "listening on http://127.0.0.1:PORT" (or https://).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const std::string scheme : {"http", "https"}) {
          const std::string marker = "listening on " + scheme + "://127.0.0.1:";
          auto at = log_.find(marker);
          if (at == std::string::npos) continue;
          auto end = log_.find('\n', at);
          if (end != std::string::npos) port_ = std::atoi(log_.c_str() + at + marker.size());
          tls_ = scheme == "https";
        }
      }
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE_MESSAGE(port_ > 0, std::string("divan did not start: " + log()));
  }

  ~ServerProcess() { stop(); }

  // Whether `args` give the server an admin: --admin, a --config file
  // with an [admins] section, or DIVAN_USER in the environment.
  static bool names_admin(const std::vector<std::string>& args) {
    if (const char* user = std::getenv("DIVAN_USER"); user && *user) return true;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--admin") return true;
      if (args[i] == "--config" && i + 1 < args.size()) {
        std::ifstream in(args[i + 1]);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.find("[admins]") != std::string::npos) return true;
      }
    }
    return false;
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  // The server's process id (0 once stopped).
  pid_t pid() const { return pid_; }
  // Whether the server said it listens on https://.
  bool tls() const { return tls_; }
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  std::string origin() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  // The PEM file of the CA that client() and request() trust for a TLS
  // server (its certificate and host name are verified).
  void set_ca_file(const std::string& ca_file) { ca_file_ = ca_file; }
  const std::string& data_dir() const { return data_; }
  std::string log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  // Stops the server (SIGTERM) and returns its exit status, or -1 if it
  // had to be killed.
  int stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    pid_t r = 0;
    while ((r = waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (r == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      exit_status_ = -1;
    } else {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    pid_ = 0;
    if (reader_.joinable()) reader_.join();
    close(err_fd_);
    return exit_status_;
  }

  // Kills the server at once (SIGKILL), as a crash would.
  void kill_now() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    exit_status_ = -1;
    if (reader_.joinable()) reader_.join();
    close(err_fd_);
  }

  httplib::Client client() const {
    httplib::Client c(origin());
    if (tls_) {
      c.enable_server_certificate_verification(true);
      c.set_ca_cert_path(ca_file_);
    }
    c.set_read_timeout(30, 0);
    c.set_keep_alive(true);
    return c;
  }

  Resp request(const std::string& method, const std::string& path, const std::string& body = "",
               const std::string& content_type = "application/json",
               const httplib::Headers& headers = {}) {
    httplib::Client c = client();
    httplib::Result r(nullptr, httplib::Error::Unknown);
    if (method == "GET") r = c.Get(path.c_str(), headers);
    else if (method == "HEAD") r = c.Head(path.c_str(), headers);
    else if (method == "DELETE") r = c.Delete(path.c_str(), headers, body, content_type.c_str());
    else if (method == "PUT") r = c.Put(path.c_str(), headers, body, content_type.c_str());
    else if (method == "POST") r = c.Post(path.c_str(), headers, body, content_type.c_str());
    else if (method == "OPTIONS") r = c.Options(path.c_str(), headers);
    else if (method == "PATCH") r = c.Patch(path.c_str(), headers, body, content_type.c_str());
    else FAIL("unknown method " << method);
    Resp out;
    if (r) {
      out.status = r->status;
      out.body = r->body;
      out.headers = r->headers;
    }
    return out;
  }
  Resp get(const std::string& path, const httplib::Headers& h = {}) { return request("GET", path, "", "", h); }
  Resp put(const std::string& path, const std::string& body = "") { return request("PUT", path, body); }
  Resp post(const std::string& path, const std::string& body) { return request("POST", path, body); }
  Resp del(const std::string& path) { return request("DELETE", path); }

 private:
  TempDir tmp_;
  std::string data_;
  pid_t pid_ = 0;
  int err_fd_ = -1;
  int port_ = 0;
  bool tls_ = false;
  std::string ca_file_;
  int exit_status_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::string log_;
};

}  // namespace divan::testing

#endif  // DIVAN_TESTS_HTTP_SERVER_PROCESS_H_
