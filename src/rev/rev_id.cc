// RevId parsing, printing and hashing. See rev_id.h and
// couchdb-semantics.md §1.1-1.2.
#include "rev/rev_id.h"

#include <openssl/evp.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace divan::rev {
namespace {

Status invalid_rev() { return Status::bad_request("Invalid rev format"); }

bool is_hash_char(char c) { return c > ' ' && c < 0x7f; }  // printable, no space

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Checks `hash` and lowercases it in place if it is a 32-character hex hash.
// CouchDB decodes such a hash to 16 bytes and re-encodes it lowercase, so
// lowercasing here gives the same echo and the same ordering.
bool check_and_normalize(std::string& hash) {
  if (hash.empty() || hash.size() > kMaxRevHashLength) return false;
  for (char c : hash) {
    if (!is_hash_char(c)) return false;
  }
  if (hash.size() == kHexHashSize) {
    for (char& c : hash) {
      if (!is_hex_digit(c)) return false;
      c = to_lower_ascii(c);
    }
  }
  return true;
}

// MD5 through OpenSSL's EVP interface. The algorithm is fetched once per
// process and the context once per thread: OpenSSL 3 would otherwise look the
// algorithm up in its provider store, and allocate a context, on every write.
class Md5 {
 public:
  Md5() {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_.get(), md(), nullptr) != 1) fail();
  }
  void update(std::string_view bytes) {
    if (!bytes.empty() && EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) fail();
  }
  // Finishes the digest and appends it as 32 lowercase hex digits to `out`.
  void finish_hex(std::string* out) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1 || size != kRawHashSize) fail();
    append_raw_hash_as_hex(reinterpret_cast<const char*>(digest), out);
  }

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  static const EVP_MD* md() {
    // Never freed: it lives as long as the process.
    static const EVP_MD* const fetched = [] {
      const EVP_MD* m = EVP_MD_fetch(nullptr, "MD5", nullptr);
      return m != nullptr ? m : EVP_md5();
    }();
    return fetched;
  }
  // Without MD5 (e.g. an OpenSSL restricted to FIPS algorithms) no revision
  // id can be computed, and a made-up one would break determinism: stop.
  [[noreturn]] static void fail() {
    std::fputs("divan: OpenSSL MD5 is unavailable; cannot compute revision ids\n", stderr);
    std::abort();
  }

  static thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

thread_local std::unique_ptr<EVP_MD_CTX, Md5::CtxFree> Md5::ctx_{EVP_MD_CTX_new()};

void append_decimal(std::string* out, std::uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;  // 24 bytes always hold a uint64
  out->append(buf, end);
}

#if !defined(__SSE2__)
// Lowercase hex digit values, 0xff for every other byte. A table rather
// than range checks: hash digits are random, so branches would mispredict.
constexpr std::array<unsigned char, 256> kHexValue = [] {
  std::array<unsigned char, 256> table{};
  table.fill(0xff);
  for (int i = 0; i < 10; ++i) table['0' + i] = static_cast<unsigned char>(i);
  for (int i = 0; i < 6; ++i) table['a' + i] = static_cast<unsigned char>(10 + i);
  return table;
}();
#endif

}  // namespace

#if defined(__SSE2__)
namespace {

// The nibble values of 16 lowercase hex digits, and a mask of the bytes
// that are such digits.
__m128i hex_nibbles(__m128i text, int* valid_mask) {
  const __m128i digit = _mm_sub_epi8(text, _mm_set1_epi8('0'));
  const __m128i letter = _mm_sub_epi8(text, _mm_set1_epi8('a'));
  // Unsigned x <= n  <=>  min(x, n) == x.
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(digit, _mm_set1_epi8(9)), digit);
  const __m128i is_letter = _mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(5)), letter);
  *valid_mask = _mm_movemask_epi8(_mm_or_si128(is_digit, is_letter));
  return _mm_or_si128(_mm_and_si128(digit, is_digit),
                      _mm_and_si128(_mm_add_epi8(letter, _mm_set1_epi8(10)), is_letter));
}

// Pairs of nibbles (high first) into bytes, in the low byte of each
// 16-bit lane.
__m128i pair_nibbles(__m128i nibbles) {
  const __m128i pairs = _mm_or_si128(_mm_slli_epi16(nibbles, 4), _mm_srli_epi16(nibbles, 8));
  return _mm_and_si128(pairs, _mm_set1_epi16(0x00ff));
}

}  // namespace

