// CORS, so browser clients (PouchDB in a web page) can use the server.
#ifndef DIVAN_HTTP_CORS_H_
#define DIVAN_HTTP_CORS_H_

#include "http/context.h"

namespace divan::http {

// Adds CORS headers for an allowed Origin. Returns true if the request was
// a preflight (OPTIONS with Access-Control-Request-Method) and has been
// answered.
bool apply_cors(Ctx& ctx);

}  // namespace divan::http

#endif  // DIVAN_HTTP_CORS_H_
