// Bulk endpoints: POST /{db}/_bulk_docs, _bulk_get, _revs_diff, and
// GET/POST /{db}/_all_docs, _design_docs, _local_docs
// (couchdb-semantics.md §3).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/options.h"
#include "http/authz.h"
#include "http/bulk_body.h"
#include "http/handlers.h"
#include "http/system_docs.h"

namespace divan::http {
namespace {

HttpError query_parse_error(std::string reason) {
  return {400, "query_parse_error", std::move(reason), {}};
}

// A document id for a document sent without one: 32 random hex digits, the
// form of CouchDB's generated ids.
std::string random_doc_id() {
  unsigned char bytes[16];
  RandomSource::system()->fill(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}


// ---------------------------------------------------------------------------
// _bulk_docs

// "start-ids[0]" of a `_revisions` object, the newest revision it names;
// nullopt when it is not of that shape.
std::optional<std::string> revisions_head(const rapidjson::Value& revisions) {
  if (!revisions.IsObject()) return std::nullopt;
  auto start = revisions.FindMember("start");
  auto ids = revisions.FindMember("ids");
  if (start == revisions.MemberEnd() || !start->value.IsUint64() || ids == revisions.MemberEnd() ||
      !ids->value.IsArray() || ids->value.Empty() || !ids->value[0].IsString()) {
    return std::nullopt;
  }
  return std::to_string(start->value.GetUint64()) + "-" + ids->value[0].GetString();
}

// CouchDB 3.x does not support all_or_nothing: every document fails with
// 417 and not_implemented, naming its id and the revision it was based on
// ("0-" when none). Nothing is written.
void reject_all_or_nothing(Ctx& ctx, std::string_view docs_json) {
  auto docs = parse_json(docs_json);
  if (!docs.is_ok()) return ctx.error(docs.status());
  JsonWriter w;
  w.start_array();
  for (const auto& doc : docs->GetArray()) {
    if (!doc.IsObject()) return ctx.error(HttpError::bad_request("Document must be a JSON object"));
    std::string id;
    auto id_it = doc.FindMember("_id");
    if (id_it != doc.MemberEnd() && id_it->value.IsString() && id_it->value.GetStringLength() > 0) {
      id.assign(id_it->value.GetString(), id_it->value.GetStringLength());
    } else {
      id = random_doc_id();
    }
    std::string rev = "0-";
    auto revs_it = doc.FindMember("_revisions");
    auto rev_it = doc.FindMember("_rev");
    if (revs_it != doc.MemberEnd() && revs_it->value.IsObject()) {
      rev = revisions_head(revs_it->value).value_or(rev);
    } else if (rev_it != doc.MemberEnd() && rev_it->value.IsString()) {
      rev.assign(rev_it->value.GetString(), rev_it->value.GetStringLength());
    }
    w.start_object();
    w.key("id").string(id);
    w.key("rev").string(rev);
    w.key("error").string("not_implemented");
    w.key("reason").string("all_or_nothing is not supported");
    w.end_object();
  }
  w.end_array();
  ctx.json(417, w.take());
}

// The revision a `_bulk_docs` entry names (from `_revisions`, else `_rev`),
// or "" when none.
std::string entry_rev(const std::vector<RawMember>& members) {
  if (const RawMember* revs = find_member(members, "_revisions")) {
    auto v = parse_json(revs->value);
    if (v.is_ok()) {
      if (auto head = revisions_head(*v)) return *head;
    }
  }
  return string_member(members, "_rev").value_or("");
}

// The `docs` of a _bulk_docs request after the checks the handler makes
// per document, before the core sees them.
struct ScreenedDocs {
  std::string docs_json;  // the entries that go on to the core, as a JSON array
  // Per entry of the request: the answer of one refused here, or nullopt
  // for one that went on (whose answer is the core's next DocResult).
  struct Refused {
    std::string id, rev;
    HttpError error;
  };
  std::vector<std::optional<Refused>> refused;
};

// Refuses design documents from a user who is not a db admin, and applies
// the rules of `_users` and `_replicator` (system_docs.h) to each entry.
// Entries that are not objects go on unchanged, for the core to refuse the
// request as it does. Errors: a `docs` that is not valid JSON, and storage
// errors.
Result<ScreenedDocs> screen_bulk_docs(Ctx& ctx, Database& db, const std::string& db_name,
                                      std::string_view docs_json, bool new_edits) {
  auto entries = scan_array_elements(docs_json);
  if (!entries.is_ok()) return entries.status();
  const bool rules = has_write_rules(db_name, new_edits);
  ScreenedDocs out;
  out.docs_json = "[";
  bool first = true;
  auto pass = [&](std::string_view text) {
    if (!first) out.docs_json += ',';
    first = false;
    out.docs_json.append(text);
    out.refused.emplace_back();
  };
  for (std::string_view entry : *entries) {
    auto members = scan_object_members(entry);
    if (!members.is_ok()) {
      pass(entry);
      continue;
    }
    const std::string id = string_member(*members, "_id").value_or("");
    auto refuse = [&](HttpError e) {
      // A document sent without an id is refused under the id it would have
      // had, as CouchDB names it (a new random one), not under "".
      const bool unnamed = find_member(*members, "_id") == nullptr;
      out.refused.push_back(ScreenedDocs::Refused{unnamed ? random_doc_id() : id, entry_rev(*members), std::move(e)});
    };
    if (id.starts_with("_design/") && !ctx.db_admin()) {
      refuse(not_db_admin());
      continue;
    }
    if (!rules) {
      pass(entry);
      continue;
    }
    const RawMember* del = find_member(*members, "_deleted");
    auto body = doc_body_for_write(ctx, db, db_name, id, entry, del && del->value == "true",
                                   new_edits);
    if (!body.is_ok()) {
      const Status& s = body.status();
      // Storage failures fail the request; the rules' refusals are the entry's.
      if (s.code() != ErrorCode::kForbidden && s.code() != ErrorCode::kNotFound &&
          s.code() != ErrorCode::kUnauthorized && s.code() != ErrorCode::kBadRequest) {
        return s;
      }
      refuse(HttpError::from_status(s));
      continue;
    }
    pass(*body);
  }
  out.docs_json += ']';
  return out;
}

}  // namespace

void handle_bulk_docs(Ctx& ctx, const std::string& db_name) {
  if (!ctx.require_post_json()) return;
  auto db = ctx.open_db(db_name);
  if (!db) return;
  // The "docs" array goes to the core as the client sent it (see
  // bulk_body.h): no DOM round trip that could alter numbers. Only the core
  // parses it: every path below parses it in full.
  auto members = scan_object_members_lazily(ctx.body(), "docs");
  if (!members.is_ok()) return ctx.error(members.status());
  const RawMember* docs = find_member(*members, "docs");
  if (docs == nullptr) {
    return ctx.error(HttpError::bad_request("POST body must include `docs` parameter."));
  }
  if (docs->value.empty() || docs->value.front() != '[') {
    return ctx.error(HttpError::bad_request("`docs` parameter must be an array."));
  }
  bool new_edits = true;
  if (const RawMember* ne = find_member(*members, "new_edits")) {
    if (ne->value == "false") {
      new_edits = false;
    } else if (ne->value != "true") {
      return ctx.error(HttpError::bad_request("`new_edits` parameter must be a boolean."));
    }
  }
  // all_or_nothing applies to interactive edits only, as in CouchDB.
  const RawMember* aon = find_member(*members, "all_or_nothing");
  if (new_edits && aon != nullptr && aon->value == "true") {
    return reject_all_or_nothing(ctx, docs->value);
  }
  // X-Couch-Full-Commit needs nothing: every write is durable on return.

  // Per-document checks, only where some apply: anyone but a db admin may
  // send design documents to refuse, and the system databases have rules.
  // Elsewhere the array goes to the core untouched.
  std::optional<ScreenedDocs> screened;
  if (!ctx.db_admin() || has_write_rules(db_name, new_edits)) {
    auto s = screen_bulk_docs(ctx, *db, db_name, docs->value, new_edits);
    if (!s.is_ok()) return ctx.error(s.status());
    screened = std::move(s.value());
  }

  BulkDocsOptions options;
  options.new_edits = new_edits;
  auto results = db->bulk_docs(screened ? std::string_view(screened->docs_json) : docs->value,
                               options);
  if (!results.is_ok()) return ctx.error(results.status());
  JsonWriter w;
  w.start_array();
  auto write_error = [&](const std::string& id, const std::string& rev, const HttpError& e) {
    w.start_object();
    w.key("id").string(id);
    // Interactive failures (conflicts) carry no rev; replicated ones name
    // the revision that failed.
    if (!new_edits && !rev.empty()) w.key("rev").string(rev);
    w.key("error").string(e.error);
    w.key("reason").string(e.reason);
    w.end_object();
  };
  auto write_result = [&](const DocResult& r) {
    if (!r.status.is_ok()) return write_error(r.id, r.rev, HttpError::from_status(r.status));
    // new_edits=false lists only the failures.
    if (!new_edits) return;
    w.start_object();
    w.key("ok").boolean(true);
    w.key("id").string(r.id);
    w.key("rev").string(r.rev);
    w.end_object();
  };
  // The core's results in order, with the entries refused above in their
  // places (the core answers each entry it was given once, in order).
  std::size_t next = 0;
  if (screened) {
    for (const auto& refused : screened->refused) {
      if (refused) {
        write_error(refused->id, refused->rev, refused->error);
      } else if (next < results->size()) {
        write_result((*results)[next++]);
      }
    }
  }
  for (; next < results->size(); ++next) write_result((*results)[next]);
  w.end_array();
  ctx.json(201, w.take());
}

// ---------------------------------------------------------------------------
// _bulk_get

namespace {

// {"error":{"id":..,"rev":..,"error":..,"reason":..}}; id and rev are JSON
// text (a string, null, or whatever the client sent).
void write_bulk_get_error(JsonWriter& w, std::string_view id_json, std::string_view rev_json,
                          std::string_view error, std::string_view reason) {
  w.start_object();
  w.key("error").start_object();
  w.key("id").raw(id_json);
  w.key("rev").raw(rev_json);
  w.key("error").string(error);
  w.key("reason").string(reason);
  w.end_object();
  w.end_object();
}

std::string json_string(std::string_view s) {
  JsonWriter w;
  w.string(s);
  return w.take();
}

// One entry of the "docs" list: appends {"id":..,"docs":[..]} to `w`.
// Entry errors are answered in place; only machine failures return an
// error (which fails the request).
Status bulk_get_entry(JsonWriter& w, Database& db, const rapidjson::Value& entry, bool revs,
                      bool latest) {
  auto entry_error = [&](std::string_view id_json, std::string_view rev_json,
                         std::string_view error, std::string_view reason) {
    w.start_object();
    w.key("id").raw(id_json);
    w.key("docs").start_array();
    write_bulk_get_error(w, id_json, rev_json, error, reason);
    w.end_array();
    w.end_object();
    return Status::ok();
  };
  // CouchDB's checks, in its order: an object, with an id, a valid id, a
  // valid rev, a valid atts_since.
  if (!entry.IsObject() || entry.MemberCount() == 0) {
    return entry_error("null", "null", "bad_request", "document must be a JSON object");
  }
  auto id_it = entry.FindMember("id");
  if (id_it == entry.MemberEnd()) {
    return entry_error("null", "null", "bad_request", "document id missed");
  }
  if (!id_it->value.IsString()) {
    return entry_error(to_json(id_it->value), "null", "illegal_docid",
                       "Document id must be a string");
  }
  std::string id(id_it->value.GetString(), id_it->value.GetStringLength());
  std::string id_json = json_string(id);

  OpenRevsOptions o;
  o.latest = latest;
  o.revs_history = revs;
  std::string rev_json = "\"undefined\"";  // CouchDB's rev for errors when none was asked
  auto rev_it = entry.FindMember("rev");
  if (rev_it != entry.MemberEnd()) {
    if (!rev_it->value.IsString()) {
      // A non-string rev: CouchDB's parse_rev rejects it; check the id first.
      auto probe = db.open_revs(id, OpenRevsOptions{false, {}, false, false});
      if (!probe.is_ok() && probe.status().code() == ErrorCode::kIllegalDocId) {
        return entry_error(id_json, "null", probe.status().error(), probe.status().reason());
      }
      return entry_error(id_json, to_json(rev_it->value), "bad_request", "Invalid rev format");
    }
    std::string rev(rev_it->value.GetString(), rev_it->value.GetStringLength());
    rev_json = json_string(rev);
    o.revs.push_back(std::move(rev));
  } else {
    o.all = true;
  }

  auto results = db.open_revs(id, o);
  if (!results.is_ok()) {
    const Status& s = results.status();
    switch (s.code()) {
      case ErrorCode::kIllegalDocId:
        return entry_error(id_json, "null", s.error(), s.reason());
      case ErrorCode::kBadRequest:  // a malformed rev
        return entry_error(id_json, rev_json, s.error(), s.reason());
      case ErrorCode::kNotFound:  // an unknown document, all leaves asked for
        return entry_error(id_json, rev_json, "not_found", "missing");
      default:
        return s;
    }
  }

  // atts_since: checked after id and rev, as CouchDB does; attachments are
  // not supported yet, so a valid list changes nothing.
  auto atts_it = entry.FindMember("atts_since");
  if (atts_it != entry.MemberEnd() && !atts_it->value.IsNull()) {
    const rapidjson::Value& since = atts_it->value;
    if (!since.IsArray()) {
      return entry_error(id_json, to_json(since), "bad_request",
                         "att_since value must be array of revs.");
    }
    for (const auto& r : since.GetArray()) {
      Status bad = r.IsString() ? validate_rev(std::string_view(r.GetString(), r.GetStringLength()))
                                : Status::bad_request("Invalid rev format");
      if (!bad.is_ok()) return entry_error(id_json, to_json(r), "bad_request", bad.reason());
    }
  }

  if (results->empty()) return entry_error(id_json, rev_json, "not_found", "missing");
  w.start_object();
  w.key("id").raw(id_json);
  w.key("docs").start_array();
  for (const OpenRev& r : *results) {
    if (r.ok) {
      w.start_object();
      w.key("ok").raw(doc_json_for_read(db.name(), *r.ok));
      w.end_object();
    } else {
      write_bulk_get_error(w, id_json, json_string(r.missing), "not_found", "missing");
    }
  }
  w.end_array();
  w.end_object();
  return Status::ok();
}

}  // namespace

void handle_bulk_get(Ctx& ctx, const std::string& db_name) {
  if (!ctx.require_post_json()) return;
  auto db = ctx.open_db(db_name);
  if (!db) return;
  auto body = ctx.json_object_body();
  if (!body.is_ok()) return ctx.error(body.status());
  // Extra top-level members (CouchDB's replicator repeats revs, latest and
  // attachments there) are ignored.
  auto docs = body->FindMember("docs");
  if (docs == body->MemberEnd() || !docs->value.IsArray()) {
    return ctx.error(HttpError::bad_request("Missing JSON list of 'docs'."));
  }
  for (const char* name : {"open_revs", "new_edits", "w", "rev", "atts_since"}) {
    if (ctx.param(name) != nullptr) {
      return ctx.error(HttpError::bad_request("\"" + std::string(name) +
                                              "\" query parameter is not acceptable"));
    }
  }
  bool flags[4] = {};
  const char* names[4] = {"revs", "latest", "attachments", "att_encoding_info"};
  for (int i = 0; i < 4; ++i) {
    auto b = ctx.bool_param(names[i], false);
    if (!b.is_ok()) return ctx.error(b.status());
    flags[i] = *b;
  }
  // attachments and att_encoding_info: nothing to inline yet.
  bool revs = flags[0], latest = flags[1];

  JsonWriter w;
  w.start_object();
  w.key("results").start_array();
  for (const auto& entry : docs->value.GetArray()) {
    if (Status s = bulk_get_entry(w, *db, entry, revs, latest); !s.is_ok()) return ctx.error(s);
  }
  w.end_array();
  w.end_object();
  ctx.json(200, w.take());
}

// ---------------------------------------------------------------------------
// _revs_diff

void handle_revs_diff(Ctx& ctx, const std::string& db_name) {
  if (!ctx.require_post_json()) return;
  auto db = ctx.open_db(db_name);
  if (!db) return;
  auto body = ctx.json_object_body();
  if (!body.is_ok()) return ctx.error(body.status());
  // One request per id; an id repeated in the body asks about the union.
  std::vector<RevsDiffRequest> request;
  for (const auto& m : body->GetObject()) {
    if (!m.value.IsArray()) return ctx.error(HttpError::bad_request("Invalid rev format"));
    std::string id(m.name.GetString(), m.name.GetStringLength());
    auto it = std::find_if(request.begin(), request.end(),
                           [&](const RevsDiffRequest& r) { return r.id == id; });
    if (it == request.end()) {
      request.push_back({std::move(id), {}});
      it = request.end() - 1;
    }
    for (const auto& r : m.value.GetArray()) {
      if (!r.IsString()) return ctx.error(HttpError::bad_request("Invalid rev format"));
      it->revs.emplace_back(r.GetString(), r.GetStringLength());
    }
  }
  auto diff = db->revs_diff(request);
  if (!diff.is_ok()) return ctx.error(diff.status());
  JsonWriter w;
  w.start_object();
  for (const RevsDiffEntry& e : *diff) {
    w.key(e.id).start_object();
    w.key("missing").strings(e.missing);
    if (!e.possible_ancestors.empty()) w.key("possible_ancestors").strings(e.possible_ancestors);
    w.end_object();
  }
  w.end_object();
  ctx.json(200, w.take());
}

// ---------------------------------------------------------------------------
// _all_docs, _design_docs, _local_docs

namespace {

// The parameters of a listing, from the query string or, for POST, from
// the body too (CouchDB reads the body's members as parameters, already
// decoded; the query string wins).
class ListParams {
 public:
  ListParams(const Ctx& ctx, const rapidjson::Value* body) : ctx_(ctx), body_(body) {}

