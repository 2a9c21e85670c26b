// Authorisation: what a request may do, from its user and the database's
// `_security` (couchdb-semantics.md §7.5-7.6). The router asks before it
// dispatches; handlers that decide per document (design documents in
// _bulk_docs, the `_users` rules) read Ctx::db_admin().
#ifndef DIVAN_HTTP_AUTHZ_H_
#define DIVAN_HTTP_AUTHZ_H_

#include <string>

#include "http/context.h"

namespace divan::http {

enum class Access {
  kAnyone,       // no check (the handler applies its own rules)
  kMember,       // a member of the database (anyone, if it is public)
  kDbAdmin,      // an admin of the database
  kServerAdmin,  // a server admin
};

// True if the user of `ctx` is a server admin; otherwise answers 401
// "You are not a server admin." (CouchDB answers 401 even to a signed-in
// user) and returns false.
bool require_server_admin(Ctx& ctx);

// True if the user of `ctx` has `need` on database `db`, recording in ctx
// whether they are its admin. Otherwise answers and returns false: 404 if
// the database does not exist, 401 "You are not authorized to access this
// db." to anonymous users and 403 "You are not allowed to access this db."
// to signed-in ones lacking membership, 401 "You are not a db or server
// admin." lacking admin rights.
bool authorize_db(Ctx& ctx, const std::string& db, Access need);

// The error for a design document written by a non-admin, per document in
// _bulk_docs or for a single PUT.
HttpError not_db_admin();

}  // namespace divan::http

#endif  // DIVAN_HTTP_AUTHZ_H_
