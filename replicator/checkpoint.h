// Replication ids and checkpoint documents, as CouchDB's replicator
// (couch_replicator_ids, couch_replicator_scheduler_job) shapes them. Pure
// functions over JSON text; no I/O.

#ifndef DIVAN_REPLICATOR_CHECKPOINT_H_
#define DIVAN_REPLICATOR_CHECKPOINT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "divan/replicator.h"
#include "divan/status.h"

namespace divan::replicator {

// The base replication id: 32 hex digits of MD5 over everything that
// makes two replications different (who runs it, both ends, the filter,
// since_seq). The same inputs give the same id on every run.
std::string replication_id(const std::string& replicator_id, const std::string& source_id,
                           const std::string& target_id, const std::vector<std::string>& doc_ids,
                           const std::optional<std::string>& since_seq);

// One entry of a checkpoint's history, as far as choosing a start needs it.
struct HistoryEntry {
  std::string session_id;
  std::string recorded_seq;  // JSON text
  std::string json;          // the whole entry, kept verbatim when rewritten
};

// A checkpoint document `_local/<replication id>` read from one side.
struct ReplicationLog {
  std::string rev;  // its `_rev`, for the next write
  std::string session_id;
  std::string source_last_seq;  // JSON text
  std::vector<HistoryEntry> history;  // newest first
};

// Parses a checkpoint document. Accepts CouchDB's shape (source_last_seq,
// history[].recorded_seq) and PouchDB's (last_seq, history[].last_seq).
// Errors: bad_request when it is not a JSON object.
Result<ReplicationLog> parse_log(std::string_view json);

// CouchDB's compare_replication_logs: the sequence to start from, or
// nullopt when the two logs share no session (start from the beginning).
std::optional<std::string> choose_start_seq(const ReplicationLog& source,
                                            const ReplicationLog& target);

// A JSON value as compact JSON text (sequences are kept this way).
std::string to_json(const rapidjson::Value& v);

// Lowercase hex of `n` bytes (replication ids, session ids).
std::string to_hex(const unsigned char* data, std::size_t n);

// RFC 1123 date of a Unix time in microseconds: "Tue, 05 Mar 2024 10:00:00 GMT".
std::string rfc1123_date(std::int64_t micros);

// What a run has done, for its history entry.
struct SessionRecord {
  std::string session_id;
  std::string start_time;  // RFC 1123
  std::string end_time;
  const ReplicationStats* stats = nullptr;
  std::string recorded_seq;  // JSON text
};

// The checkpoint body (without _id/_rev): CouchDB's shape, this session's
// entry first, then `previous` (minus any entry of the same session), at
// most 50 entries.
std::string build_log(const SessionRecord& session, const std::vector<HistoryEntry>& previous);

// `json` (an object) with `_id` and, if not empty, `_rev` put first.
std::string with_id_and_rev(std::string_view json, std::string_view id, std::string_view rev);

}  // namespace divan::replicator

#endif  // DIVAN_REPLICATOR_CHECKPOINT_H_
