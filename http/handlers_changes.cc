// The changes feed. (Being written: answers 501 until then.)
#include "http/handlers.h"

namespace divan::http {

void handle_changes(Ctx& ctx, const std::string&) { ctx.error(HttpError::not_implemented("not yet")); }

}  // namespace divan::http