  // Errors: query_parse_error `Invalid boolean: "x"`, as CouchDB.
  Result<bool> boolean(const char* name, bool fallback) const {
    std::string text;
    if (const std::string* t = ctx_.param(name)) {
      text = *t;
    } else if (const rapidjson::Value* v = body_value(name)) {
      if (v->IsBool()) return v->GetBool();
      if (!v->IsString()) return bad_boolean(to_json(*v));
      text.assign(v->GetString(), v->GetStringLength());
    } else {
      return fallback;
    }
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true") return true;
    if (lower == "false") return false;
    return bad_boolean(json_quote(text));
  }

  // A non-negative integer; values beyond 64 bits count as the largest.
  // Errors: query_parse_error as CouchDB words them.
  Result<std::optional<std::uint64_t>> count(const char* name) const {
    std::string text;
    if (const std::string* t = ctx_.param(name)) {
      text = *t;
    } else if (const rapidjson::Value* v = body_value(name)) {
      if (v->IsUint64()) return std::optional<std::uint64_t>(v->GetUint64());
      if (v->IsNumber() && !v->IsDouble()) return negative(to_json(*v));
      if (!v->IsString()) return not_integer(to_json(*v));
      text.assign(v->GetString(), v->GetStringLength());
    } else {
      return std::optional<std::uint64_t>();
    }
    std::string_view digits(text);
    bool minus = !digits.empty() && (digits[0] == '-' || digits[0] == '+');
    bool is_negative = minus && digits[0] == '-';
    if (minus) digits.remove_prefix(1);
    bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!all_digits) return not_integer(json_quote(text));
    if (is_negative && digits.find_first_not_of('0') != std::string_view::npos) {
      return negative(json_quote(text));
    }
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc::result_out_of_range) n = UINT64_MAX;
    return std::optional<std::uint64_t>(n);
  }

