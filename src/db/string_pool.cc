#include "db/string_pool.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace divan::db {

void StringPool::take(std::size_t n, std::vector<std::string>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::size_t k = std::min(n, kept_.size());
  const auto first = kept_.end() - static_cast<std::ptrdiff_t>(k);
  out->insert(out->end(), std::make_move_iterator(first), std::make_move_iterator(kept_.end()));
  kept_.erase(first, kept_.end());
}

void StringPool::give(std::vector<std::string>* strings) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::string& s : *strings) {
      if (kept_.size() == max_kept_) break;
      if (s.capacity() > max_capacity_) continue;
      s.clear();
      kept_.push_back(std::move(s));
    }
  }
  strings->clear();  // frees what was not kept, outside the lock
}

std::size_t StringPool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kept_.size();
}

std::string take_spare(StringPool& pool, std::vector<std::string>* spares, std::size_t refill) {
  if (spares->empty()) pool.take(refill, spares);
  if (spares->empty()) return std::string();
  std::string s = std::move(spares->back());
  spares->pop_back();
  return s;
}

}  // namespace divan::db
