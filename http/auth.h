// Authentication: who a request acts as (couchdb-semantics.md §7.1-7.3).
//
// A request names its user with HTTP Basic credentials or an AuthSession
// cookie from POST /_session. Names are looked up in the server admins of
// the config first, then in the `_users` database. Passwords are checked
// with PBKDF2 (slow by design); a password once verified is remembered as
// an HMAC keyed with a per-process secret and bound to the stored hash, so
// that a client sending Basic credentials with every request pays for
// PBKDF2 once, and a changed password is never served from the cache.
//
// Failed logins are bounded per client address: beyond
// max_failed_logins_per_second failures within one second, credentials
// from that address are refused with 429 until the second is over,
// without checking them (so guessing is slow and cannot hog the CPU).
//
// Thread-safety: every method is thread-safe.
#ifndef DIVAN_HTTP_AUTH_H_
#define DIVAN_HTTP_AUTH_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "divan/auth.h"
#include "divan/data_dir.h"
#include "divan/options.h"
#include "http/http_error.h"

namespace divan::http {

struct AuthOptions {
  // Server admins: name -> hashed password (an `[admins]` value; clear
  // passwords are hashed before they get here).
  std::map<std::string, std::string> admins;
  // No admins: every request without credentials acts as a server admin.
  // Only with --insecure-admin-party.
  bool admin_party = false;
  // PBKDF2-SHA256 iterations for new hashes (CouchDB's [chttpd_auth]
  // iterations).
  std::uint32_t iterations = kDefaultPasswordIterations;
  // The key of session cookies ([chttpd_auth] secret). Empty: the server
  // makes one and keeps it in its data folder, so sessions survive restarts.
  std::string secret;
  // How long a session cookie lives ([chttpd_auth] timeout), and whether it
  // carries Max-Age (allow_persistent_cookies).
  std::chrono::seconds cookie_timeout{600};
  bool persistent_cookies = true;
  // Failed logins accepted per client address and second.
  unsigned max_failed_logins_per_second = 10;
};

// Who a request acts as, and how that was established.
struct Identity {
  UserCtx user;
  // "cookie", "default" (Basic) or empty (no credentials).
  std::string method;
  // A fresh AuthSession cookie to set on the response (an old-enough
  // session cookie is refreshed, as CouchDB does).
  std::optional<std::string> set_cookie;
};

class Authenticator {
 public:
  // `data_dir` holds `_users`; `clock` and `random` must outlive this.
  Authenticator(AuthOptions options, DataDir& data_dir, Clock& clock, RandomSource& random);

  const AuthOptions& options() const { return options_; }

  // Identifies the sender of a request from its Authorization and Cookie
  // headers into `*out`. `remote` is the client's address (for the
  // failed-login bound) and `tls` whether cookies are to be marked Secure.
  // Errors: 401 wrong name or password, 400 a malformed header or cookie,
  // 429 too many failed logins.
  std::optional<HttpError> identify(const std::string& authorization, const std::string& cookie,
                                    const std::string& remote, bool tls, Identity* out);
  // POST /_session: checks a name and password and makes a session cookie.
  // Errors as identify().
  std::optional<HttpError> login(const std::string& name, const std::string& password,
                                 const std::string& remote, bool tls, Identity* out);

  // A Set-Cookie value that clears the session cookie (DELETE /_session,
  // failed logins).
  std::string clearing_cookie(bool tls) const;

 private:
  struct Found {
    UserCtx user;
    Credentials credentials;
  };
  // The admin or `_users` user `name`, or nullopt if there is none.
  std::optional<Found> find_user(const std::string& name);
  // Checks `password` for `name` into `*user`; 401 on a mismatch, 429
  // beyond the failed-login bound.
  std::optional<HttpError> check_password(const std::string& name, const std::string& password,
                                          const std::string& remote, Found* user);
  std::string cookie_for(const std::string& name, const std::string& salt, std::int64_t time,
                         bool tls) const;
  std::string cookie_mac(const std::string& name, const std::string& salt,
                         const std::string& time_hex) const;
  // The failed-login bound: may `remote` try now; record a failure.
  bool may_try(const std::string& remote);
  void failed(const std::string& remote);
  // The verified-password cache.
  std::string cache_key(const std::string& name, const std::string& password,
                        const Credentials& c) const;

  const AuthOptions options_;
  DataDir& data_dir_;
  Clock& clock_;
  std::map<std::string, Credentials> admins_;  // parsed options_.admins
  std::string secret_;
  std::string cache_secret_;  // random per process

  std::mutex mu_;
  std::unordered_map<std::string, std::string> verified_;  // name -> cache_key
  struct Failures {
    std::int64_t second = 0;
    unsigned count = 0;
  };
  std::unordered_map<std::string, Failures> failures_;
};

// Makes or reads the cookie secret kept in `data_dir_path` (mode 0600).
Result<std::string> load_or_make_secret(const std::string& data_dir_path, RandomSource& random);

}  // namespace divan::http

#endif  // DIVAN_HTTP_AUTH_H_
