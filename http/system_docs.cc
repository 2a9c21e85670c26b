#include "http/system_docs.h"

#include <optional>

#include "divan/auth.h"
#include "divan/options.h"
#include "divan/replication_scheduler.h"
#include "http/server.h"

namespace divan::http {
namespace {

bool is_users_db(std::string_view db) { return db == users_db::kName; }

// Replication documents are the ones the replicator reads: not design or
// `_local` documents.
bool is_replication_doc_id(std::string_view id) {
  return !id.starts_with("_design/") && !id.starts_with("_local/");
}

// The body of the current winner of `id`, or nullopt when it is missing or
// deleted.
Result<std::optional<std::string>> current_body(Database& database, std::string_view id) {
  if (id.empty()) return std::optional<std::string>();  // an id yet to be generated
  auto doc = database.get(id);
  if (doc.is_ok()) return std::optional<std::string>(std::move(doc->body));
  if (doc.status().code() == ErrorCode::kNotFound) return std::optional<std::string>();
  return doc.status();
}

}  // namespace

bool is_replicator_db(std::string_view db) {
  return db == "_replicator" || db.ends_with("/_replicator");
}

Status check_doc_read(const Ctx& ctx, std::string_view db, std::string_view doc_id) {
  if (!is_users_db(db)) return Status::ok();
  return users_db::check_read(doc_id, ctx.user());
}

std::string doc_json_for_read(std::string_view db, const Document& doc) {
  if (!is_replicator_db(db) || !is_replication_doc_id(doc.id)) return doc.to_json();
  return redact_replication_doc(doc.to_json());
}

bool has_write_rules(std::string_view db, bool new_edits) {
  return is_users_db(db) || (new_edits && is_replicator_db(db));
}

Result<std::string> doc_body_for_write(Ctx& ctx, Database& database, std::string_view db,
                                       std::string_view doc_id, std::string_view body,
                                       bool deleted, bool new_edits) {
  // `_local` documents are not replicated, and no rule applies to them.
  if (!has_write_rules(db, new_edits) || doc_id.starts_with("_local/")) return std::string(body);
  if (is_replicator_db(db) && (deleted || !is_replication_doc_id(doc_id))) {
    return std::string(body);
  }
  auto current = current_body(database, doc_id);
  if (!current.is_ok()) return current.status();
  if (is_users_db(db)) {
    return users_db::prepare_write(doc_id, body, deleted, *current, ctx.user(),
                                   ctx.server().auth().options().iterations,
                                   *RandomSource::system());
  }
  if (!*current) return std::string(body);
  return restore_redacted_credentials(body, **current);
}

}  // namespace divan::http
