// The system clock and random source behind Clock::system() and
// RandomSource::system().
#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "divan/options.h"

namespace divan {
namespace {

class SystemClock final : public Clock {
 public:
  std::int64_t now_micros() override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }
};

class SystemRandom final : public RandomSource {
 public:
  void fill(void* buf, std::size_t len) override {
    auto* p = static_cast<unsigned char*>(buf);
    while (len > 0) {
      ssize_t n = getrandom(p, len, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        // getrandom only fails like this on kernels older than 3.17; there
        // is no safe fallback for ids that must not collide.
        std::abort();
      }
      p += n;
      len -= static_cast<std::size_t>(n);
    }
  }
};

}  // namespace

Clock* Clock::system() {
  static SystemClock clock;
  return &clock;
}

RandomSource* RandomSource::system() {
  static SystemRandom random;
  return &random;
}

}  // namespace divan
