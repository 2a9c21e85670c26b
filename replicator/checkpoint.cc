// Replication ids and checkpoint documents (see checkpoint.h).

#include "replicator/checkpoint.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>

namespace divan::replicator {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// CouchDB keeps this many history entries in a checkpoint.
constexpr std::size_t kMaxHistory = 50;

std::string string_member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// A sequence member as JSON text, from the first of `names` present.
std::string seq_member(const rapidjson::Value& obj, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = obj.FindMember(name);
    if (it != obj.MemberEnd() && !it->value.IsNull()) return to_json(it->value);
  }
  return {};
}

void raw(Writer& w, std::string_view json) {
  w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

}  // namespace

std::string replication_id(const std::string& replicator_id, const std::string& source_id,
                           const std::string& target_id, const std::vector<std::string>& doc_ids,
                           const std::optional<std::string>& since_seq) {
  // A JSON array of the parts: unambiguous whatever the strings hold.
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartArray();
  w.String("divan-replication-1");
  w.String(replicator_id);
  w.String(source_id);
  w.String(target_id);
  w.StartArray();
  for (const auto& id : doc_ids) w.String(id);
  w.EndArray();
  if (since_seq) w.String(*since_seq);
  w.EndArray();

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(sb.GetString(), sb.GetSize(), md, &len, EVP_md5(), nullptr);
  return to_hex(md, len);
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

Result<ReplicationLog> parse_log(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) {
    return Status::bad_request("the checkpoint document is not a JSON object");
  }
  ReplicationLog log;
  log.rev = string_member(d, "_rev");
  log.session_id = string_member(d, "session_id");
  log.source_last_seq = seq_member(d, {"source_last_seq", "last_seq"});
  auto h = d.FindMember("history");
  if (h != d.MemberEnd() && h->value.IsArray()) {
    for (const auto& e : h->value.GetArray()) {
      if (!e.IsObject()) continue;
      HistoryEntry entry;
      entry.session_id = string_member(e, "session_id");
      entry.recorded_seq = seq_member(e, {"recorded_seq", "last_seq"});
      entry.json = to_json(e);
      if (entry.session_id.empty() || entry.recorded_seq.empty()) continue;
      log.history.push_back(std::move(entry));
    }
  }
  return log;
}

std::optional<std::string> choose_start_seq(const ReplicationLog& source,
                                            const ReplicationLog& target) {
  // The same session wrote both: its last checkpoint holds on both sides.
  if (!source.session_id.empty() && source.session_id == target.session_id &&
      !source.source_last_seq.empty()) {
    return source.source_last_seq;
  }
  // Otherwise walk both histories, newest first, for a session both sides
  // recorded (couch_replicator_utils:compare_rep_history).
  auto in = [](const std::vector<HistoryEntry>& h, std::size_t from, const std::string& sid) {
    for (std::size_t i = from; i < h.size(); ++i) {
      if (h[i].session_id == sid) return true;
    }
    return false;
  };
  const auto& s = source.history;
  const auto& t = target.history;
  for (std::size_t i = 0; i < s.size() && i < t.size(); ++i) {
    if (in(t, i, s[i].session_id)) return s[i].recorded_seq;
    if (in(s, i + 1, t[i].session_id)) return t[i].recorded_seq;
  }
  return std::nullopt;
}

std::string rfc1123_date(std::int64_t micros) {
  std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string build_log(const SessionRecord& session, const std::vector<HistoryEntry>& previous) {
  const ReplicationStats& st = *session.stats;
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("session_id");
  w.String(session.session_id);
  w.Key("source_last_seq");
  raw(w, session.recorded_seq);
  w.Key("replication_id_version");
  w.Int(4);
  w.Key("history");
  w.StartArray();
  w.StartObject();
  w.Key("session_id");
  w.String(session.session_id);
  w.Key("start_time");
  w.String(session.start_time);
  w.Key("end_time");
  w.String(session.end_time);
  w.Key("start_last_seq");
  raw(w, st.start_last_seq);
  w.Key("end_last_seq");
  raw(w, session.recorded_seq);
  w.Key("recorded_seq");
  raw(w, session.recorded_seq);
  w.Key("missing_checked");
  w.Uint64(st.missing_checked);
  w.Key("missing_found");
  w.Uint64(st.missing_found);
  w.Key("docs_read");
  w.Uint64(st.docs_read);
  w.Key("docs_written");
  w.Uint64(st.docs_written);
  w.Key("doc_write_failures");
  w.Uint64(st.doc_write_failures);
  w.Key("bulk_get_docs");
  w.Uint64(st.docs_read);
  w.EndObject();
  std::size_t n = 1;
  for (const auto& e : previous) {
    if (n >= kMaxHistory) break;
    if (e.session_id == session.session_id) continue;
    raw(w, e.json);
    ++n;
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string with_id_and_rev(std::string_view json, std::string_view id, std::string_view rev) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("_id");
  w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  if (!rev.empty()) {
    w.Key("_rev");
    w.String(rev.data(), static_cast<rapidjson::SizeType>(rev.size()));
  }
  w.EndObject();
  std::string out(sb.GetString(), sb.GetSize() - 1);  // without '}'
  std::string_view members = json;
  if (members.size() >= 2 && members.front() == '{') members = members.substr(1, members.size() - 2);
  else members = {};
  if (!members.empty()) {
    out += ',';
    out.append(members);
  }
  out += '}';
  return out;
}

}  // namespace divan::replicator
