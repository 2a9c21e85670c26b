// Helpers shared by divan's tests.
#ifndef DIVAN_TESTS_TEST_UTIL_H_
#define DIVAN_TESTS_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace divan::testing {

// A fresh, empty folder under $TMPDIR (or /tmp), removed with everything in
// it when the TempDir goes out of scope.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/divan-test-XXXXXX";
    if (char* p = mkdtemp(tmpl.data())) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// This process's resident file-backed memory in KiB (RssFile of
// /proc/self/status), or -1 if it cannot be read.
inline long rss_file_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssFile:", 0) == 0) return std::stol(line.substr(8));
  }
  return -1;
}

}  // namespace divan::testing

#endif  // DIVAN_TESTS_TEST_UTIL_H_
