#include "db/uuid.h"

#include <cstdio>

namespace divan::db {

std::uint32_t SequentialUuids::random_u32() {
  std::uint32_t v = 0;
  random_->fill(&v, sizeof v);
  return v;
}

void SequentialUuids::new_prefix() {
  unsigned char bytes[13];
  random_->fill(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  prefix_.clear();
  for (unsigned char b : bytes) {
    prefix_ += kHex[b >> 4];
    prefix_ += kHex[b & 15];
  }
  counter_ = random_u32() & 0xFFF;
}

std::string SequentialUuids::next() {
  std::lock_guard<std::mutex> lock(mu_);
  // CouchDB's couch_uuids: step by 1..0xFFE; a new prefix when the 6-digit
  // suffix would pass 0xFFF000.
  counter_ += 1 + random_u32() % 0xFFE;
  if (prefix_.empty() || counter_ >= 0xFFF000) new_prefix();
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", counter_ & 0xFFFFFF);
  return prefix_ + suffix;
}

}  // namespace divan::db
