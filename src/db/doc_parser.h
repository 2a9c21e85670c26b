// Turning a document's JSON text into what the write path needs.
//
// One streaming pass (RapidJSON SAX, in situ) splits a document into its
// special "_" members and its body, writing the body in canonical form
// (compact, numbers exactly as sent, strings re-escaped the same way every
// time). Canonical bodies make revision hashes deterministic: the same edit
// sent twice, with any whitespace, yields the same revision. Objects with a
// repeated key keep the last occurrence (as CouchDB's decoder does); they
// take a slower two-pass route, since that is rare.
#ifndef DIVAN_DB_DOC_PARSER_H_
#define DIVAN_DB_DOC_PARSER_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/status.h"
#include "rev/rev_id.h"

namespace divan::db {

struct ParsedDoc {
  std::string id;                  // empty when the document named none
  std::optional<rev::RevId> rev;   // `_rev` ("0-N" allowed only for _local)
  // `_revisions` as a path, newest first, positions consecutive.
  std::optional<std::vector<rev::RevId>> revisions;
  bool deleted = false;            // `_deleted: true`
  std::string body;                // canonical JSON object, no "_" members
};

struct ParseLimits {
  std::size_t max_document_size = 8'000'000;
  // An id from outside the body (the URL of PUT /db/{id}): when not empty it
  // replaces the body's `_id`, before the id decides what the document is
  // (a _local document keeps no `_revisions`).
  std::string_view id;
  // Parse recursively, which is faster but needs up to ~130 KiB of stack
  // for the deepest nesting accepted: for threads divan started (the helper
  // thread of bulk writes). It is done only if the thread's stack is at
  // least 1 MiB; else the parse is iterative, as always without this.
  bool recursive = false;
};

// Parses one document (a JSON object). Errors: bad_request (invalid JSON,
// not an object, bad `_rev`/`_revisions`/`_id` types), doc_validation
// (unknown "_" member, non-boolean `_deleted`, bad `_revisions` shape),
// illegal_docid, document_too_large.
Status parse_document(std::string_view json, const ParseLimits& limits, ParsedDoc* out);

// Parses a JSON array of documents. The first bad document fails the whole
// array with its error.
Status parse_document_array(std::string_view json, const ParseLimits& limits,
                            std::vector<ParsedDoc>* out);

// Receives the documents of an array one by one, in order. An error it
// returns ends the parse with that error.
using DocSink = std::function<Status(ParsedDoc&&)>;

// Memory a caller that parses many arrays keeps between them, for the
// parser to reuse.
struct ParseBuffers {
  std::string* scratch = nullptr;  // for the parser's copy of the text
  // Empty strings with capacity: each document's body takes one, from the
  // back, while any are left.
  std::vector<std::string>* spare_bodies = nullptr;
};

// Parses a JSON array of documents, handing each to `sink` as soon as it is
// complete, so a consumer can work on the first documents while the rest
// are parsed. The documents the sink got before an error are to be
// discarded: the error stands for the whole array, as above.
Status parse_document_array(std::string_view json, const ParseLimits& limits,
                            const DocSink& sink, const ParseBuffers& buffers = {});

}  // namespace divan::db

#endif  // DIVAN_DB_DOC_PARSER_H_
