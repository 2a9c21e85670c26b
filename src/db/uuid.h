// Generated document ids, made the way CouchDB's default "sequential" uuid
// algorithm makes them: 26 random hex digits shared by a run of ids, then 6
// hex digits that grow by a random step. Ids made close in time sort close
// together, which keeps B-tree inserts local.
//
// Thread-safety: next() is thread-safe.
#ifndef DIVAN_DB_UUID_H_
#define DIVAN_DB_UUID_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "divan/options.h"

namespace divan::db {

class SequentialUuids {
 public:
  explicit SequentialUuids(RandomSource* random) : random_(random) {}
  std::string next();  // 32 lowercase hex digits

 private:
  void new_prefix();
  std::uint32_t random_u32();

  RandomSource* random_;
  std::mutex mu_;
  std::string prefix_;  // 26 hex digits
  std::uint32_t counter_ = 0;
};

}  // namespace divan::db

#endif  // DIVAN_DB_UUID_H_
