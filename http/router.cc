#include "http/router.h"

#include "http/cors.h"
#include "http/handlers.h"

namespace divan::http {
namespace {

// A database name may start with '_' only if it is a system database.
bool is_system_db(const std::string& name) {
  return name == "_users" || name == "_replicator" || name == "_global_changes";
}

void route_server(Ctx& ctx, const std::string& name) {
  if (name == "_all_dbs") return handle_all_dbs(ctx);
  if (name == "_up") return handle_up(ctx);
  if (name == "_uuids") return handle_uuids(ctx);
  if (name == "_session") return handle_session(ctx);
  if (name == "_replicate") return handle_replicate(ctx);
  if (name == "_active_tasks") return handle_active_tasks(ctx);
  ctx.error(HttpError::bad_request("Unknown server endpoint: " + name));
}

void route_db(Ctx& ctx, const std::string& db, const std::vector<std::string>& p) {
  if (p.size() == 1) return handle_db(ctx, db);
  const std::string& sub = p[1];
  if (sub == "_design" || sub == "_local") {
    // "/db/_design/name" and "/db/_local/name": the prefix is part of the id.
    if (p.size() < 3) return ctx.error(HttpError::not_found("missing"));
    std::string id = sub + "/" + p[2];
    if (p.size() == 3) return handle_doc(ctx, db, id);
    if (p.size() == 4) return handle_attachment(ctx, db, id, p[3]);
    return ctx.error(HttpError::not_found("missing"));
  }
  if (p.size() == 2 && !sub.empty() && sub[0] == '_' && !sub.starts_with("_design/") &&
      !sub.starts_with("_local/")) {
    if (sub == "_all_docs") return handle_all_docs(ctx, db, AllDocsKind::kAll);
    if (sub == "_design_docs") return handle_all_docs(ctx, db, AllDocsKind::kDesign);
    if (sub == "_local_docs") return handle_all_docs(ctx, db, AllDocsKind::kLocal);
    if (sub == "_bulk_docs") return handle_bulk_docs(ctx, db);
    if (sub == "_bulk_get") return handle_bulk_get(ctx, db);
    if (sub == "_revs_diff") return handle_revs_diff(ctx, db);
    if (sub == "_changes") return handle_changes(ctx, db);
    if (sub == "_revs_limit") return handle_revs_limit(ctx, db);
    if (sub == "_compact") return handle_compact(ctx, db);
    if (sub == "_ensure_full_commit") return handle_ensure_full_commit(ctx, db);
    if (sub == "_security") return handle_security(ctx, db);
    // Anything else starting with '_' is an illegal document id, as CouchDB
    // answers (handle_doc checks the id).
  }
  if (p.size() == 2) return handle_doc(ctx, db, sub);
  if (p.size() == 3) return handle_attachment(ctx, db, sub, p[2]);
  ctx.error(HttpError::not_found("missing"));
}

}  // namespace

void route(Ctx& ctx) {
  if (apply_cors(ctx)) return;  // a preflight, answered
  const auto& p = ctx.path();
  if (p.empty()) return handle_welcome(ctx);
  const std::string& first = p[0];
  if (!first.empty() && first[0] == '_' && !is_system_db(first)) {
    if (p.size() == 1) return route_server(ctx, first);
    if (first == "_scheduler" && p.size() == 2) return handle_scheduler(ctx, p[1]);
    return ctx.error(HttpError::not_found("missing"));
  }
  route_db(ctx, first, p);
}

}  // namespace divan::http
