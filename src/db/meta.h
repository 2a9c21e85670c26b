// The `meta` sub-database: names of its entries and reading them.
#ifndef DIVAN_DB_META_H_
#define DIVAN_DB_META_H_

#include <cstdint>
#include <string>

#include "db/records.h"
#include "divan/status.h"
#include "storage/env.h"

namespace divan::db::meta {

inline constexpr std::uint64_t kFormatVersion = 1;

inline constexpr const char* kFormat = "format";
inline constexpr const char* kRevsLimit = "revs_limit";
inline constexpr const char* kStartTime = "instance_start_time";  // decimal text
inline constexpr const char* kUpdateSeq = "update_seq";
inline constexpr const char* kDocCount = "doc_count";
inline constexpr const char* kDocDelCount = "doc_del_count";
inline constexpr const char* kExternal = "external_size";
inline constexpr const char* kSecurity = "security";  // JSON text

// Reads the integer entry `key` through a ReadTxn or WriteTxn; `absent`
// when it is not set. Errors: corruption, storage errors.
template <typename Txn>
Result<std::uint64_t> read_u64(const Txn& txn, storage::Dbi dbi, const char* key,
                               std::uint64_t absent = 0) {
  auto v = txn.get(dbi, key);
  if (!v.is_ok()) return v.status();
  if (!v->has_value()) return absent;
  std::uint64_t out = 0;
  if (!decode_u64(**v, &out)) return Status::corruption(std::string("bad meta value ") + key);
  return out;
}

}  // namespace divan::db::meta

#endif  // DIVAN_DB_META_H_
