// divan/auth.h: users, passwords and per-database authorisation, as
// CouchDB 3.x has them (couchdb-semantics.md §7).
//
// The core stores users (the `_users` database) and security objects; this
// header holds the rules over them, with no HTTP in it, so that a server
// (divan's own, or one an application embeds) applies them the same way:
//
//   UserCtx         who a request acts as: a name (none when anonymous) and
//                   roles; server admins have the role "_admin".
//   SecurityObject  a database's `_security`: who are its admins and members.
//   Credentials     a stored password (an `[admins]` hash or a `_users`
//                   document's PBKDF2 fields) that a password is checked
//                   against, in constant time.
//   UsersDb         the rules of the `_users` database: who may read and
//                   write which user document, and hashing of a password
//                   given in clear.
//
// Thread-safety: the functions are pure; the classes are values.
#ifndef DIVAN_AUTH_H_
#define DIVAN_AUTH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/options.h"
#include "divan/status.h"

namespace divan {

// The role that makes a user a server admin.
inline constexpr std::string_view kAdminRole = "_admin";

struct UserCtx {
  std::optional<std::string> name;  // nullopt: anonymous
  std::vector<std::string> roles;

  bool is_anonymous() const { return !name.has_value(); }
  bool has_role(std::string_view role) const;
  bool is_server_admin() const { return has_role(kAdminRole); }
};

// A database's security object (`_security`):
//   {"admins":{"names":[...],"roles":[...]},"members":{"names":[...],"roles":[...]}}
// A missing section or list is empty; the legacy key "readers" is read as
// "members".
class SecurityObject {
 public:
  // Errors: bad_request for text that is not such an object.
  static Result<SecurityObject> parse(std::string_view json);

  // A server admin, or a name or role listed in `admins`.
  bool is_admin(const UserCtx& user) const;
  // An admin, anyone at all when `members` lists nobody (a public
  // database), or a name or role listed in `members`.
  bool is_member(const UserCtx& user) const;

 private:
  struct Group {
    std::vector<std::string> names, roles;
    bool empty() const { return names.empty() && roles.empty(); }
    bool contains(const UserCtx& user) const;
  };
  Group admins_, members_;
};

// The security object CouchDB 3.x gives new databases ([couchdb]
// default_security = admin_only): server admins only, until changed.
inline constexpr std::string_view kAdminOnlySecurity =
    R"({"members":{"roles":["_admin"]},"admins":{"roles":["_admin"]}})";

// Iterations of PBKDF2-SHA256 for new password hashes when nothing else is
// configured (CouchDB 3.4's default).
inline constexpr std::uint32_t kDefaultPasswordIterations = 600000;

// hex(PBKDF2-HMAC-`prf`(password, salt, iterations)), with a key as long as
// the hash's output, as CouchDB computes it (the salt is used as given, not
// hex-decoded). `prf` is one of sha, sha224, sha256, sha384, sha512.
// Errors: bad_request for another prf or zero iterations.
Result<std::string> pbkdf2_hex(std::string_view prf, std::string_view password,
                               std::string_view salt, std::uint32_t iterations);

// Compares two secrets in time that does not depend on where they differ.
bool timing_safe_equal(std::string_view a, std::string_view b);

// A new random salt: 32 hex digits, as CouchDB's.
std::string random_salt(RandomSource& random);

// An `[admins]` value for `password`: "-pbkdf2:sha256-<key>,<salt>,<iterations>".
std::string hash_admin_password(std::string_view password, std::uint32_t iterations,
                                RandomSource& random);

// Whether an `[admins]` value is a hash (any form CouchDB writes) rather
// than a password in clear.
bool is_hashed_admin_password(std::string_view value);

class Credentials {
 public:
  // From an `[admins]` hash: "-pbkdf2:<prf>-<key>,<salt>,<iterations>",
  // "-pbkdf2-<key>,<salt>,<iterations>" (SHA-1) or "-hashed-<sha1>,<salt>".
  // Errors: bad_request.
  static Result<Credentials> from_admin_hash(std::string_view value);
  // From a `_users` document body (password_scheme pbkdf2 or simple).
  // Errors: bad_request when it holds no usable password.
  static Result<Credentials> from_user_doc(std::string_view json);

  // Whether `password` is the one stored (slow: PBKDF2 by design).
  bool verify(std::string_view password) const;
  // The stored salt, which keys the user's session cookies.
  const std::string& salt() const { return salt_; }
  // The stored derived key (hex), for caches of verified passwords.
  const std::string& key() const { return key_; }

 private:
  std::string scheme_;  // "pbkdf2" or "simple"
  std::string prf_;     // for pbkdf2
  std::string key_, salt_;
  std::uint32_t iterations_ = 0;
};

// The `_users` database.
namespace users_db {

inline constexpr std::string_view kName = "_users";
inline constexpr std::string_view kDocPrefix = "org.couchdb.user:";

// The user name of a document id "org.couchdb.user:NAME", or nullopt.
std::optional<std::string> user_name_of(std::string_view doc_id);

// Checks a write of `body` (JSON object text; `deleted` for a deletion) to
// `_users` document `doc_id` by `writer`, given the current body of the
// document (nullopt when it does not exist or is deleted), and returns the
// body to store: a `password` given in clear is replaced by
// password_scheme "pbkdf2", pbkdf2_prf "sha256", iterations, salt and
// derived_key. The rules are those of CouchDB's `_design/_auth`:
//   - design documents: server admins only;
//   - `type` must be "user", `name` a string matching the id, which may not
//     start with '_' nor contain ':'; `roles` an array of strings;
//   - a server admin may write anything that passes those checks;
//   - anyone else may write only a document with their own name (an
//     anonymous user may create a new one: signing up), may not set or
//     change `roles` (a new document's roles must be empty), and may not
//     delete another user's document.
// Errors: forbidden (a rule, with CouchDB's message), not_found (another
// user's document, as CouchDB hides it), bad_request (malformed JSON).
Result<std::string> prepare_write(std::string_view doc_id, std::string_view body, bool deleted,
                                  const std::optional<std::string>& current,
                                  const UserCtx& writer, std::uint32_t iterations,
                                  RandomSource& random);

// Whether `reader` may read `_users` document `doc_id`: server admins any;
// others only their own (design documents: forbidden; others: not_found).
Status check_read(std::string_view doc_id, const UserCtx& reader);

// The roles of a stored, live user document ("roles" strings; others
// ignored).
std::vector<std::string> roles_of(std::string_view json);

}  // namespace users_db

}  // namespace divan

#endif  // DIVAN_AUTH_H_
