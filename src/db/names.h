// Names: database names, document ids and how database names map to files.
#ifndef DIVAN_DB_NAMES_H_
#define DIVAN_DB_NAMES_H_

#include <optional>
#include <string>
#include <string_view>

#include "divan/status.h"

namespace divan::db {

inline constexpr std::string_view kLocalPrefix = "_local/";
inline constexpr std::string_view kDesignPrefix = "_design/";
// CouchDB's reason for a database that does not exist.
inline constexpr const char kNoDatabaseReason[] = "Database does not exist.";
// The suffix of a database's data file in the data folder.
inline constexpr std::string_view kDbFileSuffix = ".divan";

// CouchDB's database name rule (couchdb-semantics.md §4.1).
// Errors: illegal_database_name with CouchDB's reason.
Status validate_database_name(std::string_view name);

// The longest document id, in bytes. CouchDB sets no limit by default
// (max_document_id_length = infinity); LMDB keys are at most 511 bytes, and
// a body key holds the id and a revision.
inline constexpr std::size_t kMaxDocIdLength = 384;

// CouchDB's document id rule (§2.1), plus kMaxDocIdLength ("Document id is
// too long", CouchDB's reason when its limit is set). Errors: illegal_docid.
Status validate_doc_id(std::string_view id);

// True if `bytes` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view bytes);

inline bool is_local_id(std::string_view id) { return id.starts_with(kLocalPrefix); }
inline bool is_design_id(std::string_view id) { return id.starts_with(kDesignPrefix); }

// The file name of database `name` inside the data folder: the name with
// '/' written as '%' (which names cannot contain), plus ".divan".
std::string database_file_name(std::string_view name);
// The database name of a data file name, or nullopt if it is not one.
std::optional<std::string> database_name_of_file(std::string_view file_name);

}  // namespace divan::db

#endif  // DIVAN_DB_NAMES_H_
