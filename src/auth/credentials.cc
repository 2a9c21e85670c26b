// Password hashing and checking (divan/auth.h): PBKDF2 through OpenSSL, in
// the formats CouchDB writes, compared in constant time.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <charconv>

#include "divan/auth.h"

namespace divan {
namespace {

std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

const EVP_MD* digest_of(std::string_view prf) {
  if (prf == "sha") return EVP_sha1();
  if (prf == "sha224") return EVP_sha224();
  if (prf == "sha256") return EVP_sha256();
  if (prf == "sha384") return EVP_sha384();
  if (prf == "sha512") return EVP_sha512();
  return nullptr;
}

bool parse_uint(std::string_view text, std::uint32_t* out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

// Splits "a,b,c" into exactly `n` parts.
bool split_commas(std::string_view s, std::size_t n, std::vector<std::string_view>* parts) {
  parts->clear();
  for (;;) {
    auto comma = s.find(',');
    parts->push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return parts->size() == n;
}

std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  return to_hex(md, len);
}

}  // namespace

Result<std::string> pbkdf2_hex(std::string_view prf, std::string_view password,
                               std::string_view salt, std::uint32_t iterations) {
  const EVP_MD* md = digest_of(prf);
  if (md == nullptr) return Status::bad_request("unknown PBKDF2 hash '" + std::string(prf) + "'");
  if (iterations == 0 || iterations > 1'000'000'000) {
    return Status::bad_request("PBKDF2 iterations must be 1 to 1000000000");
  }
  unsigned char key[EVP_MAX_MD_SIZE];
  int len = EVP_MD_get_size(md);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), md, len,
                        key) != 1) {
    return Status::io_error("PBKDF2 failed");
  }
  return to_hex(key, static_cast<std::size_t>(len));
}

bool timing_safe_equal(std::string_view a, std::string_view b) {
  // The length of a hash is no secret; its bytes are.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_salt(RandomSource& random) {
  unsigned char bytes[16];
  random.fill(bytes, sizeof bytes);
  return to_hex(bytes, sizeof bytes);
}

std::string hash_admin_password(std::string_view password, std::uint32_t iterations,
                                RandomSource& random) {
  std::string salt = random_salt(random);
  // Cannot fail: a known hash, and iterations checked by the caller's type.
  std::string key = pbkdf2_hex("sha256", password, salt, iterations == 0 ? 1 : iterations).value();
  return "-pbkdf2:sha256-" + key + "," + salt + "," + std::to_string(iterations == 0 ? 1 : iterations);
}

bool is_hashed_admin_password(std::string_view v) {
  return v.starts_with("-hashed-") || v.starts_with("-pbkdf2-") || v.starts_with("-pbkdf2:");
}

Result<Credentials> Credentials::from_admin_hash(std::string_view v) {
  Credentials c;
  std::vector<std::string_view> parts;
  auto malformed = [&] { return Status::bad_request("malformed admin password hash"); };
  if (v.starts_with("-hashed-")) {
    if (!split_commas(v.substr(8), 2, &parts)) return malformed();
    c.scheme_ = "simple";
    c.key_ = parts[0];
    c.salt_ = parts[1];
    return c;
  }
  if (v.starts_with("-pbkdf2-")) {
    c.prf_ = "sha";
    v.remove_prefix(8);
  } else if (v.starts_with("-pbkdf2:")) {
    v.remove_prefix(8);
    auto dash = v.find('-');
    if (dash == std::string_view::npos) return malformed();
    c.prf_ = v.substr(0, dash);
    v.remove_prefix(dash + 1);
    if (digest_of(c.prf_) == nullptr) return malformed();
  } else {
    return malformed();
  }
  if (!split_commas(v, 3, &parts) || !parse_uint(parts[2], &c.iterations_) || c.iterations_ == 0) {
    return malformed();
  }
  c.scheme_ = "pbkdf2";
  c.key_ = parts[0];
  c.salt_ = parts[1];
  return c;
}

Result<Credentials> Credentials::from_user_doc(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  auto none = [] { return Status::bad_request("the user document holds no usable password"); };
  if (d.HasParseError() || !d.IsObject()) return none();
  auto string_of = [&](const char* key) -> std::optional<std::string> {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  Credentials c;
  auto scheme = string_of("password_scheme").value_or("simple");
  auto salt = string_of("salt");
  if (!salt) return none();
  c.salt_ = *salt;
  if (scheme == "pbkdf2") {
    auto key = string_of("derived_key");
    if (!key) return none();
    c.key_ = *key;
    c.prf_ = string_of("pbkdf2_prf").value_or("sha");
    if (digest_of(c.prf_) == nullptr) return none();
    c.iterations_ = 10;  // CouchDB's default when a document names none
    if (auto it = d.FindMember("iterations"); it != d.MemberEnd()) {
      if (!it->value.IsUint() || it->value.GetUint() == 0) return none();
      c.iterations_ = it->value.GetUint();
    }
  } else if (scheme == "simple") {
    auto sha = string_of("password_sha");
    if (!sha) return none();
    c.key_ = *sha;
  } else {
    return none();
  }
  c.scheme_ = scheme;
  return c;
}

bool Credentials::verify(std::string_view password) const {
  std::string computed;
  if (scheme_ == "simple") {
    computed = sha1_hex(std::string(password) + salt_);
  } else {
    auto key = pbkdf2_hex(prf_, password, salt_, iterations_);
    if (!key.is_ok()) return false;
    computed = std::move(*key);
  }
  // Stored keys may be upper-case hex (hand-written); compare lower-case.
  std::string stored = key_;
  for (char& ch : stored) ch = static_cast<char>(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
  return timing_safe_equal(computed, stored);
}

}  // namespace divan
