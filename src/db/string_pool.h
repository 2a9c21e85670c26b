// Strings kept for their memory between large bulk writes.
//
// A `_bulk_docs` array of a thousand documents allocates a body and a
// record buffer for each, and frees them all once it has committed. With
// glibc's allocator, allocating and freeing thousands of blocks at a time
// cost about a sixth of the parsing thread's time (perf, in-order bulk
// load), and the blocks an array freed made the next array's first
// allocations slow. Kept here, the blocks of one array serve the next.
//
// A kept string is empty but keeps its capacity. The pool keeps at most
// `max_kept` strings of at most `max_capacity` bytes each, so the memory
// it holds is bounded by their product.
//
// Thread-safety: every method is thread-safe.
#ifndef DIVAN_DB_STRING_POOL_H_
#define DIVAN_DB_STRING_POOL_H_

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace divan::db {

class StringPool {
 public:
  StringPool(std::size_t max_kept, std::size_t max_capacity)
      : max_kept_(max_kept), max_capacity_(max_capacity) {}
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;

  // Moves up to `n` kept strings to the end of `out`.
  void take(std::size_t n, std::vector<std::string>* out);

  // Keeps what it has room for of `strings`, cleared, and frees the rest;
  // `strings` is left empty.
  void give(std::vector<std::string>* strings);

  // How many strings are kept (for tests).
  std::size_t size() const;

 private:
  const std::size_t max_kept_;
  const std::size_t max_capacity_;
  mutable std::mutex mu_;
  std::vector<std::string> kept_;  // guarded by mu_
};

// Takes a string with memory from `spares`, refilled from `pool` in blocks
// of `refill` when it runs dry; an empty string when the pool has none.
std::string take_spare(StringPool& pool, std::vector<std::string>* spares, std::size_t refill);

}  // namespace divan::db

#endif  // DIVAN_DB_STRING_POOL_H_
