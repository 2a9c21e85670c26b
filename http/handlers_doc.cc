// Document endpoints. (Being written: answers 501 until then.)
#include "http/handlers.h"

namespace divan::http {

void handle_doc(Ctx& ctx, const std::string&, const std::string&) {
  ctx.error(HttpError::not_implemented("not yet"));
}

void handle_attachment(Ctx& ctx, const std::string&, const std::string&, const std::string&) {
  ctx.error(HttpError::not_implemented("not yet"));
}

}  // namespace divan::http
