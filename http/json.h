// JSON in the HTTP layer: a small writer for responses, and reading request
// bodies and JSON-valued query parameters. RapidJSON does the work.
#ifndef DIVAN_HTTP_JSON_H_
#define DIVAN_HTTP_JSON_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "divan/status.h"

namespace divan::http {

// Builds compact JSON. Calls chain: w.key("a").string("b").
class JsonWriter {
 public:
  JsonWriter() : w_(buf_) {}
  JsonWriter& start_object() { w_.StartObject(); return *this; }
  JsonWriter& end_object() { w_.EndObject(); return *this; }
  JsonWriter& start_array() { w_.StartArray(); return *this; }
  JsonWriter& end_array() { w_.EndArray(); return *this; }
  JsonWriter& key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  JsonWriter& string(std::string_view s) {
    w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return *this;
  }
  JsonWriter& number(std::uint64_t n) { w_.Uint64(n); return *this; }
  JsonWriter& number_signed(std::int64_t n) { w_.Int64(n); return *this; }
  JsonWriter& boolean(bool b) { w_.Bool(b); return *this; }
  JsonWriter& null() { w_.Null(); return *this; }
  // Inserts `json`, which must be one complete JSON value.
  JsonWriter& raw(std::string_view json) {
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  JsonWriter& strings(const std::vector<std::string>& v) {
    start_array();
    for (const auto& s : v) string(s);
    return end_array();
  }
  std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

// Parses a request body. Errors: bad_request "invalid UTF-8 JSON".
Result<rapidjson::Document> parse_json(std::string_view text);

// A value as JSON text (for passing a parsed document on to the core).
std::string to_json(const rapidjson::Value& v);

}  // namespace divan::http

#endif  // DIVAN_HTTP_JSON_H_
