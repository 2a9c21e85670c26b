// Server endpoints: GET /, /_up, /_all_dbs, /_dbs_info, /_uuids, /_session.
#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http/handlers.h"
#include "http/server.h"
#include "http/version.h"

namespace divan::http {
namespace {

bool only_get(Ctx& ctx) {
  if (ctx.is("GET")) return true;
  ctx.error(HttpError::method_not_allowed("GET,HEAD"));
  return false;
}

}  // namespace

void handle_welcome(Ctx& ctx) {
  if (!only_get(ctx)) return;
  JsonWriter w;
  w.start_object();
  w.key("couchdb").string("Welcome");
  w.key("version").string(kCouchDbVersion);
  w.key("divan").string(kDivanVersion);
  w.key("uuid").string(ctx.data_dir().uuid());
  w.key("features").start_array().end_array();
  w.key("vendor").start_object();
  w.key("name").string("divan");
  w.key("version").string(kDivanVersion);
  w.end_object();
  w.end_object();
  ctx.json(200, w.take());
}

void handle_up(Ctx& ctx) {
  if (!only_get(ctx)) return;
  ctx.json(200, R"({"status":"ok"})");
}

namespace {

// The database names _all_dbs lists for this request's startkey/endkey (JSON
// strings), limit, skip and descending, as CouchDB reads them.
Result<std::vector<std::string>> listed_databases(Ctx& ctx) {
  auto names = ctx.data_dir().list_databases();
  if (!names.is_ok()) return names.status();
  auto descending = ctx.bool_param("descending", false);
  auto limit = ctx.uint_param("limit");
  auto skip = ctx.uint_param("skip");
  for (const Status& s : {descending.status(), limit.status(), skip.status()}) {
    if (!s.is_ok()) return s;
  }
  std::optional<std::string> start, end;
  for (auto [name, slot] : {std::pair{"startkey", &start}, std::pair{"start_key", &start},
                            std::pair{"endkey", &end}, std::pair{"end_key", &end}}) {
    auto v = ctx.json_param(name);
    if (!v.is_ok()) return v.status();
    if (!v->has_value()) continue;
    if (!(**v).IsString()) return Status::bad_request(std::string(name) + " must be a string");
    *slot = std::string((**v).GetString(), (**v).GetStringLength());
  }
  std::vector<std::string> list = std::move(names.value());
  if (*descending) std::reverse(list.begin(), list.end());
  std::vector<std::string> out;
  std::uint64_t skipped = 0;
  for (std::string& n : list) {
    if (start && (*descending ? n > *start : n < *start)) continue;
    if (end && (*descending ? n < *end : n > *end)) continue;
    if (skipped < skip->value_or(0)) {
      ++skipped;
      continue;
    }
    if (limit->has_value() && out.size() >= **limit) break;
    out.push_back(std::move(n));
  }
  return out;
}

// {"key": name, "info": {...}}, or {"key": name, "error": "not_found"}.
void write_db_info_row(Ctx& ctx, JsonWriter& w, const std::string& name) {
  w.start_object();
  w.key("key").string(name);
  auto db = ctx.data_dir().open_database(name);
  auto info = db.is_ok() ? (*db)->info() : Result<DatabaseInfo>(db.status());
  if (info.is_ok()) {
    w.key("info").raw(db_info_json(*info));
  } else {
    w.key("error").string("not_found");
  }
  w.end_object();
}

// CouchDB's [chttpd] max_db_number_for_dbs_info_req.
constexpr std::size_t kMaxDbsInfoKeys = 100;

}  // namespace

void handle_all_dbs(Ctx& ctx) {
  if (!only_get(ctx)) return;
  auto list = listed_databases(ctx);
  if (!list.is_ok()) return ctx.error(list.status());
  JsonWriter w;
  w.start_array();
  for (const std::string& n : *list) w.string(n);
  w.end_array();
  ctx.json(200, w.take());
}

void handle_dbs_info(Ctx& ctx) {
  std::vector<std::string> names;
  if (ctx.is("GET")) {
    auto list = listed_databases(ctx);
    if (!list.is_ok()) return ctx.error(list.status());
    names = std::move(list.value());
  } else if (ctx.is("POST")) {
    if (!ctx.require_post_json()) return;
    auto body = ctx.json_body();
    if (!body.is_ok()) return ctx.error(body.status());
    auto keys = body->IsObject() ? body->FindMember("keys") : body->MemberEnd();
    if (!body->IsObject() || keys == body->MemberEnd() || !keys->value.IsArray()) {
      return ctx.error(HttpError::bad_request("`keys` member must exist."));
    }
    if (keys->value.Size() > kMaxDbsInfoKeys) {
      return ctx.error(HttpError::bad_request("The number of keys exceeds the maximum of " +
                                              std::to_string(kMaxDbsInfoKeys) + "."));
    }
    for (const auto& k : keys->value.GetArray()) {
      if (!k.IsString()) return ctx.error(HttpError::bad_request("`keys` must be database names."));
      names.emplace_back(k.GetString(), k.GetStringLength());
    }
  } else {
    return ctx.error(HttpError::method_not_allowed("GET,HEAD,POST"));
  }
  JsonWriter w;
  w.start_array();
  for (const std::string& n : names) write_db_info_row(ctx, w, n);
  w.end_array();
  ctx.json(200, w.take());
}

void handle_uuids(Ctx& ctx) {
  if (!only_get(ctx)) return;
  auto count = ctx.uint_param("count");
  if (!count.is_ok()) return ctx.error(count.status());
  std::uint64_t n = count->value_or(1);
  if (n > 1000) return ctx.error(HttpError::bad_request("count parameter too large"));
  JsonWriter w;
  w.start_object().key("uuids").start_array();
  for (std::uint64_t i = 0; i < n; ++i) w.string(ctx.data_dir().new_uuid());
  w.end_array().end_object();
  ctx.set_header("Cache-Control", "must-revalidate, no-cache");
  ctx.json(200, w.take());
}

namespace {

// A name and password from a POST /_session body: JSON or form-encoded.
// Returns false having answered (415 other content types, 400 bad bodies).
bool read_login(Ctx& ctx, std::string* name, std::string* password) {
  std::string type = ctx.header("Content-Type");
  type = type.substr(0, type.find(';'));
  std::map<std::string, std::string> fields;
  if (type == "application/x-www-form-urlencoded") {
    if (!parse_form(ctx.body(), &fields)) {
      ctx.error(HttpError::bad_request("Malformed form body"));
      return false;
    }
  } else if (type == "application/json") {
    auto body = ctx.json_object_body();
    if (!body.is_ok()) {
      ctx.error(body.status());
      return false;
    }
    for (const auto& m : body->GetObject()) {
      if (m.value.IsString()) fields[m.name.GetString()] = std::string(m.value.GetString(), m.value.GetStringLength());
    }
  } else {
    ctx.error(HttpError{415, "bad_content_type",
                        "Content-Type must be application/x-www-form-urlencoded or application/json", {}});
    return false;
  }
  auto user = fields.find("name");
  if (user == fields.end()) user = fields.find("username");
  *name = user == fields.end() ? "" : user->second;
  *password = fields.count("password") ? fields["password"] : "";
  return true;
}

void write_user(JsonWriter& w, const UserCtx& user) {
  w.key("name");
  if (user.name) w.string(*user.name);
  else w.null();
  w.key("roles").start_array();
  for (const auto& r : user.roles) w.string(r);
  w.end_array();
}

}  // namespace

// /_session: cookie sessions (couchdb-semantics.md §7.3).
void handle_session(Ctx& ctx) {
  Authenticator& auth = ctx.server().auth();
  const bool tls = ctx.server().tls();
  // Logging in or out replaces a refreshed cookie set before routing.
  if (!ctx.is("GET")) ctx.res().headers.erase("Set-Cookie");
  if (ctx.is("GET")) {
    auto basic = ctx.bool_param("basic", false);
    if (!basic.is_ok()) return ctx.error(basic.status());
    if (*basic && ctx.user().is_anonymous()) {
      return ctx.error(HttpError{401, "unauthorized", "Please login.", {}});
    }
    JsonWriter w;
    w.start_object();
    w.key("ok").boolean(true);
    w.key("userCtx").start_object();
    write_user(w, ctx.user());
    w.end_object();
    w.key("info").start_object();
    w.key("authentication_handlers").start_array().string("cookie").string("default").end_array();
    if (!ctx.identity().method.empty()) w.key("authenticated").string(ctx.identity().method);
    w.key("authentication_db").string("_users");
    w.end_object();
    w.end_object();
    return ctx.json(200, w.take());
  }
  if (ctx.is("DELETE")) {
    ctx.set_header("Set-Cookie", auth.clearing_cookie(tls));
    return ctx.json(200, R"({"ok":true})");
  }
  if (!ctx.is("POST")) return ctx.error(HttpError::method_not_allowed("GET,HEAD,POST,DELETE"));
  std::string name, password;
  if (!read_login(ctx, &name, &password)) return;
  Identity id;
  if (auto e = auth.login(name, password, ctx.req().remote_addr, tls, &id)) {
    if (e->status == 401) ctx.set_header("Set-Cookie", auth.clearing_cookie(tls));
    return ctx.error(*e);
  }
  ctx.set_header("Set-Cookie", *id.set_cookie);
  if (const std::string* next = ctx.param("next"); next && !next->empty() && (*next)[0] == '/') {
    ctx.set_header("Location", ctx.base_url() + *next);
    return ctx.json(302, R"({"ok":true})");
  }
  JsonWriter w;
  w.start_object();
  w.key("ok").boolean(true);
  write_user(w, id.user);
  w.end_object();
  ctx.json(200, w.take());
}

}  // namespace divan::http
