// The document parser's canonical bodies, checked against RapidJSON's own
// writer over a DOM of the same text: whatever route the parser takes for a
// string (copied as sent, or re-escaped by the writer), the bytes, and so
// the revision hashes, must be the same.
#include <doctest/doctest.h>
#include <pthread.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "db/doc_parser.h"

namespace {

using divan::db::ParsedDoc;
using divan::db::ParseLimits;

class Gen {
 public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}

  // A JSON text for a document: "_id" first, then a body of random members.
  std::string document(int index) {
    std::string out = "{" + space() + "\"_id\"" + space() + ":" + space() + "\"doc" +
                      std::to_string(index) + "\"";
    int members = pick(0, 6);
    for (int i = 0; i < members; ++i) {
      out += "," + space() + "\"k" + std::to_string(i) + string_body() + "\"" + space() + ":" +
             space() + value(0);
    }
    return out + space() + "}";
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string space() {
    static const char* kSpaces[] = {"", "", "", " ", "\n", "\t ", "\r\n  "};
    return kSpaces[pick(0, 6)];
  }

  // The inside of a string literal: plain text, every kind of escape,
  // multi-byte UTF-8.
  std::string string_body() {
    std::string s;
    int parts = pick(0, 6);
    for (int i = 0; i < parts; ++i) {
      switch (pick(0, 9)) {
        case 0: s += "\\\""; break;
        case 1: s += "\\\\"; break;
        case 2: s += "\\/"; break;
        case 3: {
          static const char* kShort[] = {"\\b", "\\f", "\\n", "\\r", "\\t"};
          s += kShort[pick(0, 4)];
          break;
        }
        case 4: {  // \u escapes: control characters, ASCII, BMP
          static const char* kU[] = {"\\u0000", "\\u0019", "\\u001a", "\\u001F", "\\u0041",
                                     "\\u00e9", "\\u20AC", "\\u007F"};
          s += kU[pick(0, 7)];
          break;
        }
        case 5: s += "\\ud83d\\ude00"; break;           // a surrogate pair
        case 6: s += "\xC3\xA9\xE2\x82\xAC"; break;     // é€ as UTF-8
        case 7: s += "\xF0\x9F\x98\x80"; break;         // a 4-byte sequence
        default: {
          int n = pick(1, 40);
          for (int j = 0; j < n; ++j) {
            int c = pick(0x20, 0x7E);
            s += static_cast<char>(c == '"' || c == '\\' ? 'q' : c);
          }
          break;
        }
      }
    }
    return s;
  }

  std::string value(int depth) {
    int kind = pick(0, depth < 3 ? 6 : 4);
    switch (kind) {
      case 0: return "\"" + string_body() + "\"";
      case 1: return std::to_string(pick(-1000000, 1000000));
      case 2: return pick(0, 1) ? "true" : "false";
      case 3: return "null";
      case 4: return "\"" + string_body() + "\"";
      case 5: {
        std::string a = "[" + space();
        int n = pick(0, 4);
        for (int i = 0; i < n; ++i) a += (i ? "," + space() : "") + value(depth + 1);
        return a + space() + "]";
      }
      default: {
        std::string o = "{" + space();
        int n = pick(0, 4);
        for (int i = 0; i < n; ++i) {
          o += (i ? "," + space() : "") + "\"n" + std::to_string(i) + string_body() + "\"" + space() +
               ":" + space() + value(depth + 1);
        }
        return o + space() + "}";
      }
    }
  }

  std::mt19937_64 rng_;
};

// RapidJSON's writer over a DOM of `json`, without the "_id" member.
std::string reference_body(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  REQUIRE_FALSE(d.HasParseError());
  d.EraseMember("_id");  // keeps the order of the rest
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  d.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

TEST_SUITE("doc_parser") {
  TEST_CASE("bodies are what RapidJSON's writer makes of the same document") {
    Gen gen(20261126);
    for (int i = 0; i < 3000; ++i) {
      std::string json = gen.document(i);
      CAPTURE(json);
      ParsedDoc doc;
      REQUIRE(divan::db::parse_document(json, ParseLimits{}, &doc).is_ok());
      CHECK(doc.id == "doc" + std::to_string(i));
      CHECK(doc.body == reference_body(json));
    }
  }

  TEST_CASE("in an array, each body is the same as the document parsed alone") {
    Gen gen(7);
    std::vector<std::string> docs;
    std::string array = "[";
    for (int i = 0; i < 500; ++i) {
      docs.push_back(gen.document(i));
      array += (i ? ",\n" : "") + docs.back();
    }
    array += "]";
    std::vector<ParsedDoc> parsed;
    REQUIRE(divan::db::parse_document_array(array, ParseLimits{}, &parsed).is_ok());
    REQUIRE(parsed.size() == docs.size());
    for (std::size_t i = 0; i < docs.size(); ++i) {
      CAPTURE(docs[i]);
      CHECK(parsed[i].body == reference_body(docs[i]));
    }
  }

  TEST_CASE("raw control characters in strings are refused, escaped ones kept") {
    for (int c = 1; c < 0x20; ++c) {
      CAPTURE(c);
      // At every alignment: vector scans see a string in 16-byte blocks.
      for (int pad = 0; pad < 20; ++pad) {
        std::string text = std::string(pad, 'p') + static_cast<char>(c) + "tail of the string";
        ParsedDoc doc;
        CHECK(divan::db::parse_document(R"({"_id":"a","s":")" + text + R"("})", ParseLimits{}, &doc)
                  .code() == divan::ErrorCode::kBadRequest);
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
        std::string sent = R"({"_id":"a","s":")" + std::string(pad, 'p') + escaped + R"(tail of the string"})";
        REQUIRE(divan::db::parse_document(sent, ParseLimits{}, &doc).is_ok());
        CHECK(doc.body == reference_body(sent));
        CHECK(doc.body.find(static_cast<char>(c)) == std::string::npos);
      }
    }
  }

  TEST_CASE("a recursive parse asked for on a small stack is done iteratively") {
    // 510 levels inside a document inside the array, on a thread with
    // 32 KiB of stack: parsed recursively, this overflows it (checked: the
    // test then dies with SIGSEGV).
    struct Job {
      std::string json;
      divan::Status status;
      std::size_t docs = 0;
    } job;
    job.json = R"([{"_id":"deep","x":)" + std::string(510, '[') + std::string(510, ']') + "}]";
    auto run = [](void* p) -> void* {
      auto* j = static_cast<Job*>(p);
      ParseLimits limits;
      limits.recursive = true;
      j->status = divan::db::parse_document_array(
          j->json, limits, [&](ParsedDoc&&) {
            ++j->docs;
            return divan::Status::ok();
          });
      return nullptr;
    };
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, 32 * 1024) == 0);
    pthread_t thread;
    REQUIRE(pthread_create(&thread, &attr, run, &job) == 0);
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attr);
    CHECK(job.status.is_ok());
    CHECK(job.docs == 1);
  }

  TEST_CASE("escapes are decoded and written back one way") {
    ParsedDoc doc;
    REQUIRE(divan::db::parse_document(
                R"({"a\u0062":"\u0041\/\u00e9\u001F\"\\x","plain":"text","":""})", ParseLimits{}, &doc)
                .is_ok());
    CHECK(doc.body == "{\"ab\":\"A/\xC3\xA9\\u001F\\\"\\\\x\",\"plain\":\"text\",\"\":\"\"}");
  }
}