// 16 bytes at a time: this runs several times for every document written.
bool hex_hash_to_raw(std::string_view hash, char* raw) {
  if (hash.size() != kHexHashSize) return false;
  int valid_lo = 0, valid_hi = 0;
  const __m128i lo = hex_nibbles(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hash.data())), &valid_lo);
  const __m128i hi =
      hex_nibbles(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hash.data() + 16)), &valid_hi);
  if ((valid_lo & valid_hi) != 0xffff) return false;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(raw),
                   _mm_packus_epi16(pair_nibbles(lo), pair_nibbles(hi)));
  return true;
}
#else
bool hex_hash_to_raw(std::string_view hash, char* raw) {
  if (hash.size() != kHexHashSize) return false;
  unsigned bad = 0;
  for (std::size_t k = 0; k < kRawHashSize; ++k) {
    unsigned hi = kHexValue[static_cast<unsigned char>(hash[2 * k])];
    unsigned lo = kHexValue[static_cast<unsigned char>(hash[2 * k + 1])];
    bad |= (hi | lo) & 0xf0;
    raw[k] = static_cast<char>(hi << 4 | (lo & 0xf));
  }
  return bad == 0;
}
#endif

void append_raw_hash_as_hex(const char* raw, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char hex[kHexHashSize];
  for (std::size_t k = 0; k < kRawHashSize; ++k) {
    auto byte = static_cast<unsigned char>(raw[k]);
    hex[2 * k] = kHex[byte >> 4];
    hex[2 * k + 1] = kHex[byte & 0xf];
  }
  out->append(hex, kHexHashSize);
}

Result<RevId> RevId::parse(std::string_view text) {
  std::size_t dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0) return invalid_rev();
  std::uint64_t pos = 0;
  for (std::size_t i = 0; i < dash; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return invalid_rev();
    pos = pos * 10 + static_cast<std::uint64_t>(c - '0');
    // kMaxRevPos * 10 + 9 still fits in 64 bits, so checking after each
    // digit catches overflow however many digits follow.
    if (pos > kMaxRevPos) return invalid_rev();
  }
  RevId rev;
  rev.pos = pos;
  rev.hash.assign(text.substr(dash + 1));
  if (!check_and_normalize(rev.hash)) return invalid_rev();
  return rev;
}

std::string RevId::str() const {
  std::string out;
  out.reserve(21 + hash.size());
  append_decimal(&out, pos);
  out.push_back('-');
  out.append(hash);
  return out;
}

Status normalize_rev_hash(std::string& hash) {
  if (!check_and_normalize(hash)) return invalid_rev();
  return Status::ok();
}

bool is_normalized_rev_hash(std::string_view hash) {
  if (hash.empty() || hash.size() > kMaxRevHashLength) return false;
  const bool hex = hash.size() == kHexHashSize;
  for (char c : hash) {
    if (!is_hash_char(c)) return false;
    if (hex && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The hashed bytes, every field ended by a NUL (compact JSON text and
// normalised hashes never contain a raw NUL, so fields cannot run together):
//   "divan-rev-1" NUL  deleted('1'|'0') NUL  parent pos NUL  parent hash NUL
//   body NUL  { attachment entry NUL }
// The version tag lets a future format change without colliding. A first
// revision hashes parent pos 0 and an empty parent hash, as CouchDB uses
// (0, 0) for "no parent".
RevId new_rev_id(const RevId* parent, bool deleted, std::string_view canonical_body,
                 const std::vector<std::string>& attachment_digests) {
  RevId rev;
  new_rev_id(parent, deleted, canonical_body, &rev, attachment_digests);
  return rev;
}

void new_rev_id(const RevId* parent, bool deleted, std::string_view canonical_body, RevId* out,
                const std::vector<std::string>& attachment_digests) {
  static constexpr std::string_view kTag("divan-rev-1\0", 12);
  // The whole message in one buffer, hashed with one update: a call into
  // OpenSSL per field cost more than hashing the small fields.
  thread_local std::string message;
  message.assign(kTag);
  message.push_back(deleted ? '1' : '0');
  message.push_back('\0');
  append_decimal(&message, parent != nullptr ? parent->pos : 0);
  message.push_back('\0');
  if (parent != nullptr) message.append(parent->hash);
  message.push_back('\0');
  message.append(canonical_body);
  message.push_back('\0');
  for (const std::string& entry : attachment_digests) {
    message.append(entry);
    message.push_back('\0');
  }
  Md5 md5;
  md5.update(message);
  // A large body is not kept by the thread.
  if (message.capacity() > (64 << 10)) message = std::string();

  out->pos = (parent != nullptr ? parent->pos : 0) + 1;
  out->hash.clear();
  md5.finish_hex(&out->hash);
}

}  // namespace divan::rev
