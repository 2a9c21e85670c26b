// The rules of the `_users` database (divan/auth.h), after CouchDB's
// couch_users_db.erl and the validate function of its `_design/_auth`.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "divan/auth.h"

namespace divan::users_db {
namespace {

Status forbidden(std::string reason) { return Status(ErrorCode::kForbidden, std::move(reason)); }
Status hidden() { return Status(ErrorCode::kNotFound, "missing"); }

bool is_design(std::string_view id) { return id.starts_with("_design/"); }

std::vector<std::string> string_array(const rapidjson::Value& v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  for (const auto& s : v.GetArray()) {
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return out;
}

std::vector<std::string> roles_in(const rapidjson::Document& d) {
  auto it = d.FindMember("roles");
  return it == d.MemberEnd() ? std::vector<std::string>() : string_array(it->value);
}

// The checks of `_design/_auth` on a live document.
Status validate(std::string_view doc_id, const rapidjson::Document& doc,
                const rapidjson::Document* old, bool admin) {
  auto type = doc.FindMember("type");
  if (type == doc.MemberEnd() || !type->value.IsString() || std::string_view(type->value.GetString()) != "user") {
    return forbidden("doc.type must be user");
  }
  auto name = doc.FindMember("name");
  if (name == doc.MemberEnd() || !name->value.IsString() || name->value.GetStringLength() == 0) {
    return forbidden("doc.name is required");
  }
  std::string user(name->value.GetString(), name->value.GetStringLength());
  auto roles = doc.FindMember("roles");
  if (roles == doc.MemberEnd()) return forbidden("doc.roles must exist");
  if (!roles->value.IsArray()) return forbidden("doc.roles must be an array");
  for (const auto& r : roles->value.GetArray()) {
    if (!r.IsString()) return forbidden("doc.roles can only contain strings");
  }
  if (doc_id != std::string(kDocPrefix) + user) {
    return forbidden("Doc ID must be of the form org.couchdb.user:name");
  }
  if (old != nullptr) {
    auto old_name = old->FindMember("name");
    if (old_name != old->MemberEnd() && old_name->value.IsString() &&
        std::string_view(old_name->value.GetString(), old_name->value.GetStringLength()) != user) {
      return forbidden("Usernames can not be changed.");
    }
  }
  auto new_roles = roles_in(doc);
  if (!admin) {
    if (old != nullptr) {
      if (roles_in(*old) != new_roles) return forbidden("Only _admin may edit roles");
    } else if (!new_roles.empty()) {
      return forbidden("Only _admin may set roles");
    }
  }
  for (const auto& r : new_roles) {
    if (!r.empty() && r[0] == '_') {
      return forbidden("No system roles (starting with underscore) in users db.");
    }
  }
  if (user[0] == '_') return forbidden("Username may not start with underscore.");
  if (user.find(':') != std::string::npos) {
    return forbidden("Character `:` is not allowed in usernames.");
  }
  return Status::ok();
}

void set_member(rapidjson::Document& d, const char* key, rapidjson::Value v) {
  auto& a = d.GetAllocator();
  if (auto it = d.FindMember(key); it != d.MemberEnd()) {
    it->value = v;
  } else {
    d.AddMember(rapidjson::Value(key, a), v, a);
  }
}

std::string to_text(const rapidjson::Document& d) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::optional<std::string> user_name_of(std::string_view doc_id) {
  if (!doc_id.starts_with(kDocPrefix)) return std::nullopt;
  return std::string(doc_id.substr(kDocPrefix.size()));
}

Result<std::string> prepare_write(std::string_view doc_id, std::string_view body, bool deleted,
                                  const std::optional<std::string>& current,
                                  const UserCtx& writer, std::uint32_t iterations,
                                  RandomSource& random) {
  const bool admin = writer.is_server_admin();
  if (is_design(doc_id)) {
    if (!admin) return forbidden("Only administrators can change design docs in the users database.");
    return std::string(body);
  }
  // Another user's document is hidden, as when reading it; an anonymous
  // user may only sign up (create a document that does not exist).
  auto owner = user_name_of(doc_id);
  if (!admin) {
    bool own = writer.name && owner && *writer.name == *owner;
    if (!own && !(writer.is_anonymous() && !current && !deleted)) return hidden();
  }
  rapidjson::Document old;
  if (current) {
    old.Parse(current->data(), current->size());
    if (old.HasParseError() || !old.IsObject()) old.SetObject();
  }
  if (deleted) return std::string(body);  // admins, and users their own
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::bad_request("invalid UTF-8 JSON");
  if (Status s = validate(doc_id, doc, current ? &old : nullptr, admin); !s.is_ok()) return s;

  auto password = doc.FindMember("password");
  if (password == doc.MemberEnd() || password->value.IsNull()) return std::string(body);
  if (!password->value.IsString()) return forbidden("Password value is invalid.");
  std::string clear(password->value.GetString(), password->value.GetStringLength());
  std::string salt = random_salt(random);
  auto key = pbkdf2_hex("sha256", clear, salt, iterations);
  if (!key.is_ok()) return key.status();
  doc.RemoveMember("password");
  auto& a = doc.GetAllocator();
  set_member(doc, "password_scheme", rapidjson::Value("pbkdf2", a));
  set_member(doc, "pbkdf2_prf", rapidjson::Value("sha256", a));
  set_member(doc, "iterations", rapidjson::Value(iterations));
  set_member(doc, "derived_key", rapidjson::Value(key->c_str(), a));
  set_member(doc, "salt", rapidjson::Value(salt.c_str(), a));
  doc.RemoveMember("password_sha");  // a replaced legacy hash
  return to_text(doc);
}

Status check_read(std::string_view doc_id, const UserCtx& reader) {
  if (reader.is_server_admin()) return Status::ok();
  if (is_design(doc_id)) {
    return forbidden("Only administrators can view design docs in the users database.");
  }
  auto owner = user_name_of(doc_id);
  if (reader.name && owner && *reader.name == *owner) return Status::ok();
  return hidden();
}

std::vector<std::string> roles_of(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return {};
  return roles_in(d);
}

}  // namespace divan::users_db
