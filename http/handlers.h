// The endpoint handlers, one group per file. Each answers the request in
// `ctx` completely, errors included. `db` and `id` are decoded.
#ifndef DIVAN_HTTP_HANDLERS_H_
#define DIVAN_HTTP_HANDLERS_H_

#include <string>

#include "http/context.h"

namespace divan::http {

// handlers_server.cc: GET /, /_up, /_all_dbs, /_uuids, /_session
void handle_welcome(Ctx& ctx);
void handle_up(Ctx& ctx);
void handle_all_dbs(Ctx& ctx);
// GET /_dbs_info (the databases _all_dbs would list, with their info) and
// POST /_dbs_info {"keys": [...]} (those databases, or "error":"not_found").
void handle_dbs_info(Ctx& ctx);
// GET /{db}'s body.
std::string db_info_json(const DatabaseInfo& info);
void handle_uuids(Ctx& ctx);
void handle_session(Ctx& ctx);
void handle_replicate(Ctx& ctx);
void handle_active_tasks(Ctx& ctx);
void handle_scheduler(Ctx& ctx, const std::string& what);  // jobs, docs

// handlers_db.cc: /{db} and its maintenance endpoints
void handle_db(Ctx& ctx, const std::string& db);  // PUT, GET, HEAD, DELETE, POST
void handle_revs_limit(Ctx& ctx, const std::string& db);
void handle_compact(Ctx& ctx, const std::string& db);
void handle_ensure_full_commit(Ctx& ctx, const std::string& db);
void handle_security(Ctx& ctx, const std::string& db);

// handlers_doc.cc: /{db}/{docid}, /{db}/_design/{name}, /{db}/_local/{name}
void handle_doc(Ctx& ctx, const std::string& db, const std::string& id);
// /{db}/{docid}/{attachment}: attachments come in a later version.
void handle_attachment(Ctx& ctx, const std::string& db, const std::string& id,
                       const std::string& name);

// handlers_bulk.cc: _bulk_docs, _bulk_get, _revs_diff, _all_docs and friends
void handle_bulk_docs(Ctx& ctx, const std::string& db);
void handle_bulk_get(Ctx& ctx, const std::string& db);
void handle_revs_diff(Ctx& ctx, const std::string& db);
enum class AllDocsKind { kAll, kDesign, kLocal };
void handle_all_docs(Ctx& ctx, const std::string& db, AllDocsKind kind);

// handlers_changes.cc: _changes, all feed modes
void handle_changes(Ctx& ctx, const std::string& db);

}  // namespace divan::http

#endif  // DIVAN_HTTP_HANDLERS_H_
