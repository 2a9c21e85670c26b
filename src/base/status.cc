#include "divan/status.h"

namespace divan {

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kBadRequest: return "bad_request";
    case ErrorCode::kFileExists: return "file_exists";
    case ErrorCode::kIllegalDatabaseName: return "illegal_database_name";
    case ErrorCode::kIllegalDocId: return "illegal_docid";
    case ErrorCode::kDocValidation: return "doc_validation";
    case ErrorCode::kDocumentTooLarge: return "document_too_large";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kIoError: return "io_error";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kDiskFull: return "disk_full";
    case ErrorCode::kInternal: return "internal_error";
  }
  return "internal_error";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string s(error());
  s += ": ";
  s += reason_;
  return s;
}

}  // namespace divan
