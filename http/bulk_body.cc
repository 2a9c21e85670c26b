#include "http/bulk_body.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "http/json.h"

namespace divan::http {
namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// SAX handler that records each top-level member's value span. Positions
// come from the stream, as RapidJSON's iterative reader leaves it: when it
// reports a key, just after the key's closing quote; a scalar, just after
// its last character; the end of an object or array, still on the closing
// '}' or ']' (the reader takes it after the handler returns).
class MemberScanner : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, MemberScanner> {
 public:
  MemberScanner(std::string_view text, const rapidjson::MemoryStream& stream,
                std::vector<RawMember>* out)
      : text_(text), stream_(stream), out_(out) {}

  bool root_is_object() const { return root_is_object_; }

  // Scalars (numbers arrive as RawNumber: kParseNumbersAsStringsFlag, so no
  // number is ever converted or rejected as too large).
  bool Default() { return value_done(); }
  bool RawNumber(const Ch*, rapidjson::SizeType, bool) { return value_done(); }
  bool String(const Ch*, rapidjson::SizeType, bool) { return value_done(); }

  bool StartObject() {
    if (depth_ == 0) root_is_object_ = true;
    ++depth_;
    return true;
  }
  bool Key(const Ch* s, rapidjson::SizeType len, bool) {
    if (depth_ == 1) {
      // The value starts after optional spaces, the ':' and more spaces.
      std::size_t at = stream_.Tell();
      while (at < text_.size() && (is_json_space(text_[at]) || text_[at] == ':')) ++at;
      pending_name_.assign(s, len);
      pending_start_ = at;
      pending_ = true;
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    return value_done(1);
  }
  bool StartArray() {
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return value_done(1);
  }

 private:
  // `unread`: characters of the value the stream has not passed yet.
  bool value_done(std::size_t unread = 0) {
    if (depth_ == 1 && pending_) {
      std::size_t end = stream_.Tell() + unread;
      out_->push_back({std::move(pending_name_), text_.substr(pending_start_, end - pending_start_)});
      pending_name_.clear();
      pending_ = false;
    }
    return true;
  }

  std::string_view text_;
  const rapidjson::MemoryStream& stream_;
  std::vector<RawMember>* out_;
  int depth_ = 0;
  bool root_is_object_ = false;
  bool pending_ = false;
  std::string pending_name_;
  std::size_t pending_start_ = 0;
};

// SAX handler that records the span of each element of a top-level array,
// with the stream positions as MemberScanner has them. An element starts
// at the first character after the '[' or the ',' before it that is not a
// space.
class ElementScanner : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ElementScanner> {
 public:
  ElementScanner(std::string_view text, const rapidjson::MemoryStream& stream,
                 std::vector<std::string_view>* out)
      : text_(text), stream_(stream), out_(out) {}

  bool root_is_array() const { return root_is_array_; }

  bool Default() { return value_done(); }
  bool RawNumber(const Ch*, rapidjson::SizeType, bool) { return value_done(); }
  bool String(const Ch*, rapidjson::SizeType, bool) { return value_done(); }
  bool Key(const Ch*, rapidjson::SizeType, bool) { return true; }
  bool StartObject() {
    ++depth_;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    return value_done(1);
  }
  bool StartArray() {
    if (depth_ == 0) {
      root_is_array_ = true;
      // Just after the '['.
      next_ = text_.find('[') + 1;
    }
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return depth_ == 0 ? true : value_done(1);
  }

 private:
  bool value_done(std::size_t unread = 0) {
    if (depth_ != 1) return true;
    std::size_t start = next_;
    while (start < text_.size() && (is_json_space(text_[start]) || text_[start] == ',')) ++start;
    std::size_t end = stream_.Tell() + unread;
    out_->push_back(text_.substr(start, end - start));
    next_ = end;
    return true;
  }

  std::string_view text_;
  const rapidjson::MemoryStream& stream_;
  std::vector<std::string_view>* out_;
  int depth_ = 0;
  bool root_is_array_ = false;
  std::size_t next_ = 0;  // where the text after the last element starts
};

// Runs `scanner` (reading `stream`, over `json`) through the whole text.
// Errors: bad_request for invalid JSON.
template <typename Scanner>
Status scan_all(std::string_view json, rapidjson::MemoryStream& stream, Scanner& scanner) {
  rapidjson::Reader reader;
  // Iterative: deep nesting costs heap, not the request thread's stack.
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult r = reader.Parse<kFlags>(stream, scanner);
  // A NUL byte reads as the end of a MemoryStream: text after one is
  // garbage the reader did not see.
  if (r.IsError() || stream.Tell() != json.size()) return Status::bad_request("invalid UTF-8 JSON");
  return Status::ok();
}

}  // namespace

Result<std::vector<std::string_view>> scan_array_elements(std::string_view json) {
  std::vector<std::string_view> elements;
  rapidjson::MemoryStream stream(json.data(), json.size());
  ElementScanner scanner(json, stream, &elements);
  if (Status s = scan_all(json, stream, scanner); !s.is_ok()) return s;
  if (!scanner.root_is_array()) return Status::bad_request("`docs` parameter must be an array.");
  return elements;
}

Result<std::vector<RawMember>> scan_object_members(std::string_view json) {
  std::vector<RawMember> members;
  rapidjson::MemoryStream stream(json.data(), json.size());
  MemberScanner scanner(json, stream, &members);
  if (Status s = scan_all(json, stream, scanner); !s.is_ok()) return s;
  if (!scanner.root_is_object()) return Status::bad_request("Request body must be a JSON object");
  return members;
}

const RawMember* find_member(const std::vector<RawMember>& members, std::string_view name) {
  const RawMember* found = nullptr;
  for (const RawMember& m : members) {
    if (m.name == name) found = &m;
  }
  return found;
}

std::optional<std::string> string_member(const std::vector<RawMember>& members, std::string_view name) {
  const RawMember* m = find_member(members, name);
  if (m == nullptr) return std::nullopt;
  auto v = parse_json(m->value);
  if (!v.is_ok() || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

BodyPeek peek_body(std::string_view body) {
  BodyPeek out;
  auto members = scan_object_members(body);
  if (!members.is_ok()) return out;
  out.id = string_member(*members, "_id").value_or("");
  out.rev = string_member(*members, "_rev");
  if (const RawMember* del = find_member(*members, "_deleted")) out.deleted = del->value == "true";
  return out;
}

}  // namespace divan::http
