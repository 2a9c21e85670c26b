// Documents as divan reads and writes them.
//
// JSON goes in as text and comes out as owned strings: a write takes the
// document's JSON, a read returns a Document whose to_json() renders it the
// way CouchDB does. Nothing here points into divan's storage.
#ifndef DIVAN_DOCUMENT_H_
#define DIVAN_DOCUMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/status.h"

namespace divan {

// `_revisions`: the revision ids from a revision back to its oldest known
// ancestor, newest first; the pos of ids[i] is start - i.
struct Revisions {
  std::uint64_t start = 0;
  std::vector<std::string> ids;  // hashes only, without "N-"
};

// One entry of `_revs_info`.
struct RevStatus {
  std::string rev;     // "N-hash"
  std::string status;  // "available", "deleted" or "missing"
};

// A revision of a document, as read.
struct Document {
  std::string id;
  std::string rev;       // "N-hash", or "0-N" for _local documents
  bool deleted = false;  // this revision is a tombstone
  // The document's own members as a JSON object, without any "_" member
  // ("{}" when there are none).
  std::string body;

  // Filled only when the read asked for them (see GetOptions).
  std::optional<Revisions> revisions;
  std::vector<RevStatus> revs_info;
  std::vector<std::string> conflicts;
  std::vector<std::string> deleted_conflicts;
  std::optional<std::uint64_t> local_seq;

  // CouchDB's JSON for this document: {"_id", "_rev", body members...,
  // "_deleted" if deleted, then "_revisions", "_revs_info", "_conflicts",
  // "_deleted_conflicts", "_local_seq" where present and non-empty}.
  std::string to_json() const;
};

// Options of one document read.
struct GetOptions {
  // Read this revision instead of the winner: any revision whose body is
  // still stored, leaf or not, deleted or not.
  std::optional<std::string> rev;
  bool revs = false;               // add `_revisions`
  bool revs_info = false;          // add `_revs_info` (winner only)
  bool conflicts = false;          // add `_conflicts` (winner only)
  bool deleted_conflicts = false;  // add `_deleted_conflicts` (winner only)
  bool local_seq = false;          // add `_local_seq` (winner only)
  // Return the winner even when it is a tombstone, instead of not_found.
  bool deleted = false;
};

// Options of an open_revs read.
struct OpenRevsOptions {
  // true: every leaf. false: the revisions in `revs`.
  bool all = false;
  std::vector<std::string> revs;
  // Replace each requested revision by the leaves descending from it.
  bool latest = false;
  bool revs_history = false;  // add `_revisions` to each document
};

// One result of open_revs: a document, or the revision that is missing.
struct OpenRev {
  std::optional<Document> ok;
  std::string missing;  // set when !ok
};

// The outcome of writing one document.
struct DocResult {
  std::string id;
  std::string rev;  // the new revision, when status is ok
  Status status;    // ok, or e.g. conflict, forbidden
};

// Options of put().
struct PutOptions {
  // CouchDB's new_edits. true (default): an interactive edit that must name
  // the current leaf revision it replaces. false: a replicated write that
  // merges the given `_revisions`/`_rev` history without conflict checks.
  bool new_edits = true;
  // The document id from outside the body (the URL of PUT /db/{id});
  // overrides the body's `_id`.
  std::optional<std::string> id;
  // A revision from outside the body (?rev= or If-Match). If the body also
  // has `_rev` they must be equal (else bad_request).
  std::optional<std::string> rev;
};

// Options of bulk_docs().
struct BulkDocsOptions {
  bool new_edits = true;
};

// One document's question for revs_diff: which of these revisions are
// missing here?
struct RevsDiffRequest {
  std::string id;
  std::vector<std::string> revs;
};

// The answer for one document that lacks some of the revisions asked for.
struct RevsDiffEntry {
  std::string id;
  std::vector<std::string> missing;
  std::vector<std::string> possible_ancestors;
};

// Checks the syntax of a revision id ("N-hash") as every call taking one
// does. Errors: bad_request "Invalid rev format".
Status validate_rev(std::string_view rev);

}  // namespace divan

#endif  // DIVAN_DOCUMENT_H_
