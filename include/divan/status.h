// Status and Result<T>: how every divan call reports failure.
//
// divan does not throw across its API. A call that can fail returns a Status
// (for calls with no value) or a Result<T> (a T or a Status). The error code
// is named after CouchDB's error strings, so the HTTP layer maps a Status to
// a response without guessing, and an embedder sees the same words CouchDB
// users know ("not_found", "conflict", ...).
//
// Thread-safety: Status and Result are plain values; distinct objects may be
// used from distinct threads freely.
#ifndef DIVAN_STATUS_H_
#define DIVAN_STATUS_H_

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace divan {

// The kinds of failure. The first group are CouchDB's error names and are
// spelled as CouchDB spells them (see error_name()); the second group are
// failures of the machine rather than of the request.
enum class ErrorCode {
  kOk = 0,
  kNotFound,             // "not_found": no such database, document or revision
  kConflict,             // "conflict": document update conflict
  kBadRequest,           // "bad_request": malformed input
  kFileExists,           // "file_exists": the database already exists
  kIllegalDatabaseName,  // "illegal_database_name"
  kIllegalDocId,         // "illegal_docid"
  kDocValidation,        // "doc_validation": e.g. a bad special "_" member
  kDocumentTooLarge,     // "document_too_large": reason is the doc id
  kForbidden,            // "forbidden"
  kUnauthorized,         // "unauthorized"
  kIoError,              // "io_error": the file system failed
  kCorruption,           // "corruption": stored data cannot be decoded
  kDiskFull,             // "disk_full": no space left for the write
  kInternal,             // "internal_error": a bug or an impossible state
};

// CouchDB's spelling of `code`, e.g. "not_found". kOk gives "ok".
std::string_view error_name(ErrorCode code);

// The outcome of an operation: ok, or an error code with a human reason.
// `transient` marks failures worth retrying unchanged later (a busy or
// unreachable peer, a full disk that may be cleared); everything the caller
// sent wrong is permanent.
class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(ErrorCode code, std::string reason, bool transient = false)
      : code_(code), reason_(std::move(reason)), transient_(transient) {}

  static Status ok() { return Status(); }
  static Status not_found(std::string reason) { return {ErrorCode::kNotFound, std::move(reason)}; }
  static Status conflict(std::string reason = "Document update conflict.") {
    return {ErrorCode::kConflict, std::move(reason)};
  }
  static Status bad_request(std::string reason) { return {ErrorCode::kBadRequest, std::move(reason)}; }
  static Status io_error(std::string reason, bool transient = false) {
    return {ErrorCode::kIoError, std::move(reason), transient};
  }
  static Status corruption(std::string reason) { return {ErrorCode::kCorruption, std::move(reason)}; }
  static Status internal(std::string reason) { return {ErrorCode::kInternal, std::move(reason)}; }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  // CouchDB's "error" string for this status, e.g. "conflict".
  std::string_view error() const { return error_name(code_); }
  // CouchDB's "reason" string, e.g. "Document update conflict.".
  const std::string& reason() const { return reason_; }
  bool transient() const { return transient_; }

  // "error: reason", for logs and test failure messages.
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string reason_;
  bool transient_ = false;
};

// Either a value of type T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).is_ok() && "a Result's status must be an error");
  }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  // REQUIRES: is_ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error, or ok when a value is held.
  Status status() const { return is_ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace divan

#endif  // DIVAN_STATUS_H_