  // A JSON-valued parameter (key, startkey, keys, ...), or nullopt.
  Result<std::optional<rapidjson::Document>> json(const char* name) const {
    if (ctx_.param(name) != nullptr) return ctx_.json_param(name);
    if (const rapidjson::Value* v = body_value(name)) {
      rapidjson::Document d;
      d.CopyFrom(*v, d.GetAllocator());
      return std::optional<rapidjson::Document>(std::move(d));
    }
    return std::optional<rapidjson::Document>();
  }

  // A plain string parameter (startkey_docid, ...), or nullopt.
  Result<std::optional<std::string>> text(const char* name) const {
    if (const std::string* t = ctx_.param(name)) return std::optional<std::string>(*t);
    if (const rapidjson::Value* v = body_value(name)) {
      if (!v->IsString()) {
        return Status::bad_request(std::string("`") + name + "` must be a string.");
      }
      return std::optional<std::string>(std::string(v->GetString(), v->GetStringLength()));
    }
    return std::optional<std::string>();
  }

  bool has(const char* name) const { return ctx_.param(name) != nullptr || body_value(name); }

 private:
  const rapidjson::Value* body_value(const char* name) const {
    if (body_ == nullptr || !body_->IsObject()) return nullptr;
    auto it = body_->FindMember(name);
    return it == body_->MemberEnd() ? nullptr : &it->value;
  }
  static std::string json_quote(const std::string& s) {
    JsonWriter w;
    w.string(s);
    return w.take();
  }
  static Status bad_boolean(const std::string& shown) {
    return Status::bad_request("Invalid boolean: " + shown);
  }
  static Status not_integer(const std::string& shown) {
    return Status::bad_request("Invalid value for integer: " + shown);
  }
  static Status negative(const std::string& shown) {
    return Status::bad_request("Invalid value for non negative integer: " + shown);
  }

