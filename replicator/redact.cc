// Credentials in replication requests: redact_url, redact_replication_doc
// and restore_redacted_credentials (divan/replication_scheduler.h).
//
// A replication endpoint holds a secret in three places: the password of
// its URL, `auth.<kind>.password`, and the Authorization and Cookie
// headers. Reading a document back shows each as "*****"; a write that
// hands "*****" back for an endpoint that still names the same server and
// user gets the stored secret again. A secret is never restored to an
// endpoint whose URL (or user) changed: otherwise anyone allowed to edit a
// `_replicator` document could send its password to a server of their
// choosing by changing only the URL.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>

#include "divan/replication_scheduler.h"
#include "replicator/url_userinfo.h"

namespace divan {
namespace {

constexpr std::string_view kSchemeEnd = "://";
constexpr std::string_view kRedacted = "*****";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_secret_header(std::string_view name) {
  return equals_ignoring_case(name, "authorization") || equals_ignoring_case(name, "cookie");
}

std::string_view view(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

bool is_string(const rapidjson::Value* v, std::string_view s) {
  return v != nullptr && v->IsString() && view(*v) == s;
}

const rapidjson::Value* member(const rapidjson::Value* obj, const char* name) {
  if (obj == nullptr || !obj->IsObject()) return nullptr;
  auto it = obj->FindMember(name);
  return it == obj->MemberEnd() ? nullptr : &it->value;
}

rapidjson::Value* member(rapidjson::Value* obj, const char* name) {
  return const_cast<rapidjson::Value*>(member(static_cast<const rapidjson::Value*>(obj), name));
}

// The URL of an endpoint: the value itself, or its "url" member.
const rapidjson::Value* url_of(const rapidjson::Value* endpoint) {
  if (endpoint == nullptr) return nullptr;
  if (endpoint->IsString()) return endpoint;
  const rapidjson::Value* url = member(endpoint, "url");
  return url != nullptr && url->IsString() ? url : nullptr;
}
rapidjson::Value* url_of(rapidjson::Value* endpoint) {
  return const_cast<rapidjson::Value*>(url_of(static_cast<const rapidjson::Value*>(endpoint)));
}

bool parse_object(std::string_view json, rapidjson::Document* d) {
  d->Parse(json.data(), json.size());
  return !d->HasParseError() && d->IsObject();
}

std::string to_text(const rapidjson::Document& d) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// Redacts the secrets of one endpoint in place; true if any changed.
bool redact_endpoint(rapidjson::Value& endpoint, rapidjson::Document::AllocatorType& a) {
  bool changed = false;
  auto set_redacted = [&](rapidjson::Value& v) {
    if (is_string(&v, kRedacted)) return;
    v.SetString(kRedacted.data(), static_cast<rapidjson::SizeType>(kRedacted.size()), a);
    changed = true;
  };
  if (rapidjson::Value* url = url_of(&endpoint)) {
    std::string redacted = redact_url(view(*url));
    if (redacted != view(*url)) {
      url->SetString(redacted.data(), static_cast<rapidjson::SizeType>(redacted.size()), a);
      changed = true;
    }
  }
  if (!endpoint.IsObject()) return changed;
  if (rapidjson::Value* auth = member(&endpoint, "auth"); auth != nullptr && auth->IsObject()) {
    for (auto& kind : auth->GetObject()) {
      if (rapidjson::Value* password = member(&kind.value, "password")) set_redacted(*password);
    }
  }
  if (rapidjson::Value* headers = member(&endpoint, "headers"); headers && headers->IsObject()) {
    for (auto& h : headers->GetObject()) {
      if (is_secret_header(view(h.name))) set_redacted(h.value);
    }
  }
  return changed;
}

// Puts back into `endpoint` the secrets it holds as "*****" that
// `current` (the same endpoint as stored) has for the same server and
// user; true if any changed.
bool restore_endpoint(rapidjson::Value& endpoint, const rapidjson::Value* current,
                      rapidjson::Document::AllocatorType& a) {
  rapidjson::Value* url = url_of(&endpoint);
  const rapidjson::Value* current_url = url_of(current);
  // Without the same URL (as shown, password redacted) nothing comes back.
  if (url == nullptr || current_url == nullptr ||
      redact_url(view(*url)) != redact_url(view(*current_url))) {
    return false;
  }
  bool changed = false;
  auto restore = [&](rapidjson::Value& v, const rapidjson::Value* stored) {
    if (!is_string(&v, kRedacted) || stored == nullptr || !stored->IsString()) return;
    v.CopyFrom(*stored, a);
    changed = true;
  };
  if (view(*url) == redact_url(view(*current_url)) && view(*url) != view(*current_url)) {
    // The stored URL as shown: its password is "*****" where the stored
    // one has the secret (a new password is kept as given).
    url->CopyFrom(*current_url, a);
    changed = true;
  }
  if (!endpoint.IsObject()) return changed;
  if (rapidjson::Value* auth = member(&endpoint, "auth"); auth != nullptr && auth->IsObject()) {
    const rapidjson::Value* current_auth = member(current, "auth");
    for (auto& kind : auth->GetObject()) {
      const rapidjson::Value* stored = member(current_auth, kind.name.GetString());
      rapidjson::Value* password = member(&kind.value, "password");
      const rapidjson::Value* user = member(&kind.value, "username");
      const rapidjson::Value* stored_user = member(stored, "username");
      bool same_user = (user == nullptr && stored_user == nullptr) ||
                       (user != nullptr && stored_user != nullptr && *user == *stored_user);
      if (password != nullptr && same_user) restore(*password, member(stored, "password"));
    }
  }
  if (rapidjson::Value* headers = member(&endpoint, "headers"); headers && headers->IsObject()) {
    const rapidjson::Value* current_headers = member(current, "headers");
    for (auto& h : headers->GetObject()) {
      if (!is_secret_header(view(h.name))) continue;
      restore(h.value, member(current_headers, h.name.GetString()));
    }
  }
  return changed;
}

constexpr const char* kEndpoints[] = {"source", "target"};

}  // namespace

std::size_t url_userinfo_end(std::string_view url, std::size_t start) {
  std::size_t stop = url.find_first_of("?#", start);
  std::size_t at = url.rfind('@', stop == std::string_view::npos ? std::string_view::npos : stop);
  return at == std::string_view::npos || at < start ? std::string_view::npos : at;
}

std::string redact_url(std::string_view url) {
  std::size_t scheme_end = url.find(kSchemeEnd);
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::size_t start = scheme_end + kSchemeEnd.size();
  std::size_t at = url_userinfo_end(url, start);
  if (at == std::string_view::npos) return std::string(url);
  std::size_t colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(url);  // no password
  return std::string(url.substr(0, colon + 1)) + std::string(kRedacted) +
         std::string(url.substr(at));
}

std::string redact_replication_doc(std::string_view json) {
  rapidjson::Document d;
  if (!parse_object(json, &d)) return std::string(json);
  bool changed = false;
  for (const char* name : kEndpoints) {
    if (rapidjson::Value* endpoint = member(&d, name)) {
      changed = redact_endpoint(*endpoint, d.GetAllocator()) || changed;
    }
  }
  return changed ? to_text(d) : std::string(json);
}

std::string restore_redacted_credentials(std::string_view new_json,
                                         std::string_view current_json) {
  rapidjson::Document d, current;
  if (!parse_object(new_json, &d) || !parse_object(current_json, &current)) {
    return std::string(new_json);
  }
  bool changed = false;
  for (const char* name : kEndpoints) {
    if (rapidjson::Value* endpoint = member(&d, name)) {
      changed = restore_endpoint(*endpoint, member(&current, name), d.GetAllocator()) || changed;
    }
  }
  return changed ? to_text(d) : std::string(new_json);
}

}  // namespace divan
