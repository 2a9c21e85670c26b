// Document::to_json: CouchDB's JSON for a document revision.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "divan/document.h"

#include "rev/rev_id.h"

namespace divan {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void key(Writer& w, const char* k) { w.Key(k); }
void string(Writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void string_array(Writer& w, const std::vector<std::string>& v) {
  w.StartArray();
  for (const auto& s : v) string(w, s);
  w.EndArray();
}

}  // namespace

std::string Document::to_json() const {
  // The stored body is already canonical JSON; splice the "_" members around
  // its members rather than parsing it again.
  rapidjson::StringBuffer head;
  Writer w(head);
  w.StartObject();
  key(w, "_id");
  string(w, id);
  key(w, "_rev");
  string(w, rev);
  // `head` now holds {"_id":..,"_rev":.. without the closing brace.
  std::string out(head.GetString(), head.GetSize());
  std::string_view members(body);
  if (members.size() >= 2 && members.front() == '{') members = members.substr(1, members.size() - 2);
  else members = {};
  if (!members.empty()) {
    out += ',';
    out.append(members);
  }

  rapidjson::StringBuffer tail;
  Writer t(tail);
  // Write the trailing members inside a throwaway object so the writer
  // places the commas; then drop its braces.
  t.StartObject();
  if (deleted) {
    key(t, "_deleted");
    t.Bool(true);
  }
  if (revisions) {
    key(t, "_revisions");
    t.StartObject();
    key(t, "start");
    t.Uint64(revisions->start);
    key(t, "ids");
    string_array(t, revisions->ids);
    t.EndObject();
  }
  if (!revs_info.empty()) {
    key(t, "_revs_info");
    t.StartArray();
    for (const auto& ri : revs_info) {
      t.StartObject();
      key(t, "rev");
      string(t, ri.rev);
      key(t, "status");
      string(t, ri.status);
      t.EndObject();
    }
    t.EndArray();
  }
  if (!conflicts.empty()) {
    key(t, "_conflicts");
    string_array(t, conflicts);
  }
  if (!deleted_conflicts.empty()) {
    key(t, "_deleted_conflicts");
    string_array(t, deleted_conflicts);
  }
  if (local_seq) {
    key(t, "_local_seq");
    t.Uint64(*local_seq);
  }
  t.EndObject();
  std::string_view extra(tail.GetString(), tail.GetSize());
  extra = extra.substr(1, extra.size() - 2);
  if (!extra.empty()) {
    out += ',';
    out.append(extra);
  }
  out += '}';
  return out;
}

Status validate_rev(std::string_view rev) { return rev::RevId::parse(rev).status(); }

}  // namespace divan
