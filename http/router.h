// The route table: which handler answers a request, from its method and
// decoded path (CouchDB's URL layout, couchdb-semantics.md §2-5).
#ifndef DIVAN_HTTP_ROUTER_H_
#define DIVAN_HTTP_ROUTER_H_

#include "http/context.h"

namespace divan::http {

// Answers the request in `ctx`.
void route(Ctx& ctx);

}  // namespace divan::http

#endif  // DIVAN_HTTP_ROUTER_H_