  const Ctx& ctx_;
  const rapidjson::Value* body_;
};

// The query as the handler understands it, before it becomes core options.
struct ListQuery {
  // `keys`: the JSON values as sent (any type; only strings can match).
  std::optional<std::vector<std::string>> keys_json;  // each key's JSON text
  std::optional<std::vector<std::string>> keys;       // the ids ("" for non-strings)
  bool key_never_matches = false;                     // `key` was not a string
  std::optional<std::string> start_key;
  std::optional<std::string> end_key;
  bool inclusive_end = true;
  bool descending = false;
  bool include_docs = false;
  bool conflicts = false;
  bool update_seq = false;
  std::uint64_t limit = UINT64_MAX;
  std::uint64_t skip = 0;
};

// Parses a listing's parameters (query string, and a POST body's members).
// Errors answer the request and return nullopt.
std::optional<ListQuery> parse_list_query(Ctx& ctx, const ListParams& p) {
  ListQuery q;
  auto fail = [&](const Status& s) {
    // Parameter errors are CouchDB's query_parse_error; malformed JSON in a
    // parameter is plain bad_request.
    ctx.error(s.code() == ErrorCode::kBadRequest ? query_parse_error(s.reason())
                                                 : HttpError::from_status(s));
    return std::optional<ListQuery>();
  };
  struct Flag {
    const char* name;
    bool* out;
  };
  bool ignored = false;
  for (Flag f : {Flag{"inclusive_end", &q.inclusive_end}, Flag{"descending", &q.descending},
                 Flag{"include_docs", &q.include_docs}, Flag{"conflicts", &q.conflicts},
                 Flag{"update_seq", &q.update_seq}, Flag{"attachments", &ignored},
                 Flag{"att_encoding_info", &ignored}}) {
    auto b = p.boolean(f.name, *f.out);
    if (!b.is_ok()) return fail(b.status());
    *f.out = *b;
  }
  for (auto [name, out] : {std::pair{"limit", &q.limit}, std::pair{"skip", &q.skip}}) {
    auto n = p.count(name);
    if (!n.is_ok()) return fail(n.status());
    if (*n) *out = **n;
  }

  // keys: a JSON array of ids.
  auto keys = p.json("keys");
  if (!keys.is_ok()) {
    ctx.error(keys.status());
    return std::nullopt;
  }
  if (*keys) {
    const rapidjson::Document& k = **keys;
    if (!k.IsArray()) {
      ctx.error(HttpError::bad_request(ctx.is("POST") && ctx.param("keys") == nullptr
                                           ? "`keys` body member must be an array."
                                           : "`keys` parameter must be an array."));
      return std::nullopt;
    }
    q.keys.emplace();
    q.keys_json.emplace();
    for (const auto& v : k.GetArray()) {
      q.keys_json->push_back(to_json(v));
      q.keys->push_back(v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "");
    }
  }

  // Ranges. Ids are strings: a non-string startkey or endkey sets no bound
  // (CouchDB then falls back to startkey_docid / endkey_docid); a
  // non-string key matches nothing.
  bool has_key_range = false;
  auto string_of = [](const rapidjson::Document& d) -> std::optional<std::string> {
    if (!d.IsString()) return std::nullopt;
    return std::string(d.GetString(), d.GetStringLength());
  };
  for (auto [names, out] : {std::pair{std::pair{"start_key", "startkey"}, &q.start_key},
                            std::pair{std::pair{"end_key", "endkey"}, &q.end_key}}) {
    const char* name = p.has(names.first) ? names.first : names.second;
    auto v = p.json(name);
    if (!v.is_ok()) {
      ctx.error(v.status());
      return std::nullopt;
    }
    if (*v) {
      has_key_range = true;
      *out = string_of(**v);
    }
  }
  auto key = p.json("key");
  if (!key.is_ok()) {
    ctx.error(key.status());
    return std::nullopt;
  }
  if (*key) {
    has_key_range = true;
    q.start_key = q.end_key = string_of(**key);
    q.key_never_matches = !q.start_key;
  }
  if (q.keys && !q.keys->empty() && has_key_range) {
    ctx.error(query_parse_error("`keys` is incompatible with `key`, `start_key` and `end_key`"));
    return std::nullopt;
  }
  for (auto [names, out] :
       {std::pair{std::pair{"startkey_docid", "start_key_doc_id"}, &q.start_key},
        std::pair{std::pair{"endkey_docid", "end_key_doc_id"}, &q.end_key}}) {
    const char* name = p.has(names.first) ? names.first : names.second;
    auto v = p.text(name);
    if (!v.is_ok()) return fail(v.status());
    if (*v && !*out) *out = **v;
  }
  if (q.keys && q.descending) std::reverse(q.keys->begin(), q.keys->end());
  if (q.keys_json && q.descending) std::reverse(q.keys_json->begin(), q.keys_json->end());
  return q;
}

void write_row(JsonWriter& w, std::string_view db_name, const AllDocsRow& row,
               const std::string* key_json, bool include_docs) {
  w.start_object();
  if (row.not_found) {
    if (key_json) w.key("key").raw(*key_json);
    else w.key("key").string(row.id);
    w.key("error").string("not_found");
    w.end_object();
    return;
  }
  w.key("id").string(row.id);
  w.key("key").string(row.id);
  w.key("value").start_object();
  w.key("rev").string(row.rev);
  if (row.deleted) w.key("deleted").boolean(true);
  w.end_object();
  if (include_docs) {
    if (row.doc && !row.deleted) w.key("doc").raw(doc_json_for_read(db_name, *row.doc));
    else w.key("doc").null();
  }
  w.end_object();
}

struct ListMeta {
  std::optional<std::uint64_t> total_rows;  // null when absent
  std::optional<std::uint64_t> offset;
  std::optional<std::uint64_t> update_seq;
};

// {"total_rows":..,"offset":..,("update_seq":..,)"rows":[..]}
std::string list_json(std::string_view db_name, const ListQuery& q, const ListMeta& meta,
                      const std::vector<AllDocsRow>& rows, std::size_t first_key) {
  JsonWriter w;
  w.start_object();
  auto number_or_null = [&](const char* name, const std::optional<std::uint64_t>& v) {
    w.key(name);
    if (v) w.number(*v);
    else w.null();
  };
  number_or_null("total_rows", meta.total_rows);
  number_or_null("offset", meta.offset);
  if (q.update_seq) number_or_null("update_seq", meta.update_seq);
  w.key("rows").start_array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string* key_json = nullptr;
    if (q.keys_json && first_key + i < q.keys_json->size()) key_json = &(*q.keys_json)[first_key + i];
    write_row(w, db_name, rows[i], key_json, q.include_docs);
  }
  w.end_array();
  w.end_object();
  return w.take();
}

