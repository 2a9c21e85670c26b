// Unit tests of divan/auth.h: password hashes in CouchDB's formats, the
// _security rules, and the rules of the _users database.
#include <doctest/doctest.h>

#include <string>

#include "divan/auth.h"

namespace divan {
namespace {

UserCtx anonymous() { return {}; }
UserCtx user(std::string name, std::vector<std::string> roles = {}) {
  return UserCtx{std::move(name), std::move(roles)};
}
UserCtx server_admin() { return user("root", {"_admin"}); }

TEST_CASE("pbkdf2_hex matches the published test vectors") {
  // RFC 6070 (HMAC-SHA1) and the SHA-256 vectors in common use.
  CHECK(pbkdf2_hex("sha", "password", "salt", 1).value() == "0c60c80f961f0e71f3a9b524af6012062fe037a6");
  CHECK(pbkdf2_hex("sha", "password", "salt", 2).value() == "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
  CHECK(pbkdf2_hex("sha256", "password", "salt", 1).value() ==
        "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
  CHECK(pbkdf2_hex("sha256", "password", "salt", 2).value() ==
        "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
  CHECK(pbkdf2_hex("md5", "password", "salt", 1).status().code() == ErrorCode::kBadRequest);
  CHECK(pbkdf2_hex("sha256", "password", "salt", 0).status().code() == ErrorCode::kBadRequest);
}

TEST_CASE("timing_safe_equal compares whole strings") {
  CHECK(timing_safe_equal("abc", "abc"));
  CHECK_FALSE(timing_safe_equal("abc", "abd"));
  CHECK_FALSE(timing_safe_equal("abc", "abcd"));
  CHECK(timing_safe_equal("", ""));
}

TEST_CASE("admin password hashes: written as -pbkdf2:sha256-, all CouchDB forms read") {
  std::string h = hash_admin_password("s3cret", 1000, *RandomSource::system());
  CHECK(h.starts_with("-pbkdf2:sha256-"));
  CHECK(is_hashed_admin_password(h));
  CHECK_FALSE(is_hashed_admin_password("s3cret"));
  CHECK(h.ends_with(",1000"));
  auto c = Credentials::from_admin_hash(h);
  REQUIRE(c.is_ok());
  CHECK(c->verify("s3cret"));
  CHECK_FALSE(c->verify("s3cret "));
  CHECK_FALSE(c->verify(""));
  CHECK(c->salt().size() == 32);
  // Two hashes of one password differ (fresh salts).
  CHECK(hash_admin_password("s3cret", 1000, *RandomSource::system()) != h);

  // The SHA-1 form of CouchDB 3.0-3.3, and the legacy "simple" form.
  std::string sha1 = "-pbkdf2-" + pbkdf2_hex("sha", "pw", "abc", 10).value() + ",abc,10";
  auto legacy = Credentials::from_admin_hash(sha1);
  REQUIRE(legacy.is_ok());
  CHECK(legacy->verify("pw"));
  CHECK_FALSE(legacy->verify("px"));
  // sha1("pw" + "salt1"), computed elsewhere
  auto simple = Credentials::from_admin_hash("-hashed-91eebe64cbbee95b726713aaa25cae9d5f530826,salt1");
  REQUIRE(simple.is_ok());
  CHECK(simple->verify("pw"));
  CHECK_FALSE(simple->verify("nope"));
  // Upper-case stored keys still match.
  std::string upper = "-pbkdf2:sha256-" + pbkdf2_hex("sha256", "pw", "s", 3).value() + ",s,3";
  for (std::size_t i = 15; i < upper.find(','); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  CHECK(Credentials::from_admin_hash(upper)->verify("pw"));

  for (const char* bad : {"-pbkdf2-abc", "-pbkdf2-a,b,c,d", "-pbkdf2-a,b,x", "-pbkdf2-a,b,0",
                          "-pbkdf2:md5-a,b,1", "-pbkdf2:sha256", "-hashed-abc", "plain"}) {
    CAPTURE(bad);
    CHECK(Credentials::from_admin_hash(bad).status().code() == ErrorCode::kBadRequest);
  }
}

TEST_CASE("user document credentials") {
  std::string key = pbkdf2_hex("sha256", "pw", "0123", 5).value();
  auto c = Credentials::from_user_doc(R"({"password_scheme":"pbkdf2","pbkdf2_prf":"sha256","iterations":5,"salt":"0123","derived_key":")" + key + R"("})");
  REQUIRE(c.is_ok());
  CHECK(c->verify("pw"));
  CHECK_FALSE(c->verify("pW"));
  // No pbkdf2_prf: SHA-1, as CouchDB before 3.4 wrote.
  std::string key1 = pbkdf2_hex("sha", "pw", "0123", 10).value();
  auto c1 = Credentials::from_user_doc(R"({"password_scheme":"pbkdf2","iterations":10,"salt":"0123","derived_key":")" + key1 + R"("})");
  REQUIRE(c1.is_ok());
  CHECK(c1->verify("pw"));
  for (const char* bad : {"{}", "[]", "nope", R"({"password_scheme":"pbkdf2","salt":"x"})",
                          R"({"password_scheme":"pbkdf2","salt":"x","derived_key":"y","iterations":0})",
                          R"({"password_scheme":"bcrypt","salt":"x","derived_key":"y"})"}) {
    CAPTURE(bad);
    CHECK(Credentials::from_user_doc(bad).status().code() == ErrorCode::kBadRequest);
  }
}

TEST_CASE("security objects: admins, members, public databases") {
  auto sec = SecurityObject::parse(
      R"({"admins":{"names":["alice"],"roles":["ops"]},"members":{"names":["bob"],"roles":["staff"]}})");
  REQUIRE(sec.is_ok());
  CHECK(sec->is_admin(server_admin()));
  CHECK(sec->is_admin(user("alice")));
  CHECK(sec->is_admin(user("x", {"ops"})));
  CHECK_FALSE(sec->is_admin(user("bob")));
  CHECK(sec->is_member(user("bob")));
  CHECK(sec->is_member(user("y", {"staff"})));
  CHECK(sec->is_member(user("alice")));
  CHECK_FALSE(sec->is_member(user("carol")));
  CHECK_FALSE(sec->is_member(anonymous()));

  // Empty members: public, but admins are still only admins.
  auto open = SecurityObject::parse(R"({"admins":{"names":["alice"]}})");
  REQUIRE(open.is_ok());
  CHECK(open->is_member(anonymous()));
  CHECK(open->is_member(user("carol")));
  CHECK_FALSE(open->is_admin(user("carol")));
  CHECK(SecurityObject::parse("{}")->is_member(anonymous()));

  // CouchDB 3's default for new databases: server admins only.
  auto only = SecurityObject::parse(kAdminOnlySecurity);
  REQUIRE(only.is_ok());
  CHECK(only->is_member(server_admin()));
  CHECK_FALSE(only->is_member(user("bob")));
  CHECK_FALSE(only->is_member(anonymous()));

  // Legacy "readers".
  CHECK_FALSE(SecurityObject::parse(R"({"readers":{"names":["bob"]}})")->is_member(user("carol")));

  for (const char* bad : {"[]", "x", R"({"admins":[]})", R"({"members":{"names":"bob"}})",
                          R"({"members":{"roles":[1]}})"}) {
    CAPTURE(bad);
    CHECK(SecurityObject::parse(bad).status().code() == ErrorCode::kBadRequest);
  }
}

// The _users rules, with a cheap iteration count.
Result<std::string> write(std::string_view id, std::string_view body, const UserCtx& who,
                          std::optional<std::string> current = std::nullopt, bool deleted = false) {
  return users_db::prepare_write(id, body, deleted, current, who, 3, *RandomSource::system());
}

TEST_CASE("_users: a password in clear is hashed on write") {
  auto out = write("org.couchdb.user:bob", R"({"type":"user","name":"bob","roles":[],"password":"pw"})", anonymous());
  REQUIRE(out.is_ok());
  CHECK(out->find("\"password\"") == std::string::npos);
  CHECK(out->find(R"("password_scheme":"pbkdf2")") != std::string::npos);
  CHECK(out->find(R"("pbkdf2_prf":"sha256")") != std::string::npos);
  CHECK(out->find(R"("iterations":3)") != std::string::npos);
  auto c = Credentials::from_user_doc(*out);
  REQUIRE(c.is_ok());
  CHECK(c->verify("pw"));
  CHECK_FALSE(c->verify("px"));
  // No password: stored as given.
  std::string plain = R"({"type":"user","name":"bob","roles":[]})";
  CHECK(write("org.couchdb.user:bob", plain, server_admin()).value() == plain);
}

TEST_CASE("_users: who may write what") {
  const std::string bob = R"({"type":"user","name":"bob","roles":[]})";
  const std::string bob_staff = R"({"type":"user","name":"bob","roles":["staff"]})";
  const std::string id = "org.couchdb.user:bob";
  auto code = [](const Result<std::string>& r) { return r.is_ok() ? ErrorCode::kOk : r.status().code(); };

  // Sign-up: anonymous may create, without roles.
  CHECK(code(write(id, bob, anonymous())) == ErrorCode::kOk);
  CHECK(code(write(id, bob_staff, anonymous())) == ErrorCode::kForbidden);
  // ...but not overwrite an existing user.
  CHECK(code(write(id, bob, anonymous(), bob)) == ErrorCode::kNotFound);
  // A user may update their own document, keeping the roles.
  CHECK(code(write(id, bob, user("bob"), bob)) == ErrorCode::kOk);
  CHECK(code(write(id, bob_staff, user("bob"), bob)) == ErrorCode::kForbidden);
  CHECK(code(write(id, bob, user("bob"), bob_staff)) == ErrorCode::kForbidden);
  CHECK(code(write(id, bob_staff, user("bob", {"staff"}), bob_staff)) == ErrorCode::kOk);
  // ...and nobody else's: hidden as not found.
  CHECK(code(write(id, bob, user("carol"), bob)) == ErrorCode::kNotFound);
  CHECK(code(write(id, bob, user("carol"))) == ErrorCode::kNotFound);
  CHECK(code(write(id, "{}", user("carol"), bob, /*deleted=*/true)) == ErrorCode::kNotFound);
  CHECK(code(write(id, "{}", user("bob"), bob, /*deleted=*/true)) == ErrorCode::kOk);
  // Admins set roles, but never system roles.
  CHECK(code(write(id, bob_staff, server_admin(), bob)) == ErrorCode::kOk);
  CHECK(code(write(id, R"({"type":"user","name":"bob","roles":["_admin"]})", server_admin())) ==
        ErrorCode::kForbidden);
  // Design documents: admins only.
  CHECK(code(write("_design/x", "{}", user("bob"))) == ErrorCode::kForbidden);
  CHECK(code(write("_design/x", "{}", server_admin())) == ErrorCode::kOk);
}

TEST_CASE("_users: malformed user documents are refused with CouchDB's reasons") {
  struct Case {
    const char* id;
    const char* body;
    const char* reason;
  };
  for (const Case& c : {
           Case{"org.couchdb.user:bob", R"({"name":"bob","roles":[]})", "doc.type must be user"},
           Case{"org.couchdb.user:bob", R"({"type":"user","roles":[]})", "doc.name is required"},
           Case{"org.couchdb.user:bob", R"({"type":"user","name":"bob"})", "doc.roles must exist"},
           Case{"org.couchdb.user:bob", R"({"type":"user","name":"bob","roles":"x"})", "doc.roles must be an array"},
           Case{"org.couchdb.user:bob", R"({"type":"user","name":"bob","roles":[1]})", "doc.roles can only contain strings"},
           Case{"org.couchdb.user:bob", R"({"type":"user","name":"rob","roles":[]})", "Doc ID must be of the form org.couchdb.user:name"},
           Case{"org.couchdb.user:_x", R"({"type":"user","name":"_x","roles":[]})", "Username may not start with underscore."},
           Case{"org.couchdb.user:a:b", R"({"type":"user","name":"a:b","roles":[]})", "Character `:` is not allowed in usernames."},
           Case{"org.couchdb.user:bob", R"({"type":"user","name":"bob","roles":[],"password":7})", "Password value is invalid."},
       }) {
    CAPTURE(c.body);
    auto r = write(c.id, c.body, server_admin());
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kForbidden);
    CHECK(r.status().reason() == c.reason);
  }
  CHECK(write("org.couchdb.user:bob", "{nope", server_admin()).status().code() == ErrorCode::kBadRequest);
  // A name cannot change.
  auto renamed = write("org.couchdb.user:bob", R"({"type":"user","name":"bob","roles":[]})", server_admin(),
                       std::string(R"({"type":"user","name":"rob","roles":[]})"));
  CHECK(renamed.status().reason() == "Usernames can not be changed.");
}

TEST_CASE("_users: who may read what") {
  CHECK(users_db::check_read("org.couchdb.user:bob", user("bob")).is_ok());
  CHECK(users_db::check_read("org.couchdb.user:bob", server_admin()).is_ok());
  CHECK(users_db::check_read("org.couchdb.user:bob", user("carol")).code() == ErrorCode::kNotFound);
  CHECK(users_db::check_read("org.couchdb.user:bob", anonymous()).code() == ErrorCode::kNotFound);
  CHECK(users_db::check_read("_design/_auth", user("bob")).code() == ErrorCode::kForbidden);
  CHECK(users_db::roles_of(R"({"roles":["a",1,"b"]})") == std::vector<std::string>{"a", "b"});
  CHECK(users_db::user_name_of("org.couchdb.user:bob") == "bob");
  CHECK_FALSE(users_db::user_name_of("bob").has_value());
}

}  // namespace
}  // namespace divan
