#include "http/cors.h"

#include <algorithm>

#include "http/server.h"

namespace divan::http {

bool apply_cors(Ctx& ctx) {
  const CorsOptions& cors = ctx.server().options().cors;
  std::string origin = ctx.header("Origin");
  if (!cors.enabled || origin.empty()) return false;
  bool any = std::find(cors.origins.begin(), cors.origins.end(), "*") != cors.origins.end();
  bool listed = std::find(cors.origins.begin(), cors.origins.end(), origin) != cors.origins.end();
  if (!any && !listed) return false;  // no CORS headers: the browser refuses
  // With credentials a browser refuses "*": echo the origin instead.
  ctx.set_header("Access-Control-Allow-Origin", (any && !cors.credentials) ? "*" : origin);
  if (!any || cors.credentials) ctx.set_header("Vary", "Origin");
  if (cors.credentials) ctx.set_header("Access-Control-Allow-Credentials", "true");
  bool preflight = ctx.req().method == "OPTIONS" &&
                   !ctx.header("Access-Control-Request-Method").empty();
  if (!preflight) {
    ctx.set_header("Access-Control-Expose-Headers",
                   "content-type, cache-control, accept-ranges, etag, server, x-couch-request-id, "
                   "x-couch-update-newrev, x-couchdb-body-time");
    return false;
  }
  ctx.set_header("Access-Control-Allow-Methods", cors.methods);
  ctx.set_header("Access-Control-Allow-Headers", cors.headers);
  ctx.set_header("Access-Control-Max-Age", "600");
  ctx.res().status = 204;
  return true;
}

}  // namespace divan::http
