#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "rev/rev_id.h"

using divan::ErrorCode;
using divan::Status;
using divan::rev::is_normalized_rev_hash;
using divan::rev::kMaxRevPos;
using divan::rev::new_rev_id;
using divan::rev::normalize_rev_hash;
using divan::rev::RevId;

using namespace std::string_literals;

namespace {

const std::string kUpperHex = "0123456789ABCDEF0123456789ABCDEF";
const std::string kLowerHex = "0123456789abcdef0123456789abcdef";

bool is_lower_hex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("rev") {
  TEST_CASE("RevId::parse accepts well-formed revs and normalises 32-hex hashes") {
    struct Case {
      std::string text;
      std::uint64_t pos;
      std::string hash;
    };
    const std::vector<Case> cases = {
        {"1-abc", 1, "abc"},
        {"0-1", 0, "1"},  // _local documents
        {"12-x", 12, "x"},
        {"007-a", 7, "a"},  // leading zeros are a decimal integer too
        {"3-a-b-c", 3, "a-b-c"},  // split at the first '-'
        {"1-" + kLowerHex, 1, kLowerHex},
        {"1-" + kUpperHex, 1, kLowerHex},  // echoed back lowercased, as CouchDB
        {"2-0123456789abcdef", 2, "0123456789abcdef"},  // 16 chars: any text
        {"5-" + std::string(33, 'Z'), 5, std::string(33, 'Z')},  // not 32: kept as is
        {"1-!~{}", 1, "!~{}"},
        {"9007199254740992-a", kMaxRevPos, "a"},  // 2^53
    };
    for (const Case& c : cases) {
      CAPTURE(c.text);
      auto rev = RevId::parse(c.text);
      REQUIRE(rev.is_ok());
      CHECK(rev->pos == c.pos);
      CHECK(rev->hash == c.hash);
    }
  }

  TEST_CASE("RevId::parse rejects malformed revs with bad_request Invalid rev format") {
    const std::vector<std::string> bad = {
        "",
        "1",
        "-abc",
        "a-b",
        "1-",
        "+1-a",
        "1 -a",
        " 1-a",
        "1- a",
        "1-a b",
        "1-a\n",
        "1-a\0b"s,
        "1-\x7f",
        "1-\xc3\xa9",  // non-ASCII
        "0x1-a",
        "99999999999999999999-a",  // overflows 64 bits
        "9007199254740993-a",      // 2^53 + 1
        "1-0123456789abcdef0123456789abcdeg",  // 32 chars but not hex
        "1-0123456789abcdef0123456789abcde-",
    };
    for (const std::string& text : bad) {
      CAPTURE(text);
      auto rev = RevId::parse(text);
      REQUIRE_FALSE(rev.is_ok());
      CHECK(rev.status().code() == ErrorCode::kBadRequest);
      CHECK(rev.status().reason() == "Invalid rev format");
    }
  }

  TEST_CASE("hex_hash_to_raw decodes 32 lowercase hex digits and refuses anything else") {
    // A plain reference decoder.
    auto reference = [](const std::string& hex, std::string* raw) {
      if (hex.size() != 32) return false;
      raw->clear();
      for (std::size_t i = 0; i < 32; i += 2) {
        int v = 0;
        for (char c : {hex[i], hex[i + 1]}) {
          int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
          if (d < 0) return false;
          v = v * 16 + d;
        }
        raw->push_back(static_cast<char>(v));
      }
      return true;
    };
    std::mt19937 rng(11);
    const std::string digits = "0123456789abcdef";
    const std::string others = "/:@`gAFGz \xff\x80\x01";
    for (int round = 0; round < 20000; ++round) {
      std::string hex(32, '0');
      for (char& c : hex) c = digits[rng() % 16];
      if (round % 2 == 1) {  // one byte (sometimes two) that is no lowercase digit
        hex[rng() % 32] = others[rng() % others.size()];
        if (round % 6 == 1) hex[rng() % 32] = others[rng() % others.size()];
      }
      std::string want;
      const bool ok = reference(hex, &want);
      char raw[divan::rev::kRawHashSize] = {};
      CAPTURE(hex);
      REQUIRE(divan::rev::hex_hash_to_raw(hex, raw) == ok);
      if (ok) {
        CHECK(std::string(raw, sizeof raw) == want);
        std::string back;
        divan::rev::append_raw_hash_as_hex(raw, &back);
        CHECK(back == hex);
      }
    }
    char raw[divan::rev::kRawHashSize];
    CHECK(divan::rev::hex_hash_to_raw("ffffffffffffffffffffffffffffffff", raw));
    CHECK(std::string(raw, sizeof raw) == std::string(16, '\xff'));
    CHECK_FALSE(divan::rev::hex_hash_to_raw("0123", raw));
    CHECK_FALSE(divan::rev::hex_hash_to_raw(std::string(33, 'a'), raw));
  }

  TEST_CASE("str round-trips through parse") {
    for (const std::string& text : std::vector<std::string>{"1-abc", "0-1", "42-" + kLowerHex,
                                                              "9007199254740992-z"}) {
      auto rev = RevId::parse(text);
      REQUIRE(rev.is_ok());
      CHECK(rev->str() == text);
      auto again = RevId::parse(rev->str());
      REQUIRE(again.is_ok());
      CHECK(*again == *rev);
    }
    CHECK(RevId::parse("1-" + kUpperHex)->str() == "1-" + kLowerHex);
  }

  TEST_CASE("RevIds order by pos then hash bytes") {
    RevId a{2, "b"};
    CHECK(RevId{1, "z"} < a);
    CHECK(RevId{2, "a"} < a);
    CHECK(a < RevId{2, "c"});
    CHECK(a < RevId{10, "a"});  // numerically, not as text
    CHECK(a == RevId{2, "b"});
  }

  TEST_CASE("normalize_rev_hash checks a bare hash and lowercases 32 hex digits") {
    std::string h = kUpperHex;
    CHECK(normalize_rev_hash(h).is_ok());
    CHECK(h == kLowerHex);
    std::string plain = "Hello";
    CHECK(normalize_rev_hash(plain).is_ok());
    CHECK(plain == "Hello");
    for (std::string bad : {std::string(), std::string("a b"), std::string(32, 'g')}) {
      Status s = normalize_rev_hash(bad);
      CHECK(s.code() == ErrorCode::kBadRequest);
      CHECK(s.reason() == "Invalid rev format");
    }
    CHECK(is_normalized_rev_hash(kLowerHex));
    CHECK_FALSE(is_normalized_rev_hash(kUpperHex));
    CHECK(is_normalized_rev_hash("ABC"));
    CHECK_FALSE(is_normalized_rev_hash(""));
    CHECK_FALSE(is_normalized_rev_hash("a\tb"));
  }

  TEST_CASE("new_rev_id is deterministic and yields pos parent+1 with 32 lowercase hex") {
    RevId first = new_rev_id(nullptr, false, R"({"a":1})");
    CHECK(first.pos == 1);
    CHECK(is_lower_hex32(first.hash));
    CHECK(new_rev_id(nullptr, false, R"({"a":1})") == first);

    RevId second = new_rev_id(&first, false, R"({"a":2})");
    CHECK(second.pos == 2);
    CHECK(is_lower_hex32(second.hash));
    CHECK(new_rev_id(&first, false, R"({"a":2})") == second);
    CHECK(RevId::parse(second.str()).is_ok());
  }

  TEST_CASE("new_rev_id hashes exactly the documented bytes") {
    // MD5 of "divan-rev-1" NUL deleted NUL parent-pos NUL parent-hash NUL
    // body NUL, computed independently (Python's hashlib). A change here
    // changes every revision id divan makes, which replicas compare.
    RevId first = new_rev_id(nullptr, false, R"({"a":1})");
    CHECK(first.str() == "1-c48fef2b8a98a912f07e7c97ea5c3007");
    CHECK(new_rev_id(&first, false, R"({"a":2})").str() == "2-d71ae29747dae1464492739b45c058fc");
    CHECK(new_rev_id(&first, true, "{}").str() == "2-324da0d76be0b322952582789f67cd8b");
  }

  TEST_CASE("each input of new_rev_id changes the hash") {
    const RevId parent{3, kLowerHex};
    const RevId other_hash{3, "0123456789abcdef0123456789abcdee"};
    const RevId other_pos{4, kLowerHex};
    const std::string body = R"({"v":1})";
    const RevId base = new_rev_id(&parent, false, body);

    CHECK(new_rev_id(&parent, true, body).hash != base.hash);                 // deleted
    CHECK(new_rev_id(&other_hash, false, body).hash != base.hash);            // parent hash
    CHECK(new_rev_id(&other_pos, false, body).hash != base.hash);             // parent pos
    CHECK(new_rev_id(nullptr, false, body).hash != base.hash);                // no parent
    CHECK(new_rev_id(&parent, false, R"({"v":2})").hash != base.hash);        // body
    CHECK(new_rev_id(&parent, false, body, {"a.txt\0text/plain\0md5-x"s}).hash !=
          base.hash);  // attachments
    // Field boundaries are kept: moving bytes between fields changes the hash.
    CHECK(new_rev_id(&parent, false, "", {body}).hash != base.hash);
    const RevId p1{1, "ab"};
    const RevId p11{11, "b"};
    CHECK(new_rev_id(&p1, false, "x").hash != new_rev_id(&p11, false, "x").hash);
  }
}

TEST_SUITE("rev") {
  TEST_CASE("hashes longer than kMaxRevHashLength are refused") {
    using divan::rev::RevId;
    std::string ok = "1-" + std::string(divan::rev::kMaxRevHashLength, 'x');
    CHECK(RevId::parse(ok).is_ok());
    CHECK_FALSE(RevId::parse(ok + "x").is_ok());
    std::string hash(divan::rev::kMaxRevHashLength + 1, 'y');
    CHECK_FALSE(divan::rev::normalize_rev_hash(hash).is_ok());
  }
}
