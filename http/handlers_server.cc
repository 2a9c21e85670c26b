// Server endpoints: GET /, /_up, /_all_dbs, /_uuids, /_session.
#include <rapidjson/document.h>

#include <algorithm>

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

void handle_all_dbs(Ctx& ctx) {
  if (!only_get(ctx)) return;
  auto names = ctx.data_dir().list_databases();
  if (!names.is_ok()) return ctx.error(names.status());
  // startkey/endkey (JSON strings), limit, skip, descending, as CouchDB.
  auto descending = ctx.bool_param("descending", false);
  auto limit = ctx.uint_param("limit");
  auto skip = ctx.uint_param("skip");
  for (const Status& s : {descending.status(), limit.status(), skip.status()}) {
    if (!s.is_ok()) return ctx.error(s);
  }
  std::optional<std::string> start, end;
  for (auto [name, slot] : {std::pair{"startkey", &start}, std::pair{"start_key", &start},
                            std::pair{"endkey", &end}, std::pair{"end_key", &end}}) {
    auto v = ctx.json_param(name);
    if (!v.is_ok()) return ctx.error(v.status());
    if (!v->has_value()) continue;
    if (!(**v).IsString()) return ctx.error(HttpError::bad_request(std::string(name) + " must be a string"));
    *slot = std::string((**v).GetString(), (**v).GetStringLength());
  }
  std::vector<std::string> list = std::move(names.value());
  if (*descending) std::reverse(list.begin(), list.end());
  JsonWriter w;
  w.start_array();
  std::uint64_t skipped = 0, emitted = 0;
  for (const std::string& n : list) {
    if (start && (*descending ? n > *start : n < *start)) continue;
    if (end && (*descending ? n < *end : n > *end)) continue;
    if (skipped < skip->value_or(0)) {
      ++skipped;
      continue;
    }
    if (limit->has_value() && emitted >= **limit) break;
    w.string(n);
    ++emitted;
  }
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

void handle_session(Ctx& ctx) {
  // Until authentication lands (issue 5), every request acts as the
  // server admin of a local server; this answers that honestly.
  if (!only_get(ctx)) return;
  ctx.json(200,
           R"({"ok":true,"userCtx":{"name":null,"roles":["_admin"]},"info":{"authentication_handlers":["default"],"authentication_db":"_users"}})");
}

}  // namespace divan::http
