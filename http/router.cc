#include "http/router.h"

#include "http/authz.h"
#include "http/cors.h"
#include "http/handlers.h"

namespace divan::http {
namespace {

// A database name may start with '_' only if it is a system database.
bool is_system_db(const std::string& name) {
  return name == "_users" || name == "_replicator" || name == "_global_changes";
}

void route_server(Ctx& ctx, const std::string& name) {
  if (name == "_all_dbs") return require_server_admin(ctx) ? handle_all_dbs(ctx) : void();
  if (name == "_dbs_info") return require_server_admin(ctx) ? handle_dbs_info(ctx) : void();
  if (name == "_up") return handle_up(ctx);
  if (name == "_uuids") return handle_uuids(ctx);
  if (name == "_session") return handle_session(ctx);
  if (name == "_replicate") return handle_replicate(ctx);
  if (name == "_active_tasks") return require_server_admin(ctx) ? handle_active_tasks(ctx) : void();
  ctx.error(HttpError::bad_request("Unknown server endpoint: " + name));
}

// What a request about database `db` needs (couchdb-semantics.md §7.5).
// p[0] is the database.
Access db_access(const Ctx& ctx, const std::string& db, const std::vector<std::string>& p) {
  const bool read = ctx.is("GET") || ctx.is("HEAD");
  if (p.size() == 1) {
    if (ctx.is("PUT") || ctx.is("DELETE") || db == "_users" || db == "_replicator") {
      return Access::kServerAdmin;
    }
    return Access::kMember;  // POST /db checks a design document itself
  }
  const std::string& sub = p[1];
  // "/db/_design/x", or "/db/_design%2Fx" (one decoded segment).
  const bool design = sub == "_design" || sub.starts_with("_design/");
  const bool local = sub == "_local" || sub.starts_with("_local/");
  const bool special = !design && !local && !sub.empty() && sub[0] == '_';
  if (db == "_users") {
    // Users read and write their own documents by the rules of the
    // handlers; everything else of _users is for server admins.
    return design || local || special ? Access::kServerAdmin : Access::kAnyone;
  }
  // Replication jobs may name local databases, which the replicator opens
  // directly, past their _security: only server admins may see or write
  // them, whatever the _replicator database's own _security says.
  if (db == "_replicator") return Access::kServerAdmin;
  if (design) return read ? Access::kMember : Access::kDbAdmin;
  if (sub == "_security" || sub == "_revs_limit") return read ? Access::kMember : Access::kDbAdmin;
  if (sub == "_compact") return Access::kDbAdmin;
  // Documents, _local documents and the rest; _bulk_docs checks design
  // documents one by one.
  return Access::kMember;
}

// CouchDB endpoints of a database that divan does not serve: the reason to
// give, or nullptr. Without this they would fall through to the document
// handlers and get answers about document ids or content types (POST
// /db/_find: "Content-Type must be multipart/form-data"), which would send
// a PouchDB user looking for the wrong mistake.
const char* unsupported_db_endpoint(const std::vector<std::string>& p) {
  static constexpr const char* kMango = "Mango queries (_find, _index, _explain) are not supported by this version of divan.";
  static constexpr const char* kViews =
      "Design document functions (views, shows, lists, updates, rewrites, search) are not supported by this "
      "version of divan; design documents are stored and replicated as documents.";
  const std::string& sub = p[1];
  if (sub == "_find" || sub == "_index" || sub == "_explain") return kMango;
  if (sub == "_purge" || sub == "_purged_infos_limit") return "Purge is not supported by this version of divan.";
  if (sub == "_view_cleanup" || (sub == "_compact" && p.size() > 2)) return kViews;
  if (sub == "_partition") return "Partitioned databases are not supported by this version of divan.";
  if (sub == "_shards" || sub == "_sync_shards") return "divan is a single node: a database has no shards.";
  if ((sub == "_all_docs" || sub == "_design_docs" || sub == "_local_docs") && p.size() == 3 &&
      p[2] == "queries") {
    return "Multiple queries in one request (/queries) are not supported by this version of divan.";
  }
  // "/db/_design/x/_view/v" and the like (attachment names may not start
  // with '_').
  if (sub == "_design" && p.size() >= 4 && !p[3].empty() && p[3][0] == '_') return kViews;
  return nullptr;
}

void route_db(Ctx& ctx, const std::string& db, const std::vector<std::string>& p) {
  // Creating a database is the one request about a database that may not
  // exist; it needs a server admin, checked before the database is opened.
  if (p.size() == 1 && ctx.is("PUT")) return require_server_admin(ctx) ? handle_db(ctx, db) : void();
  if (!authorize_db(ctx, db, db_access(ctx, db, p))) return;
  if (p.size() == 1) return handle_db(ctx, db);
  if (const char* reason = unsupported_db_endpoint(p)) return ctx.error(HttpError::not_implemented(reason));
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
    if (first == "_scheduler" && p.size() == 2) {
      return require_server_admin(ctx) ? handle_scheduler(ctx, p[1]) : void();
    }
    return ctx.error(HttpError::not_found("missing"));
  }
  route_db(ctx, first, p);
}

}  // namespace divan::http
