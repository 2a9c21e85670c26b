// Reading a remote server's answers for HttpPeer: see http/http_peer.h.
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "http/http_peer.h"
#include "http/json.h"

namespace divan::http {
namespace {

// SAX handler that copies every value at a path into compact JSON. It
// keeps a frame per open container (its current member name, or "array"),
// so when a value starts it knows the path to it; a value at the wanted
// path is forwarded, events and all, to a Writer until it closes. Numbers
// arrive as RawNumber (kParseNumbersAsStringsFlag) and are written as raw
// text: RapidJSON's own Writer::RawNumber would quote them.
class ValueCollector : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ValueCollector> {
 public:
  ValueCollector(const JsonPath& path, std::vector<std::string>* out) : path_(path), out_(out) {}

  bool Null() { return scalar([this] { w_.Null(); }); }
  bool Bool(bool b) { return scalar([&] { w_.Bool(b); }); }
  bool RawNumber(const Ch* s, rapidjson::SizeType n, bool) {
    return scalar([&] { w_.RawValue(s, n, rapidjson::kNumberType); });
  }
  bool String(const Ch* s, rapidjson::SizeType n, bool) { return scalar([&] { w_.String(s, n); }); }
  bool Key(const Ch* s, rapidjson::SizeType n, bool) {
    frames_.back().key.assign(s, n);
    if (capturing_) w_.Key(s, n);
    return true;
  }
  bool StartObject() { return open(false); }
  bool EndObject(rapidjson::SizeType) { return close(false); }
  bool StartArray() { return open(true); }
  bool EndArray(rapidjson::SizeType) { return close(true); }

 private:
  struct Frame {
    bool is_array;
    std::string key;  // the member being read (objects)
  };

  bool at_path() const {
    if (frames_.size() != path_.size()) return false;
    for (std::size_t i = 0; i < path_.size(); ++i) {
      if (path_[i] == nullptr ? !frames_[i].is_array : frames_[i].is_array || frames_[i].key != path_[i]) {
        return false;
      }
    }
    return true;
  }
  void begin_value() {
    if (!capturing_ && at_path()) {
      capturing_ = true;
      depth_ = frames_.size();
      buf_.Clear();
      w_.Reset(buf_);
    }
  }
  void end_value() {
    if (capturing_ && frames_.size() == depth_) {
      out_->emplace_back(buf_.GetString(), buf_.GetSize());
      capturing_ = false;
    }
  }
  template <typename F>
  bool scalar(F write) {
    begin_value();
    if (capturing_) write();
    end_value();
    return true;
  }
  bool open(bool is_array) {
    begin_value();
    if (capturing_) is_array ? w_.StartArray() : w_.StartObject();
    frames_.push_back({is_array, {}});
    return true;
  }
  bool close(bool is_array) {
    frames_.pop_back();
    if (capturing_) is_array ? w_.EndArray() : w_.EndObject();
    end_value();
    return true;
  }

