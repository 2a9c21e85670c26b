// Errors as HTTP responses: CouchDB's status codes and {"error","reason"}.
#ifndef DIVAN_HTTP_HTTP_ERROR_H_
#define DIVAN_HTTP_HTTP_ERROR_H_

#include <string>

#include "divan/status.h"

namespace divan::http {

// One failure to answer: the HTTP status, CouchDB's "error" and "reason".
// Statuses come from the core as Status (see from_status); errors that only
// the HTTP layer knows (a wrong method, a wrong Content-Type) are made here.
struct HttpError {
  int status = 500;
  std::string error;
  std::string reason;
  std::string allow;  // for 405: the Allow header

  // The one place a Status becomes an HTTP status.
  static HttpError from_status(const Status& s);

  static HttpError bad_request(std::string reason) { return {400, "bad_request", std::move(reason), {}}; }
  static HttpError not_found(std::string reason) { return {404, "not_found", std::move(reason), {}}; }
  static HttpError method_not_allowed(const std::string& allowed) {
    return {405, "method_not_allowed", "Only " + allowed + " allowed", allowed};
  }
  static HttpError bad_content_type() {
    return {415, "bad_content_type", "Content-Type must be application/json", {}};
  }
  static HttpError too_large() { return {413, "too_large", "the request entity is too large", {}}; }
  static HttpError not_implemented(std::string reason) {
    return {501, "not_implemented", std::move(reason), {}};
  }

  // {"error":...,"reason":...}
  std::string body() const;
};

}  // namespace divan::http

#endif  // DIVAN_HTTP_HTTP_ERROR_H_
