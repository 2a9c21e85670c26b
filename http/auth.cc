#include "http/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <fstream>

#include "http/context.h"
#include "http/file_util.h"

namespace divan::http {
namespace {

const char kIncorrect[] = "Name or password is incorrect.";
const char kMalformedCookie[] = "Malformed AuthSession cookie. Please clear your cookies.";

HttpError unauthorized(std::string reason) { return {401, "unauthorized", std::move(reason), {}}; }

HttpError too_many() {
  return {429, "too_many_requests",
          "Too many failed logins from this address; try again in a second.", {}};
}

std::string base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Standard base64 with padding. False if `text` is not valid base64.
bool unbase64(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  out->assign(3 * (text.size() / 4) + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return false;
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;
  out->resize(len);
  return true;
}

// base64url without padding, as CouchDB's cookies are.
std::string base64url(std::string_view raw) {
  std::string s = base64(raw);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

bool unbase64url(std::string_view text, std::string* out) {
  std::string s(text);
  for (char& c : s) {
    if (c == '+' || c == '/' || c == '=') return false;
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (s.size() % 4 != 0) s.push_back('=');
  return unbase64(s, out);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// The value of cookie `name` in a Cookie header, or nullopt.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) {
      return std::string(item.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::string to_hex_upper(std::int64_t v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  std::string s(buf, p);
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  return s;
}

}  // namespace

Authenticator::Authenticator(AuthOptions options, DataDir& data_dir, Clock& clock,
                             RandomSource& random)
    : options_(std::move(options)), data_dir_(data_dir), clock_(clock) {
  for (const auto& [name, hash] : options_.admins) {
    auto c = Credentials::from_admin_hash(hash);
    if (c.is_ok()) admins_.emplace(name, std::move(*c));  // the config checked them
  }
  secret_ = options_.secret;
  unsigned char bytes[32];
  random.fill(bytes, sizeof bytes);
  cache_secret_.assign(reinterpret_cast<char*>(bytes), sizeof bytes);
}

std::optional<Authenticator::Found> Authenticator::find_user(const std::string& name) {
  if (auto it = admins_.find(name); it != admins_.end()) {
    return Found{UserCtx{name, {std::string(kAdminRole)}}, it->second};
  }
  auto db = data_dir_.open_database(users_db::kName);
  if (!db.is_ok()) return std::nullopt;
  auto doc = (*db)->get(std::string(users_db::kDocPrefix) + name);
  if (!doc.is_ok() || doc->deleted) return std::nullopt;
  auto c = Credentials::from_user_doc(doc->body);
  if (!c.is_ok()) return std::nullopt;
  return Found{UserCtx{name, users_db::roles_of(doc->body)}, std::move(*c)};
}

std::string Authenticator::cache_key(const std::string& name, const std::string& password,
                                     const Credentials& c) const {
  std::string data = name;
  for (const std::string* part : {&password, &c.key(), &c.salt()}) {
    data.push_back('\0');
    data += *part;
  }
  return hmac_sha256(cache_secret_, data);
}

bool Authenticator::may_try(const std::string& remote) {
  std::int64_t now = clock_.now_micros() / 1'000'000;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(remote);
  return it == failures_.end() || it->second.second != now ||
         it->second.count < options_.max_failed_logins_per_second;
}

void Authenticator::failed(const std::string& remote) {
  std::int64_t now = clock_.now_micros() / 1'000'000;
  std::lock_guard<std::mutex> lock(mu_);
  if (failures_.size() > 10000) {
    std::erase_if(failures_, [&](const auto& kv) { return kv.second.second != now; });
  }
  Failures& f = failures_[remote];
  if (f.second != now) f = Failures{now, 0};
  ++f.count;
}

std::optional<HttpError> Authenticator::check_password(const std::string& name,
                                                       const std::string& password,
                                                       const std::string& remote, Found* out) {
  if (!may_try(remote)) return too_many();
  auto found = find_user(name);
  if (!found) {
    // As slow as a wrong password, so that timing does not tell which
    // names exist.
    (void)pbkdf2_hex("sha256", password, "0123456789abcdef0123456789abcdef", options_.iterations);
    failed(remote);
    return unauthorized(kIncorrect);
  }
  std::string key = cache_key(name, password, found->credentials);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = verified_.find(name);
    if (it != verified_.end() && timing_safe_equal(it->second, key)) {
      *out = std::move(*found);
      return std::nullopt;
    }
  }
  if (!found->credentials.verify(password)) {
    failed(remote);
    return unauthorized(kIncorrect);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (verified_.size() > 10000) verified_.clear();
    verified_[name] = key;
  }
  *out = std::move(*found);
  return std::nullopt;
}

std::string Authenticator::cookie_mac(const std::string& name, const std::string& salt,
                                      const std::string& time_hex) const {
  return hmac_sha256(secret_ + salt, name + ":" + time_hex);
}

std::string Authenticator::cookie_for(const std::string& name, const std::string& salt,
                                      std::int64_t time, bool tls) const {
  std::string time_hex = to_hex_upper(time);
  std::string token = base64url(name + ":" + time_hex + ":" + cookie_mac(name, salt, time_hex));
  std::string cookie = "AuthSession=" + token + "; Version=1; Path=/; HttpOnly";
  if (options_.persistent_cookies) {
    cookie += "; Max-Age=" + std::to_string(options_.cookie_timeout.count());
  }
  if (tls) cookie += "; Secure";
  return cookie;
}

std::string Authenticator::clearing_cookie(bool tls) const {
  return std::string("AuthSession=; Version=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
                     "Path=/; HttpOnly") +
         (tls ? "; Secure" : "");
}

std::optional<HttpError> Authenticator::login(const std::string& name, const std::string& password,
                                              const std::string& remote, bool tls, Identity* out) {
  Found found;
  if (auto e = check_password(name, password, remote, &found)) return e;
  out->user = std::move(found.user);
  out->method = "cookie";
  out->set_cookie = cookie_for(name, found.credentials.salt(), clock_.now_micros() / 1'000'000, tls);
  return std::nullopt;
}

std::optional<HttpError> Authenticator::identify(const std::string& authorization,
                                                 const std::string& cookie_header,
                                                 const std::string& remote, bool tls,
                                                 Identity* out) {
  // A session cookie first, as CouchDB's handlers run.
  if (auto token = cookie_value(cookie_header, "AuthSession"); token && !token->empty()) {
    std::string raw;
    if (!unbase64url(*token, &raw)) return HttpError::bad_request(kMalformedCookie);
    auto c1 = raw.find(':');
    auto c2 = c1 == std::string::npos ? c1 : raw.find(':', c1 + 1);
    if (c2 == std::string::npos) return HttpError::bad_request(kMalformedCookie);
    std::string name = raw.substr(0, c1), time_hex = raw.substr(c1 + 1, c2 - c1 - 1);
    std::int64_t time = 0;
    auto [p, ec] = std::from_chars(time_hex.data(), time_hex.data() + time_hex.size(), time, 16);
    if (time_hex.empty() || ec != std::errc() || p != time_hex.data() + time_hex.size()) {
      return HttpError::bad_request(kMalformedCookie);
    }
    // An unknown user, a wrong MAC or an expired cookie is ignored: the
    // request goes on as if it had none.
    std::int64_t now = clock_.now_micros() / 1'000'000;
    std::int64_t timeout = options_.cookie_timeout.count();
    if (now < time + timeout) {
      if (auto found = find_user(name)) {
        if (timing_safe_equal(raw.substr(c2 + 1), cookie_mac(name, found->credentials.salt(), time_hex))) {
          out->user = std::move(found->user);
          out->method = "cookie";
          if (10 * (time + timeout - now) < 9 * timeout) {
            out->set_cookie = cookie_for(name, found->credentials.salt(), now, tls);
          }
          return std::nullopt;
        }
      }
    }
  }
  if (starts_with_ignoring_case(authorization, "basic ")) {
    std::string_view b64(authorization);
    b64.remove_prefix(6);
    while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
    while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
    std::string pair;
    if (!unbase64(b64, &pair)) {
      return HttpError::bad_request("Authorization header has invalid base64 value");
    }
    auto colon = pair.find(':');
    // No colon, or "_:_": no credentials, as CouchDB reads them.
    if (colon != std::string::npos && pair != "_:_") {
      Found found;
      if (auto e = check_password(pair.substr(0, colon), pair.substr(colon + 1), remote, &found)) {
        return e;
      }
      out->user = std::move(found.user);
      out->method = "default";
      return std::nullopt;
    }
  }
  out->user = UserCtx{};
  if (options_.admin_party) out->user.roles.push_back(std::string(kAdminRole));
  out->method.clear();
  return std::nullopt;
}

Result<std::string> load_or_make_secret(const std::string& data_dir_path, RandomSource& random) {
  std::string file = data_dir_path + "/.auth_secret";
  std::ifstream in(file);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
  secret = random_salt(random) + random_salt(random);  // 256 random bits in hex
  if (Status s = replace_file(file, secret + "\n", 0600); !s.is_ok()) return s;
  return secret;
}

}  // namespace divan::http
