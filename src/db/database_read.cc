// DatabaseImpl: the read path (get, open_revs, revs_diff, all_docs, info).
// Every read runs on one short LMDB snapshot and copies what it returns.
#include <algorithm>

#include "db/database_impl.h"
#include "db/meta.h"
#include "db/names.h"
#include "db/stored_doc.h"

namespace divan::db {

using rev::RevId;
using rev::RevInfo;
using rev::RevTree;

namespace {

const char kMissing[] = "missing";
const char kDeleted[] = "deleted";

// The body of revision `rev` of a stored document, if still stored.
Result<std::optional<std::string>> read_body(const storage::ReadTxn& txn, storage::Dbi bodies,
                                             const StoredDoc& doc, std::string_view id,
                                             const RevId& rev) {
  if (rev == doc.record().winner) {
    auto body = doc.body();
    if (!body.is_ok()) return body.status();
    return std::optional<std::string>(std::string(*body));
  }
  std::string key;
  encode_body_key(id, rev, &key);
  auto bytes = txn.get(bodies, key);
  if (!bytes.is_ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(**bytes));
}

Revisions revisions_of(const RevTree& tree, const RevId& rev, std::uint32_t limit) {
  Revisions r;
  r.start = rev.pos;
  for (const RevInfo& ri : tree.history(rev, limit)) r.ids.push_back(ri.rev.hash);
  return r;
}

std::vector<std::string> rev_strings(const std::vector<RevId>& revs) {
  std::vector<std::string> out;
  out.reserve(revs.size());
  for (const RevId& r : revs) out.push_back(r.str());
  return out;
}

// A revision of a stored document as a Document, or nullopt if its body is
// gone (compacted away, or known only by id).
Result<std::optional<Document>> revision_document(const storage::ReadTxn& txn,
                                                  storage::Dbi bodies, const StoredDoc& doc,
                                                  std::string_view id, const RevInfo& info) {
  if (!info.has_body) return std::optional<Document>();
  auto body = read_body(txn, bodies, doc, id, info.rev);
  if (!body.is_ok()) return body.status();
  if (!body->has_value()) return std::optional<Document>();
  Document d;
  d.id = std::string(id);
  d.rev = info.rev.str();
  d.deleted = info.deleted;
  d.body = std::move(**body);
  return std::optional<Document>(std::move(d));
}

}  // namespace

Result<Document> DatabaseImpl::winner_document(StoredDoc& doc, std::string_view id,
                                               const GetOptions& o) {
  Document d;
  d.id = std::string(id);
  d.rev = doc.record().winner.str();
  d.deleted = doc.record().deleted;
  auto body = doc.body();
  if (!body.is_ok()) return body.status();
  d.body = std::string(*body);
  if (o.revs || o.revs_info || o.conflicts || o.deleted_conflicts) {
    auto tree = doc.tree();
    if (!tree.is_ok()) return tree.status();
    const RevTree& t = **tree;
    std::uint32_t limit = revs_limit_.load();
    if (o.revs) d.revisions = revisions_of(t, doc.record().winner, limit);
    if (o.revs_info) {
      for (const RevInfo& ri : t.history(doc.record().winner)) {
        d.revs_info.push_back(
            {ri.rev.str(), !ri.has_body ? kMissing : ri.deleted ? kDeleted : "available"});
      }
    }
    if (o.conflicts) d.conflicts = rev_strings(t.conflicts());
    if (o.deleted_conflicts) d.deleted_conflicts = rev_strings(t.deleted_conflicts());
  }
  if (o.local_seq) d.local_seq = doc.record().seq;
  return d;
}

Result<Document> DatabaseImpl::get_local(storage::ReadTxn& txn, std::string_view id) {
  auto bytes = txn.get(dbi_.local, id);
  if (!bytes.is_ok()) return bytes.status();
  if (!bytes->has_value()) return Status::not_found(kMissing);
  LocalRecord rec;
  if (Status s = decode_local_record(**bytes, &rec); !s.is_ok()) return s;
  Document d;
  d.id = std::string(id);
  d.rev = "0-" + std::to_string(rec.rev);
  d.body = std::string(rec.body);
  return d;
}

Result<Document> DatabaseImpl::get(std::string_view id, const GetOptions& options) {
  if (Status s = check_open(); !s.is_ok()) return s;
  if (Status s = validate_doc_id(id); !s.is_ok()) return s;
  std::optional<RevId> want;
  if (options.rev) {
    auto r = RevId::parse(*options.rev);
    if (!r.is_ok()) return r.status();
    want = std::move(r.value());
  }
  auto txn = env_->begin_read();
  if (!txn.is_ok()) return txn.status();
  if (is_local_id(id)) return get_local(*txn, id);

  auto doc = StoredDoc::load(*txn, dbi_.docs, dbi_.by_seq, id);
  if (!doc.is_ok()) return doc.status();
  if (!doc->found()) return Status::not_found(kMissing);

  if (!want || *want == doc->record().winner) {
    if (!want && doc->record().deleted && !options.deleted) return Status::not_found(kDeleted);
    // CouchDB adds the meta fields only when reading the winner without ?rev.
    GetOptions o = options;
    if (want) o.revs_info = o.conflicts = o.deleted_conflicts = o.local_seq = false;
    return winner_document(*doc, id, o);
  }

  auto tree = doc->tree();
  if (!tree.is_ok()) return tree.status();
  auto info = (*tree)->info(*want);
  if (!info) return Status::not_found(kMissing);
  auto d = revision_document(*txn, dbi_.bodies, *doc, id, *info);
  if (!d.is_ok()) return d.status();
  if (!d->has_value()) return Status::not_found(kMissing);
  if (options.revs) (*d)->revisions = revisions_of(**tree, *want, revs_limit_.load());
  return std::move(**d);
}

Result<std::vector<OpenRev>> DatabaseImpl::open_revs(std::string_view id,
                                                     const OpenRevsOptions& options) {
  if (Status s = check_open(); !s.is_ok()) return s;
  if (Status s = validate_doc_id(id); !s.is_ok()) return s;
  std::vector<RevId> wanted;
  for (const std::string& r : options.revs) {
    auto parsed = RevId::parse(r);
    if (!parsed.is_ok()) return parsed.status();
    wanted.push_back(std::move(parsed.value()));
  }
  auto txn = env_->begin_read();
  if (!txn.is_ok()) return txn.status();
  auto doc = StoredDoc::load(*txn, dbi_.docs, dbi_.by_seq, id);
  if (!doc.is_ok()) return doc.status();

  std::vector<OpenRev> out;
  if (!doc->found() || is_local_id(id)) {
    if (options.all) return Status::not_found(kMissing);
    for (const RevId& r : wanted) out.push_back({std::nullopt, r.str()});
    return out;
  }
  auto tree = doc->tree();
  if (!tree.is_ok()) return tree.status();
  const RevTree& t = **tree;
  std::uint32_t limit = revs_limit_.load();

  // Adds revision `info` to the result, or `asked` as missing if its body
  // is gone.
  std::vector<RevId> emitted;
  auto emit = [&](const RevInfo& info, const std::string& asked) -> Status {
    auto d = revision_document(*txn, dbi_.bodies, *doc, id, info);
    if (!d.is_ok()) return d.status();
    if (!d->has_value()) {
      out.push_back({std::nullopt, asked});
      return Status::ok();
    }
    if (options.revs_history) (*d)->revisions = revisions_of(t, info.rev, limit);
    out.push_back({std::move(**d), {}});
    emitted.push_back(info.rev);
    return Status::ok();
  };

  if (options.all) {
    for (const RevInfo& leaf : t.leaves()) {
      if (Status s = emit(leaf, leaf.rev.str()); !s.is_ok()) return s;
    }
    return out;
  }
  for (const RevId& r : wanted) {
    if (options.latest) {
      // Each requested revision stands for the leaves below it; a leaf
      // reached from two requests is returned once.
      std::vector<RevInfo> leaves = t.leaves_under(r);
      if (leaves.empty()) out.push_back({std::nullopt, r.str()});
      for (const RevInfo& leaf : leaves) {
        if (std::find(emitted.begin(), emitted.end(), leaf.rev) != emitted.end()) continue;
        if (Status s = emit(leaf, r.str()); !s.is_ok()) return s;
      }
    } else if (auto info = t.info(r)) {
      if (Status s = emit(*info, r.str()); !s.is_ok()) return s;
    } else {
      out.push_back({std::nullopt, r.str()});
    }
  }
  return out;
}

Result<std::vector<RevsDiffEntry>> DatabaseImpl::revs_diff(
    const std::vector<RevsDiffRequest>& request) {
  if (Status s = check_open(); !s.is_ok()) return s;
  // Parse everything first: a malformed revision fails the whole request.
  std::vector<std::vector<RevId>> parsed(request.size());
  for (std::size_t i = 0; i < request.size(); ++i) {
    for (const std::string& r : request[i].revs) {
      auto rev = RevId::parse(r);
      if (!rev.is_ok()) return rev.status();
      parsed[i].push_back(std::move(rev.value()));
    }
  }
  auto txn = env_->begin_read();
  if (!txn.is_ok()) return txn.status();
  std::vector<RevsDiffEntry> out;
  for (std::size_t i = 0; i < request.size(); ++i) {
    RevTree::Diff diff;
    // An id that cannot exist has every revision missing.
    std::optional<StoredDoc> doc;
    if (validate_doc_id(request[i].id).is_ok()) {
      auto loaded = StoredDoc::load(*txn, dbi_.docs, dbi_.by_seq, request[i].id);
      if (!loaded.is_ok()) return loaded.status();
      if (loaded->found()) doc.emplace(std::move(loaded.value()));
    }
    if (doc) {
      auto tree = doc->tree();
      if (!tree.is_ok()) return tree.status();
      diff = (*tree)->revs_diff(parsed[i]);
    } else {
      diff = RevTree().revs_diff(parsed[i]);  // all missing, no ancestors
    }
    if (diff.missing.empty()) continue;
    out.push_back({request[i].id, rev_strings(diff.missing), rev_strings(diff.possible_ancestors)});
  }
  return out;
}

Result<AllDocsResult> DatabaseImpl::all_docs(const AllDocsOptions& o) {
  if (Status s = check_open(); !s.is_ok()) return s;
  auto txn = env_->begin_read();
  if (!txn.is_ok()) return txn.status();
  AllDocsResult out;
  {
    auto seq = meta::read_u64(*txn, dbi_.meta, meta::kUpdateSeq);
    if (!seq.is_ok()) return seq.status();
    out.update_seq = *seq;
    auto total = o.local ? txn->count(dbi_.local) : meta::read_u64(*txn, dbi_.meta, meta::kDocCount);
    if (!total.is_ok()) return total.status();
    out.total_rows = *total;
  }
  // Documents or _local documents: the same scan over either sub-database.
  const storage::Dbi dbi = o.local ? dbi_.local : dbi_.docs;
  GetOptions doc_opts;
  doc_opts.conflicts = o.conflicts;

  // True if the entry is listed by a range scan (deleted documents are not).
  auto listed = [&](std::string_view value) -> Result<bool> {
    if (o.local) return true;
    DocRecord rec;
    if (Status s = decode_doc_record(value, &rec); !s.is_ok()) return s;
    return !rec.deleted;
  };
  auto make_row = [&](std::string_view id, std::string_view value) -> Result<AllDocsRow> {
    AllDocsRow row;
    row.id = std::string(id);
    if (o.local) {
      LocalRecord rec;
      if (Status s = decode_local_record(value, &rec); !s.is_ok()) return s;
      row.rev = "0-" + std::to_string(rec.rev);
      if (o.include_docs) row.doc = Document{row.id, row.rev, false, std::string(rec.body), {}, {}, {}, {}, {}};
      return row;
    }
    DocRecord rec;
    if (Status s = decode_doc_record(value, &rec); !s.is_ok()) return s;
    row.rev = rec.winner.str();
    row.deleted = rec.deleted;
    if (o.include_docs && !row.deleted) {
      StoredDoc doc = StoredDoc::of(*txn, dbi_.by_seq, rec);
      auto d = winner_document(doc, id, doc_opts);
      if (!d.is_ok()) return d.status();
      row.doc = std::move(d.value());
    }
    return row;
  };

  if (o.keys) {
    std::uint64_t skipped = 0;
    for (const std::string& key : *o.keys) {
      if (out.rows.size() >= o.limit) break;
      if (skipped < o.skip) {
        ++skipped;
        continue;
      }
      // An id that cannot be in this listing (malformed, or of the other
      // kind) is simply not found.
      bool valid = validate_doc_id(key).is_ok() && is_local_id(key) == o.local;
      auto value = valid ? txn->get(dbi, key)
                         : Result<std::optional<std::string_view>>(std::nullopt);
      if (!value.is_ok()) return value.status();
      if (!value->has_value()) {
        AllDocsRow row;
        row.id = key;
        row.not_found = true;
        out.rows.push_back(std::move(row));
        continue;
      }
      auto row = make_row(key, **value);
      if (!row.is_ok()) return row.status();
      out.rows.push_back(std::move(row.value()));
    }
    out.offset = skipped;
    return out;
  }

  auto cursor = txn->cursor(dbi);
  if (!cursor.is_ok()) return cursor.status();
  // In scan order: `from` is where the scan starts, `to` where it stops.
  const std::optional<std::string>& from = o.start_key;
  const std::optional<std::string>& to = o.end_key;
  auto past_end = [&](std::string_view id) {
    if (!to) return false;
    int c = id.compare(*to);
    if (o.descending) c = -c;
    return o.inclusive_end ? c > 0 : c >= 0;
  };
  bool ok;
  if (!o.descending) {
    ok = from ? cursor->seek(*from) : cursor->first();
  } else if (from) {
    // The last id <= from.
    ok = cursor->seek(*from);
    if (!ok) ok = cursor->last();
    else if (cursor->key() > std::string_view(*from)) ok = cursor->prev();
  } else {
    ok = cursor->last();
  }

  // offset: listed entries before the first row, counted in scan order.
  std::uint64_t before = 0;
  if (from && ok) {
    auto counter = txn->cursor(dbi);
    if (!counter.is_ok()) return counter.status();
    std::string start_id(cursor->key());
    for (bool c = o.descending ? counter->last() : counter->first(); c;
         c = o.descending ? counter->prev() : counter->next()) {
      if (counter->key() == start_id) break;
      auto l = listed(counter->value());
      if (!l.is_ok()) return l.status();
      if (*l) ++before;
    }
    if (!counter->status().is_ok()) return counter->status();
  } else if (from && !ok) {
    before = out.total_rows;
  }

  std::uint64_t skipped = 0;
  for (; ok; ok = o.descending ? cursor->prev() : cursor->next()) {
    std::string_view id = cursor->key();
    if (past_end(id) || out.rows.size() >= o.limit) break;
    auto l = listed(cursor->value());
    if (!l.is_ok()) return l.status();
    if (!*l) continue;
    if (skipped < o.skip) {
      ++skipped;
      continue;
    }
    auto row = make_row(id, cursor->value());
    if (!row.is_ok()) return row.status();
    out.rows.push_back(std::move(row.value()));
  }
  if (!cursor->status().is_ok()) return cursor->status();
  out.offset = before + skipped;
  return out;
}

Result<DatabaseInfo> DatabaseImpl::info() {
  if (Status s = check_open(); !s.is_ok()) return s;
  DatabaseInfo info;
  info.db_name = name_;
  info.instance_start_time = instance_start_time_;
  info.compact_running = compact_running_.load();
  info.revs_limit = revs_limit_.load();
  {
    auto txn = env_->begin_read();
    if (!txn.is_ok()) return txn.status();
    for (auto [key, out] : {std::pair{meta::kUpdateSeq, &info.update_seq},
                            std::pair{meta::kDocCount, &info.doc_count},
                            std::pair{meta::kDocDelCount, &info.doc_del_count},
                            std::pair{meta::kExternal, &info.sizes_external}}) {
      auto v = meta::read_u64(*txn, dbi_.meta, key);
      if (!v.is_ok()) return v.status();
      *out = *v;
    }
  }
  auto stats = env_->stats();
  if (!stats.is_ok()) return stats.status();
  info.sizes_file = stats->file_size;
  info.sizes_active = stats->used_size;
  return info;
}

}  // namespace divan::db
