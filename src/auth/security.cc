// UserCtx and SecurityObject (divan/auth.h).
#include <rapidjson/document.h>

#include <algorithm>

#include "divan/auth.h"

namespace divan {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Reads {"names":[...],"roles":[...]}; non-string entries are refused.
Status read_group(const rapidjson::Value& v, const char* what, std::vector<std::string>* names,
                  std::vector<std::string>* roles) {
  if (!v.IsObject()) return Status::bad_request(std::string(what) + " must be a JSON object");
  for (auto [key, out] : {std::pair{"names", names}, std::pair{"roles", roles}}) {
    auto it = v.FindMember(key);
    if (it == v.MemberEnd()) continue;
    if (!it->value.IsArray()) {
      return Status::bad_request(std::string(key) + " must be a JSON list of strings");
    }
    for (const auto& s : it->value.GetArray()) {
      if (!s.IsString()) return Status::bad_request(std::string(key) + " must be a JSON list of strings");
      out->emplace_back(s.GetString(), s.GetStringLength());
    }
  }
  return Status::ok();
}

}  // namespace

bool UserCtx::has_role(std::string_view role) const { return contains(roles, role); }

bool SecurityObject::Group::contains(const UserCtx& user) const {
  if (user.name && divan::contains(names, *user.name)) return true;
  return std::any_of(user.roles.begin(), user.roles.end(),
                     [&](const std::string& r) { return divan::contains(roles, r); });
}

Result<SecurityObject> SecurityObject::parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) {
    return Status::bad_request("the security object must be a JSON object");
  }
  SecurityObject out;
  if (auto a = d.FindMember("admins"); a != d.MemberEnd()) {
    if (Status s = read_group(a->value, "admins", &out.admins_.names, &out.admins_.roles); !s.is_ok()) {
      return s;
    }
  }
  auto m = d.FindMember("members");
  if (m == d.MemberEnd()) m = d.FindMember("readers");
  if (m != d.MemberEnd()) {
    if (Status s = read_group(m->value, "members", &out.members_.names, &out.members_.roles); !s.is_ok()) {
      return s;
    }
  }
  return out;
}

bool SecurityObject::is_admin(const UserCtx& user) const {
  return user.is_server_admin() || admins_.contains(user);
}

bool SecurityObject::is_member(const UserCtx& user) const {
  return is_admin(user) || members_.empty() || members_.contains(user);
}

}  // namespace divan
