// Bulk endpoints. (Being written: answers 501 until then.)
#include "http/handlers.h"

namespace divan::http {

void handle_bulk_docs(Ctx& ctx, const std::string&) { ctx.error(HttpError::not_implemented("not yet")); }
void handle_bulk_get(Ctx& ctx, const std::string&) { ctx.error(HttpError::not_implemented("not yet")); }
void handle_revs_diff(Ctx& ctx, const std::string&) { ctx.error(HttpError::not_implemented("not yet")); }
void handle_all_docs(Ctx& ctx, const std::string&, AllDocsKind) {
  ctx.error(HttpError::not_implemented("not yet"));
}

}  // namespace divan::http
