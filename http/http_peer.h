// Reading a remote server's JSON answers for HttpPeer (http_peer.cc).
//
// Documents pass through as text with their numbers exactly as the server
// sent them: a DOM round trip would turn 1.50 into 1.5 and a 30-digit
// integer into a double, and a replicated document must not change on the
// way. So documents are cut out of an answer by compact_values_at(), which
// re-writes them compactly from RapidJSON's SAX events with each number's
// text kept; the DOM is used only for the answer's structure.
#ifndef DIVAN_HTTP_HTTP_PEER_H_
#define DIVAN_HTTP_HTTP_PEER_H_

#include <rapidjson/document.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/peer.h"
#include "divan/status.h"

namespace divan::http {

// ---- DOM accessors: each checks the type, since RapidJSON asserts on a
// wrong-type access and an answer may have any shape ----

// The member `name` of `v`, or nullptr if `v` is not an object or lacks it.
const rapidjson::Value* get_member(const rapidjson::Value& v, const char* name);
// The member as a string; nullopt if missing or not a string.
std::optional<std::string> get_string(const rapidjson::Value& v, const char* name);
// A number or string member (a seq, instance_start_time) as its JSON text.
std::optional<std::string> get_json_text(const rapidjson::Value& v, const char* name);
// Appends the strings of an array; false if `v` is null, not an array, or
// holds a non-string.
bool get_strings(const rapidjson::Value* v, std::vector<std::string>* out);

// The code for CouchDB's error name (e.g. "forbidden"), or `otherwise`.
ErrorCode code_for_name(std::string_view name, ErrorCode otherwise);

// A path into a JSON value: an object member by name, or (nullptr) any
// element of an array. {"results", nullptr, "docs"} reaches every "docs"
// of every element of "results"; {} is the whole value.
using JsonPath = std::vector<const char*>;

// Each value of `json` at `path`, in document order, as compact JSON with
// numbers as sent. Errors: bad_request if `json` is not valid JSON.
Result<std::vector<std::string>> compact_values_at(std::string_view json, const JsonPath& path);

// The answer of GET _changes (style=all_docs): its rows (those with an
// empty id left out, as CouchDB's replicator does) and last_seq, seqs as
// JSON text. Errors: bad_request if the answer has another shape.
Result<PeerChanges> parse_changes(std::string_view body);

// The answer of POST _revs_diff ({id:{"missing":[...],
// "possible_ancestors":[...]}}), ids with nothing missing left out.
// Errors: bad_request if the answer has another shape.
Result<std::vector<RevsDiffEntry>> parse_revs_diff(std::string_view body);

// The answer of POST _bulk_get ({"results":[{"id","docs":[{"ok":doc} |
// {"error":{...}}]}]}) as one BulkGetResult per request, in order.
// Errors: bad_request if the answer has another shape or does not match
// the request.
Result<std::vector<BulkGetResult>> parse_bulk_get(std::string_view body,
                                                  const std::vector<BulkGetRequest>& request);

// The answer of GET /db/id?open_revs=[...]&revs=true&latest=true (a JSON
// array of {"ok":doc} and {"missing":rev}) for the requests `chunk` (indexes
// into `request`, all of one id): each document is added to the results of
// the requested revisions it is or descends from (by its `_revisions`);
// requests left with none get not_found. False if the answer has another
// shape.
bool parse_open_revs(std::string_view body, const std::vector<BulkGetRequest>& request,
                     const std::vector<std::size_t>& chunk, std::vector<BulkGetResult>* out);

}  // namespace divan::http

#endif  // DIVAN_HTTP_HTTP_PEER_H_