  const JsonPath& path_;
  std::vector<std::string>* out_;
  std::vector<Frame> frames_;
  bool capturing_ = false;
  std::size_t depth_ = 0;
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

// The Status of a {"error":..., "reason":...} entry.
Status entry_status(const rapidjson::Value& e) {
  std::string error = get_string(e, "error").value_or("unknown_error");
  std::string reason = get_string(e, "reason").value_or(error);
  if (error == "not_found") return Status::not_found(std::move(reason));
  return Status(code_for_name(error, ErrorCode::kBadRequest), std::move(reason));
}

// The revisions a document is or descends from, by its _rev and _revisions.
std::vector<std::string> history_of(const rapidjson::Value& doc) {
  std::vector<std::string> out;
  if (auto rev = get_string(doc, "_rev")) out.push_back(std::move(*rev));
  const rapidjson::Value* revisions = get_member(doc, "_revisions");
  const rapidjson::Value* start = revisions ? get_member(*revisions, "start") : nullptr;
  std::vector<std::string> ids;
  if (start != nullptr && start->IsUint64() && get_strings(get_member(*revisions, "ids"), &ids)) {
    std::uint64_t pos = start->GetUint64();
    for (const std::string& id : ids) {
      if (pos == 0) break;
      out.push_back(std::to_string(pos--) + "-" + id);
    }
  }
  return out;
}

void add_doc(BulkGetResult& r, const std::string& doc) {
  if (std::find(r.docs.begin(), r.docs.end(), doc) == r.docs.end()) r.docs.push_back(doc);
}

}  // namespace

const rapidjson::Value* get_member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> get_string(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = get_member(v, name);
  if (m == nullptr || !m->IsString()) return std::nullopt;
  return std::string(m->GetString(), m->GetStringLength());
}

std::optional<std::string> get_json_text(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = get_member(v, name);
  if (m == nullptr || !(m->IsNumber() || m->IsString())) return std::nullopt;
  return to_json(*m);
}

bool get_strings(const rapidjson::Value* v, std::vector<std::string>* out) {
  if (v == nullptr || !v->IsArray()) return false;
  for (const auto& s : v->GetArray()) {
    if (!s.IsString()) return false;
    out->emplace_back(s.GetString(), s.GetStringLength());
  }
  return true;
}

ErrorCode code_for_name(std::string_view name, ErrorCode otherwise) {
  for (int c = static_cast<int>(ErrorCode::kNotFound); c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    if (error_name(static_cast<ErrorCode>(c)) == name) return static_cast<ErrorCode>(c);
  }
  return otherwise;
}

Result<std::vector<std::string>> compact_values_at(std::string_view json, const JsonPath& path) {
  std::vector<std::string> out;
  rapidjson::MemoryStream stream(json.data(), json.size());
  ValueCollector collector(path, &out);
  rapidjson::Reader reader;
  // Iterative: a deeply nested answer costs heap, not stack.
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  if (reader.Parse<kFlags>(stream, collector).IsError()) return Status::bad_request("invalid JSON");
  return out;
}

Result<PeerChanges> parse_changes(std::string_view body) {
  const Status bad = Status::bad_request("unexpected _changes answer");
  auto d = parse_json(body);
  if (!d.is_ok()) return bad;
  const rapidjson::Value* results = get_member(*d, "results");
  std::optional<std::string> last_seq = get_json_text(*d, "last_seq");
  if (results == nullptr || !results->IsArray() || !last_seq) return bad;
  PeerChanges out;
  out.last_seq = std::move(*last_seq);
  if (const rapidjson::Value* pending = get_member(*d, "pending"); pending && pending->IsUint64()) {
    out.pending = pending->GetUint64();
  }
  for (const auto& row : results->GetArray()) {
    std::optional<std::string> seq = get_json_text(row, "seq");
    std::optional<std::string> id = get_string(row, "id");
    const rapidjson::Value* changes = get_member(row, "changes");
    if (!seq || !id || changes == nullptr || !changes->IsArray()) return bad;
    if (id->empty()) continue;  // as CouchDB's replicator does
    PeerChange change{std::move(*seq), std::move(*id), {}, false};
    for (const auto& c : changes->GetArray()) {
      std::optional<std::string> rev = get_string(c, "rev");
      if (!rev) return bad;
      change.revs.push_back(std::move(*rev));
    }
    const rapidjson::Value* deleted = get_member(row, "deleted");
    change.deleted = deleted != nullptr && deleted->IsBool() && deleted->GetBool();
    out.rows.push_back(std::move(change));
  }
  return out;
}

Result<std::vector<RevsDiffEntry>> parse_revs_diff(std::string_view body) {
  const Status bad = Status::bad_request("unexpected _revs_diff answer");
  auto d = parse_json(body);
  if (!d.is_ok() || !d->IsObject()) return bad;
  std::vector<RevsDiffEntry> out;
  for (const auto& m : d->GetObject()) {
    RevsDiffEntry e;
    e.id.assign(m.name.GetString(), m.name.GetStringLength());
    const rapidjson::Value* ancestors = get_member(m.value, "possible_ancestors");
    if (!get_strings(get_member(m.value, "missing"), &e.missing) ||
        (ancestors != nullptr && !get_strings(ancestors, &e.possible_ancestors))) {
      return bad;
    }
    if (!e.missing.empty()) out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<BulkGetResult>> parse_bulk_get(std::string_view body,
                                                  const std::vector<BulkGetRequest>& request) {
  const Status bad = Status::bad_request("unexpected _bulk_get answer");
  auto d = parse_json(body);
  auto docs = compact_values_at(body, {"results", nullptr, "docs", nullptr, "ok"});
  if (!d.is_ok() || !docs.is_ok()) return bad;
  const rapidjson::Value* results = get_member(*d, "results");
  // CouchDB answers each request in order, one result each.
  if (results == nullptr || !results->IsArray() || results->Size() != request.size()) return bad;
  std::vector<BulkGetResult> out;
  std::size_t next_doc = 0;
  for (rapidjson::SizeType i = 0; i < results->Size(); ++i) {
    const rapidjson::Value& result = (*results)[i];
    const BulkGetRequest& q = request[i];
    std::optional<std::string> id = get_string(result, "id");
    const rapidjson::Value* entries = get_member(result, "docs");
    if ((id && *id != q.id) || entries == nullptr || !entries->IsArray()) return bad;
    BulkGetResult r{q.id, q.rev, {}, Status::ok()};
    Status error = Status::not_found("missing");
    for (const auto& e : entries->GetArray()) {
      if (const rapidjson::Value* ok = get_member(e, "ok")) {
        if (!ok->IsObject() || next_doc >= docs->size()) return bad;
        add_doc(r, (*docs)[next_doc++]);
      } else if (const rapidjson::Value* err = get_member(e, "error")) {
        error = entry_status(*err);
      } else {
        return bad;
      }
    }
    if (r.docs.empty()) r.error = std::move(error);
    out.push_back(std::move(r));
  }
  // Every document cut out was placed: no "ok" hid where the DOM did not look.
  if (next_doc != docs->size()) return bad;
  return out;
}

bool parse_open_revs(std::string_view body, const std::vector<BulkGetRequest>& request,
                     const std::vector<std::size_t>& chunk, std::vector<BulkGetResult>* out) {
  auto d = parse_json(body);
  auto docs = compact_values_at(body, {nullptr, "ok"});
  if (!d.is_ok() || !docs.is_ok() || !d->IsArray()) return false;
  std::size_t next_doc = 0;
  for (const auto& e : d->GetArray()) {
    if (const rapidjson::Value* ok = get_member(e, "ok")) {
      if (!ok->IsObject() || next_doc >= docs->size()) return false;
      const std::string& doc = (*docs)[next_doc++];
      std::vector<std::string> history = history_of(*ok);
      bool placed = false;
      for (std::size_t i : chunk) {
        if (std::find(history.begin(), history.end(), request[i].rev) != history.end()) {
          add_doc((*out)[i], doc);
          placed = true;
        }
      }
      // A server that sent no _revisions: with one rev asked, it is for that one.
      if (!placed && chunk.size() == 1) add_doc((*out)[chunk[0]], doc);
    } else if (!get_string(e, "missing")) {
      return false;
    }
  }
  if (next_doc != docs->size()) return false;
  for (std::size_t i : chunk) {
    if ((*out)[i].docs.empty()) (*out)[i].error = Status::not_found("missing");
  }
  return true;
}

}  // namespace divan::http
