// The rules the system databases put on reading and writing their
// documents, as the document handlers apply them (couchdb-semantics.md
// §6.14, §7.4):
//
//   _users       users read only their own document (users_db::check_read)
//                and write by the rules of users_db::prepare_write, which
//                also hashes a password given in clear.
//   _replicator  credentials are never shown (redact_replication_doc), and
//                a "*****" written back keeps the stored secret
//                (restore_redacted_credentials).
//
// Every other database passes through unchanged.
#ifndef DIVAN_HTTP_SYSTEM_DOCS_H_
#define DIVAN_HTTP_SYSTEM_DOCS_H_

#include <string>
#include <string_view>

#include "divan/database.h"
#include "divan/status.h"
#include "http/context.h"

namespace divan::http {

// Whether `db` holds replication documents: "_replicator", or a name
// ending in "/_replicator" as CouchDB allows.
bool is_replicator_db(std::string_view db);

// Whether the user of `ctx` may read document `doc_id` of database `db`
// (any form: the winner, a revision, open_revs, an attachment). Only
// `_users` restricts it. Errors: not_found "missing" for another user's
// document, forbidden for a `_users` design document.
Status check_doc_read(const Ctx& ctx, std::string_view db, std::string_view doc_id);

// The JSON of `doc`, read from database `db`, as a client is shown it: a
// `_replicator` document with its credentials redacted.
std::string doc_json_for_read(std::string_view db, const Document& doc);

// The body to store for a write of `body` (a JSON object; `deleted` for a
// deletion) to document `doc_id` of `db` by the user of `ctx`, given the
// database as `database`: for `_users`, prepare_write's (password hashed);
// for `_replicator` with `new_edits`, credentials given as "*****" put back
// from the current document; otherwise `body` itself. Reads the current
// winner when needed.
// Errors: prepare_write's (forbidden, not_found for another user's
// document, bad_request); storage errors reading the current document.
Result<std::string> doc_body_for_write(Ctx& ctx, Database& database, std::string_view db,
                                       std::string_view doc_id, std::string_view body,
                                       bool deleted, bool new_edits);

// Whether doc_body_for_write() may change a write to `db`.
bool has_write_rules(std::string_view db, bool new_edits);

}  // namespace divan::http

#endif  // DIVAN_HTTP_SYSTEM_DOCS_H_
