#include "http/http_error.h"

#include "http/json.h"

namespace divan::http {

HttpError HttpError::from_status(const Status& s) {
  int status = 500;
  switch (s.code()) {
    case ErrorCode::kOk: status = 200; break;
    case ErrorCode::kNotFound: status = 404; break;
    case ErrorCode::kConflict: status = 409; break;
    case ErrorCode::kBadRequest:
    case ErrorCode::kIllegalDatabaseName:
    case ErrorCode::kIllegalDocId:
    case ErrorCode::kDocValidation: status = 400; break;
    case ErrorCode::kFileExists: status = 412; break;
    case ErrorCode::kDocumentTooLarge: status = 413; break;
    case ErrorCode::kForbidden: status = 403; break;
    case ErrorCode::kUnauthorized: status = 401; break;
    case ErrorCode::kDiskFull: status = 507; break;
    case ErrorCode::kIoError:
    case ErrorCode::kCorruption:
    case ErrorCode::kInternal: status = 500; break;
  }
  // Machine failures keep their kind but not their detail (paths and the
  // like stay in the server's log).
  if (status >= 500) {
    return {status, std::string(s.error()), "The server could not complete the request.", {}};
  }
  return {status, std::string(s.error()), s.reason(), {}};
}

std::string HttpError::body() const {
  JsonWriter w;
  w.start_object();
  w.key("error").string(error);
  w.key("reason").string(reason);
  w.end_object();
  return w.take();
}

}  // namespace divan::http
