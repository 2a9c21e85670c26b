#include "http/json.h"

namespace divan::http {

Result<rapidjson::Document> parse_json(std::string_view text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag |
          rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (d.HasParseError()) return Status::bad_request("invalid UTF-8 JSON");
  return d;
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace divan::http
