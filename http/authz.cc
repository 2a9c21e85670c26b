#include "http/authz.h"

#include "divan/auth.h"

namespace divan::http {

HttpError not_db_admin() { return {401, "unauthorized", "You are not a db or server admin.", {}}; }

bool require_server_admin(Ctx& ctx) {
  if (ctx.user().is_server_admin()) return true;
  ctx.error(HttpError{401, "unauthorized", "You are not a server admin.", {}});
  return false;
}

bool authorize_db(Ctx& ctx, const std::string& db, Access need) {
  if (need == Access::kServerAdmin) {
    if (!require_server_admin(ctx)) return false;
  }
  auto d = ctx.open_db(db);  // answers 404 for a missing database
  if (!d) return false;
  auto text = d->security();
  if (!text.is_ok()) {
    ctx.error(text.status());
    return false;
  }
  auto sec = SecurityObject::parse(*text);
  if (!sec.is_ok()) {
    ctx.error(sec.status());
    return false;
  }
  const UserCtx& user = ctx.user();
  ctx.set_db_admin(sec->is_admin(user));
  switch (need) {
    case Access::kAnyone:
    case Access::kServerAdmin:
      return true;
    case Access::kMember:
      if (sec->is_member(user)) return true;
      if (user.is_anonymous()) {
        ctx.error(HttpError{401, "unauthorized", "You are not authorized to access this db.", {}});
      } else {
        ctx.error(HttpError{403, "forbidden", "You are not allowed to access this db.", {}});
      }
      return false;
    case Access::kDbAdmin:
      if (ctx.db_admin()) return true;
      ctx.error(not_db_admin());
      return false;
  }
  return false;
}

}  // namespace divan::http