// _all_docs, _design_docs and _local_docs through the core.
Status list_docs(Ctx& ctx, Database& db, const ListQuery& q, AllDocsKind kind) {
  AllDocsOptions o;
  o.local = kind == AllDocsKind::kLocal;
  o.keys = q.keys;
  o.limit = q.key_never_matches ? 0 : q.limit;
  o.skip = q.skip;
  o.descending = q.descending;
  o.include_docs = q.include_docs;
  o.conflicts = q.conflicts;
  o.start_key = q.start_key;
  o.end_key = q.end_key;
  o.inclusive_end = q.inclusive_end;
  if (kind == AllDocsKind::kDesign && !q.keys) {
    // Design documents are the ids from "_design/" up to "_design0" ('0'
    // follows '/'); narrow the user's range to them. Neither bound is a
    // legal id, so its inclusiveness does not matter.
    const std::string lo = "_design/", hi = "_design0";
    std::string& upper = q.descending ? o.start_key.emplace(q.start_key.value_or(hi))
                                      : o.end_key.emplace(q.end_key.value_or(hi));
    std::string& lower = q.descending ? o.end_key.emplace(q.end_key.value_or(lo))
                                      : o.start_key.emplace(q.start_key.value_or(lo));
    if (upper > hi) upper = hi;
    if (lower < lo) lower = lo;
  }
  auto r = db.all_docs(o);
  if (!r.is_ok()) return r.status();
  ListMeta meta;
  if (kind != AllDocsKind::kLocal) {
    // CouchDB answers null for all three for _local documents, which are
    // not counted and do not change update_seq.
    meta.total_rows = r->total_rows;
    meta.update_seq = r->update_seq;
    // CouchDB gives no offset for keys queries.
    if (!q.keys) meta.offset = r->offset;
  }
  if (kind == AllDocsKind::kDesign) {
    // total_rows of _design_docs is the number of design documents.
    AllDocsOptions count;
    count.start_key = "_design/";
    count.end_key = "_design0";
    auto all = db.all_docs(count);
    if (!all.is_ok()) return all.status();
    meta.total_rows = all->rows.size();
  }
  ctx.json(200, list_json(db.name(), q, meta, r->rows, q.keys ? q.skip : 0));
  return Status::ok();
}

}  // namespace

void handle_all_docs(Ctx& ctx, const std::string& db_name, AllDocsKind kind) {
  bool post = ctx.is("POST");
  if (!post && !ctx.is("GET")) return ctx.error(HttpError::method_not_allowed("GET,HEAD,POST"));
  rapidjson::Document body;
  if (post) {
    if (!ctx.json_content_type()) return ctx.error(HttpError::bad_content_type());
    auto b = ctx.json_object_body();
    if (!b.is_ok()) return ctx.error(b.status());
    body = std::move(b.value());
  }
  auto db = ctx.open_db(db_name);
  if (!db) return;
  ListParams params(ctx, post ? &body : nullptr);
  auto q = parse_list_query(ctx, params);
  if (!q) return;
  if (Status s = list_docs(ctx, *db, *q, kind); !s.is_ok()) ctx.error(s);
}

}  // namespace divan::http
