// The documents both benchmarks write: the same 200-byte JSON object in
// core_bench (embedded) and http_bench (over HTTP).
#ifndef DIVAN_BENCH_BENCH_DOCS_H_
#define DIVAN_BENCH_BENCH_DOCS_H_

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

namespace divan::bench {

constexpr std::size_t kBodySize = 200;

// A 200-byte JSON object (the document body, without "_id"/"_rev"): a few
// strings and numbers, every field fixed-width (numbers without leading
// zeros or spaces, which divan would not store as sent) so the size never
// varies.
// `n` differs between updates of one document.
inline std::string make_body(std::uint64_t i, std::uint64_t n) {
  char head[256];
  int len = std::snprintf(head, sizeof head,
                          "{\"type\":\"order\",\"customer\":\"cust-%07" PRIu64
                          "\",\"email\":\"user%07" PRIu64
                          "@example.com\",\"status\":\"shipped\",\"total\":%" PRIu64
                          ".%02" PRIu64 ",\"items\":%" PRIu64 ",\"n\":%" PRIu64 ",\"note\":\"",
                          i % 10'000'000, i % 10'000'000, 10'000 + (i * 7919) % 90'000, i % 100,
                          10 + i % 90, 1'000'000'000 + n % 9'000'000'000);
  std::string body(head, static_cast<std::size_t>(len));
  static const char kText[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod ";
  const std::size_t tail = 2;  // "}
  while (body.size() + tail < kBodySize) body += kText[(body.size() + i) % (sizeof kText - 1)];
  body += "\"}";
  return body;
}

}  // namespace divan::bench

#endif  // DIVAN_BENCH_BENCH_DOCS_H_
