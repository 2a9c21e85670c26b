#include "db/names.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace divan::db {
namespace {

constexpr std::size_t kMaxDatabaseNameLength = 238;
constexpr std::array<std::string_view, 3> kSystemDatabases = {"_users", "_replicator",
                                                              "_global_changes"};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '(' ||
         c == ')' || c == '+' || c == '-' || c == '/';
}

bool matches_user_rule(std::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

}  // namespace

Status validate_database_name(std::string_view name) {
  bool ok = false;
  if (name.size() <= kMaxDatabaseNameLength) {
    for (auto sys : kSystemDatabases) {
      if (name == sys) ok = true;
    }
    // "<prefix>/_replicator" and "<prefix>/_users" are valid as well.
    for (std::string_view suffix : {std::string_view("/_replicator"), std::string_view("/_users")}) {
      if (!ok && name.size() > suffix.size() && name.ends_with(suffix) &&
          matches_user_rule(name.substr(0, name.size() - suffix.size()))) {
        ok = true;
      }
    }
    if (!ok) ok = matches_user_rule(name);
  }
  if (ok) return Status::ok();
  return Status(ErrorCode::kIllegalDatabaseName,
                "Name: '" + std::string(name) +
                    "'. Only lowercase characters (a-z), digits (0-9), and any of the characters "
                    "_, $, (, ), +, -, and / are allowed. Must begin with a letter.");
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII, which most ids are, eight bytes at a time.
    if (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += len;
  }
  return true;
}

Status validate_doc_id(std::string_view id) {
  auto illegal = [](std::string reason) {
    return Status(ErrorCode::kIllegalDocId, std::move(reason));
  };
  if (id.empty()) return illegal("Document id must not be empty");
  if (id == kDesignPrefix) return illegal("Illegal document id `_design/`");
  if (id == kLocalPrefix) return illegal("Illegal document id `_local/`");
  if (id.size() > kMaxDocIdLength) return illegal("Document id is too long");
  if (!is_valid_utf8(id)) return illegal("Document id must be valid UTF-8");
  if (id[0] == '_' && !is_design_id(id) && !is_local_id(id)) {
    return illegal("Only reserved document ids may start with underscore.");
  }
  return Status::ok();
}

std::string database_file_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '/') c = '%';
  }
  out += kDbFileSuffix;
  return out;
}

std::optional<std::string> database_name_of_file(std::string_view file_name) {
  if (!file_name.ends_with(kDbFileSuffix)) return std::nullopt;
  std::string name(file_name.substr(0, file_name.size() - kDbFileSuffix.size()));
  for (char& c : name) {
    if (c == '%') c = '/';
  }
  if (!validate_database_name(name).is_ok()) return std::nullopt;
  return name;
}

}  // namespace divan::db
