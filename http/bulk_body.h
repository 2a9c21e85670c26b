// Finding the members of a JSON request body without building a DOM.
//
// _bulk_docs hands the text of its "docs" array to the core untouched: the
// core keeps numbers exactly as sent (1.50 stays 1.50, a 30-digit integer
// keeps every digit), and a round trip through a DOM would change them. So
// the body is scanned once with RapidJSON's SAX reader, recording where each
// top-level member's value starts and ends; the value text is then a view
// into the body.
#ifndef DIVAN_HTTP_BULK_BODY_H_
#define DIVAN_HTTP_BULK_BODY_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "divan/status.h"

namespace divan::http {

// One top-level member of a JSON object.
struct RawMember {
  std::string name;        // unescaped
  std::string_view value;  // the value's JSON text exactly as sent (a view into the body)
};

// The top-level members of `json`, in order (a repeated name appears each
// time). The views point into `json`, which must outlive them.
// Errors: bad_request "invalid UTF-8 JSON" (also for trailing garbage);
// bad_request "Request body must be a JSON object" for any other valid JSON.
Result<std::vector<RawMember>> scan_object_members(std::string_view json);

// scan_object_members() for a body whose member `lazy` holds a large array
// the caller parses in full anyway (the "docs" of _bulk_docs, which the
// core parses): that array is only delimited, not read by a JSON parser,
// so the body is not parsed twice. The rest is checked as
// scan_object_members() checks it, with "[]" in the array's place.
// - A valid body gives the same members as scan_object_members().
// - An invalid one gives its error, or members whose last `lazy` value is
//   an array that is not valid JSON by itself: the caller's parse of it
//   fails. (Text is valid exactly when the rest is valid with "[]" in the
//   array's place and the array is valid by itself.)
Result<std::vector<RawMember>> scan_object_members_lazily(std::string_view json,
                                                          std::string_view lazy);

// The delimiting behind it: where the value of the last top-level member
// called `name` is, as [first, second), without checking the text. Nothing
// when there is no such member, when a member name holds an escape, or when
// the text cannot be delimited.
std::optional<std::pair<std::size_t, std::size_t>> delimit_member(std::string_view json,
                                                                  std::string_view name);

// The elements of the JSON array `json`, each its text exactly as sent (a
// view into `json`, which must outlive them), in order.
// Errors: bad_request "invalid UTF-8 JSON" (also for trailing garbage);
// bad_request "`docs` parameter must be an array." for any other valid JSON.
Result<std::vector<std::string_view>> scan_array_elements(std::string_view json);

// The value of the last member called `name` if it is a JSON string
// (unescaped), or nullopt.
std::optional<std::string> string_member(const std::vector<RawMember>& members, std::string_view name);

// What a handler needs from a document body before the core parses it.
struct BodyPeek {
  std::string id;                  // top-level "_id", if a string
  std::optional<std::string> rev;  // top-level "_rev", if a string
  bool deleted = false;            // "_deleted": true
};

// Reads the body's top-level `_id`, `_rev` and `_deleted`. A body that is
// not a JSON object yields nothing: the core reports it.
BodyPeek peek_body(std::string_view body);

// The last member called `name` (CouchDB's decoder keeps the last of
// repeated keys), or nullptr.
const RawMember* find_member(const std::vector<RawMember>& members, std::string_view name);

}  // namespace divan::http

#endif  // DIVAN_HTTP_BULK_BODY_H_
