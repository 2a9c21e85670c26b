// Database endpoints: PUT/GET/HEAD/DELETE/POST /{db}, _revs_limit,
// _compact, _ensure_full_commit, _security.
#include <charconv>

#include "http/authz.h"
#include "http/bulk_body.h"
#include "http/handlers.h"
#include "http/server.h"
#include "http/system_docs.h"

namespace divan::http {

std::string db_info_json(const DatabaseInfo& info) {
  JsonWriter w;
  w.start_object();
  w.key("db_name").string(info.db_name);
  w.key("purge_seq").number(info.purge_seq);
  w.key("update_seq").number(info.update_seq);
  w.key("sizes").start_object();
  w.key("file").number(info.sizes_file);
  w.key("external").number(info.sizes_external);
  w.key("active").number(info.sizes_active);
  w.end_object();
  w.key("props").start_object().end_object();
  w.key("doc_del_count").number(info.doc_del_count);
  w.key("doc_count").number(info.doc_count);
  w.key("disk_format_version").number(1);
  w.key("compact_running").boolean(info.compact_running);
  w.key("cluster").start_object();
  for (const char* k : {"q", "n", "w", "r"}) w.key(k).number(1);
  w.end_object();
  w.key("instance_start_time").string(info.instance_start_time);
  w.end_object();
  return w.take();
}

namespace {

void create_db(Ctx& ctx, const std::string& name) {
  auto db = ctx.data_dir().create_database(name);
  if (!db.is_ok()) return ctx.error(db.status());
  ctx.set_header("Location", ctx.base_url() + "/" + percent_encode(name));
  ctx.json(201, R"({"ok":true})");
}

void delete_db(Ctx& ctx, const std::string& name) {
  if (ctx.param("rev") != nullptr) {
    return ctx.error(HttpError::bad_request(
        "You tried to DELETE a database with a ?=rev parameter. Did you mean to DELETE a "
        "document instead?"));
  }
  if (Status s = ctx.data_dir().delete_database(name); !s.is_ok()) return ctx.error(s);
  ctx.json(200, R"({"ok":true})");
}

void post_doc(Ctx& ctx, const std::string& name) {
  if (!ctx.json_content_type()) return ctx.error(HttpError::bad_content_type());
  auto db = ctx.open_db(name);
  if (!db) return;
  auto batch = ctx.param("batch");
  // The id (and deletion) in the body decide which rules apply: design
  // documents are for db admins (the router cannot tell from the URL), and
  // `_users` and `_replicator` may rewrite the body. A body that is not a
  // JSON object is left for the core to refuse.
  const BodyPeek peek = peek_body(ctx.body());
  if (peek.id.starts_with("_design/") && !ctx.db_admin()) return ctx.error(not_db_admin());
  const bool rules = has_write_rules(name, true);
  std::string rewritten;
  if (rules) {
    auto b = doc_body_for_write(ctx, *db, name, peek.id, ctx.body(), peek.deleted, true);
    if (!b.is_ok()) return ctx.error(b.status());
    rewritten = std::move(b.value());
  }
  auto r = db->put(rules ? std::string_view(rewritten) : std::string_view(ctx.body()));
  if (!r.is_ok()) return ctx.error(r.status());
  ctx.set_header("Location", ctx.base_url() + "/" + percent_encode(name) + "/" + percent_encode(r->id));
  ctx.set_header("ETag", "\"" + r->rev + "\"");
  JsonWriter w;
  w.start_object();
  w.key("ok").boolean(true);
  w.key("id").string(r->id);
  w.key("rev").string(r->rev);
  w.end_object();
  // ?batch=ok asks for 202; the write is durable all the same.
  ctx.json(batch != nullptr && *batch == "ok" ? 202 : 201, w.take());
}


}  // namespace

void handle_db(Ctx& ctx, const std::string& db) {
  if (ctx.is("PUT")) return create_db(ctx, db);
  if (ctx.is("DELETE")) return delete_db(ctx, db);
  if (ctx.is("POST")) return post_doc(ctx, db);
  if (!ctx.is("GET")) return ctx.error(HttpError::method_not_allowed("DELETE,GET,HEAD,POST,PUT"));
  auto d = ctx.open_db(db);
  if (!d) return;
  auto info = d->info();
  if (!info.is_ok()) return ctx.error(info.status());
  ctx.json(200, db_info_json(*info));
}

void handle_revs_limit(Ctx& ctx, const std::string& db) {
  auto d = ctx.open_db(db);
  if (!d) return;
  if (ctx.is("GET")) {
    auto limit = d->revs_limit();
    if (!limit.is_ok()) return ctx.error(limit.status());
    return ctx.json(200, std::to_string(*limit));
  }
  if (!ctx.is("PUT")) return ctx.error(HttpError::method_not_allowed("GET,HEAD,PUT"));
  auto body = ctx.json_body();
  if (!body.is_ok()) return ctx.error(body.status());
  if (!body->IsUint64() || body->GetUint64() < 1 || body->GetUint64() > UINT32_MAX) {
    return ctx.error(HttpError::bad_request("Rev limit has to be a positive integer"));
  }
  if (Status s = d->set_revs_limit(static_cast<std::uint32_t>(body->GetUint64())); !s.is_ok()) {
    return ctx.error(s);
  }
  ctx.json(200, R"({"ok":true})");
}

void handle_compact(Ctx& ctx, const std::string& db) {
  if (!ctx.require_post_json()) return;
  auto d = ctx.open_db(db);
  if (!d) return;
  Server& server = ctx.server();
  // Compaction runs in the background; GET /{db} shows compact_running.
  server.spawn([d, &server] {
    if (Status s = d->compact(); !s.is_ok()) {
      server.log(LogLevel::kError, "compaction of " + d->name() + " failed: " + s.to_string());
    }
  });
  ctx.json(202, R"({"ok":true})");
}

void handle_ensure_full_commit(Ctx& ctx, const std::string& db) {
  if (!ctx.require_post_json()) return;
  auto d = ctx.open_db(db);
  if (!d) return;
  // Every acknowledged write is already durable: nothing to flush.
  auto info = d->info();
  if (!info.is_ok()) return ctx.error(info.status());
  JsonWriter w;
  w.start_object();
  w.key("ok").boolean(true);
  w.key("instance_start_time").string(info->instance_start_time);
  w.end_object();
  ctx.json(201, w.take());
}

void handle_security(Ctx& ctx, const std::string& db) {
  auto d = ctx.open_db(db);
  if (!d) return;
  if (ctx.is("GET")) {
    auto sec = d->security();
    if (!sec.is_ok()) return ctx.error(sec.status());
    return ctx.json(200, *sec);
  }
  if (!ctx.is("PUT")) return ctx.error(HttpError::method_not_allowed("GET,HEAD,PUT"));
  if (Status s = d->set_security(ctx.body()); !s.is_ok()) return ctx.error(s);
  ctx.json(200, R"({"ok":true})");
}

}  // namespace divan::http
