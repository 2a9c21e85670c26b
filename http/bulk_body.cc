#include "http/bulk_body.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstring>
#include <optional>
#include <string>
#include <utility>

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

// ---- Delimiting without checking (scan_object_members_lazily) ----
// These find where a JSON value ends, assuming it is valid. They never read
// outside the text, and give kNone when they cannot tell.

constexpr std::size_t kNone = std::string_view::npos;

std::size_t skip_space(std::string_view t, std::size_t i) {
  while (i < t.size() && is_json_space(t[i])) ++i;
  return i;
}

// From just after a string's opening quote to just after its closing one.
std::size_t skip_string_rest(std::string_view t, std::size_t i) {
  const std::size_t start = i;
  for (;;) {
    const void* q = std::memchr(t.data() + i, '"', t.size() - i);
    if (q == nullptr) return kNone;
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(q) - t.data());
    // A quote after an odd number of backslashes is escaped.
    std::size_t slashes = 0;
    while (at - slashes > start && t[at - slashes - 1] == '\\') ++slashes;
    if (slashes % 2 == 0) return at + 1;
    i = at + 1;
  }
}

// From an opening '[' or '{' to just after the bracket that closes it.
std::size_t skip_nested(std::string_view t, std::size_t i) {
  std::size_t depth = 0;
  while (i < t.size()) {
    switch (t[i]) {
      case '"':
        i = skip_string_rest(t, i + 1);
        if (i == kNone) return kNone;
        continue;
      case '[':
      case '{':
        ++depth;
        break;
      case ']':
      case '}':
        if (--depth == 0) return i + 1;
        break;
      default:
        break;
    }
    ++i;
  }
  return kNone;
}

std::size_t skip_value(std::string_view t, std::size_t i) {
  if (i >= t.size()) return kNone;
  if (t[i] == '"') return skip_string_rest(t, i + 1);
  if (t[i] == '[' || t[i] == '{') return skip_nested(t, i);
  while (i < t.size() && !is_json_space(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  return i;
}

}  // namespace

std::optional<std::pair<std::size_t, std::size_t>> delimit_member(std::string_view t,
                                                                  std::string_view name) {
  std::size_t i = skip_space(t, 0);
  if (i >= t.size() || t[i] != '{') return std::nullopt;
  i = skip_space(t, i + 1);
  std::optional<std::pair<std::size_t, std::size_t>> found;
  if (i < t.size() && t[i] == '}') return found;
  for (;;) {
    if (i >= t.size() || t[i] != '"') return std::nullopt;
    const std::size_t name_end = skip_string_rest(t, i + 1);
    if (name_end == kNone) return std::nullopt;
    const std::string_view raw_name = t.substr(i + 1, name_end - i - 2);
    // A name with an escape is not plain to compare.
    if (raw_name.find('\\') != std::string_view::npos) return std::nullopt;
    i = skip_space(t, name_end);
    if (i >= t.size() || t[i] != ':') return std::nullopt;
    i = skip_space(t, i + 1);
    const std::size_t value_end = skip_value(t, i);
    if (value_end == kNone) return std::nullopt;
    if (raw_name == name) found = std::pair{i, value_end};
    i = skip_space(t, value_end);
    if (i < t.size() && t[i] == ',') {
      i = skip_space(t, i + 1);
      continue;
    }
    if (i < t.size() && t[i] == '}') return found;
    return std::nullopt;
  }
}

namespace {

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

Result<std::vector<RawMember>> scan_object_members_lazily(std::string_view json,
                                                          std::string_view lazy) {
  const auto span = delimit_member(json, lazy);
  if (!span || json[span->first] != '[') return scan_object_members(json);
  const auto [start, end] = *span;
  std::string rest;
  rest.reserve(json.size() - (end - start) + 2);
  rest.append(json.substr(0, start)).append("[]").append(json.substr(end));
  auto members = scan_object_members(rest);
  // Whatever is wrong, the full scan's answer is the one to give.
  if (!members.is_ok()) return scan_object_members(json);
  // The members' values are views into `rest`: point them into `json`.
  const std::size_t shift = (end - start) - 2;
  for (RawMember& m : *members) {
    const auto at = static_cast<std::size_t>(m.value.data() - rest.data());
    if (at == start) {
      m.value = json.substr(start, end - start);
    } else {
      m.value = json.substr(at < start ? at : at + shift, m.value.size());
    }
  }
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
