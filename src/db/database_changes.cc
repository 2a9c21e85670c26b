// DatabaseImpl: the changes feed and waiting for changes.
//
// by_seq holds one entry per document, at its latest sequence, so a scan
// of it lists each document once, newest position only. `meta` holds how
// many by_seq entries fall in each block of 1024 sequences, so `pending` is
// counted from block totals instead of walking the rest of the feed.
#include <algorithm>
#include <optional>
#include <unordered_set>

#include "db/database_impl.h"
#include "db/meta.h"
#include "db/names.h"
#include "db/stored_doc.h"

namespace divan::db {

using rev::RevId;
using rev::RevTree;

namespace {

// One row to build: where it is and what the index says of it.
struct RowSource {
  std::uint64_t seq = 0;
  std::string id;
  bool deleted = false;
  RevId winner;
  // The winner's body, when the feed's entry holds it (it points into the
  // snapshot, which outlives the rows).
  std::optional<std::string_view> body;
};

}  // namespace

Result<std::uint64_t> DatabaseImpl::count_after(const storage::ReadTxn& txn,
                                                std::uint64_t seq) const {
  std::uint64_t total = 0;
  auto blocks = txn.cursor(dbi_.meta);
  if (!blocks.is_ok()) return blocks.status();
  std::uint64_t block = 0;
  for (bool ok = blocks->seek(seq_block_key(seq_block(seq) + 1));
       ok && decode_seq_block_key(blocks->key(), &block); ok = blocks->next()) {
    std::uint64_t n = 0;
    if (!decode_u64(blocks->value(), &n)) return Status::corruption("bad stored sequence count");
    total += n;
  }
  if (!blocks->status().is_ok()) return blocks->status();
  auto entries = txn.cursor(dbi_.by_seq);
  if (!entries.is_ok()) return entries.status();
  for (bool ok = entries->seek(seq_key(seq + 1)); ok; ok = entries->next()) {
    std::uint64_t s = 0;
    if (!decode_seq_key(entries->key(), &s)) return Status::corruption("bad sequence key");
    if (seq_block(s) != seq_block(seq)) break;
    ++total;
  }
  if (!entries->status().is_ok()) return entries->status();
  return total;
}

Result<ChangesResult> DatabaseImpl::changes(const ChangesOptions& o) {
  if (Status s = check_open(); !s.is_ok()) return s;
  auto txn = env_->begin_read();
  if (!txn.is_ok()) return txn.status();
  auto update_seq_or = meta::read_u64(*txn, dbi_.meta, meta::kUpdateSeq);
  if (!update_seq_or.is_ok()) return update_seq_or.status();
  const std::uint64_t update_seq = *update_seq_or;
  const std::uint64_t limit = o.limit.value_or(UINT64_MAX);
  const std::uint64_t since = o.descending ? 0 : o.since;

  // Gather the rows' sources, in feed order, and what is left after them.
  std::vector<RowSource> sources;
  std::uint64_t pending = 0;
  bool limited = false;
  if (o.filter == ChangesFilter::kNone) {
    auto cursor = txn->cursor(dbi_.by_seq);
    if (!cursor.is_ok()) return cursor.status();
    for (bool ok = o.descending ? cursor->last() : cursor->seek(seq_key(since + 1)); ok;
         ok = o.descending ? cursor->prev() : cursor->next()) {
      if (sources.size() >= limit) {
        limited = true;
        break;
      }
      RowSource src;
      SeqRecord rec;
      if (!decode_seq_key(cursor->key(), &src.seq)) return Status::corruption("bad sequence key");
      if (Status s = decode_seq_record(cursor->value(), &rec); !s.is_ok()) return s;
      src.id = std::string(rec.id);
      src.deleted = rec.deleted;
      src.winner = std::move(rec.winner);
      if (rec.has_body) src.body = rec.body;
      sources.push_back(std::move(src));
    }
    if (!cursor->status().is_ok()) return cursor->status();
    if (limited) {
      // What is left: after the last row (ascending), or below it
      // (descending); everything in range when no row was returned.
      if (o.descending) {
        auto total = txn->count(dbi_.by_seq);
        if (!total.is_ok()) return total.status();
        pending = *total;
        if (!sources.empty()) {
          auto after = count_after(*txn, sources.back().seq - 1);
          if (!after.is_ok()) return after.status();
          pending -= *after;
        }
      } else {
        auto after = count_after(*txn, sources.empty() ? since : sources.back().seq);
        if (!after.is_ok()) return after.status();
        pending = *after;
      }
    }
  } else {
    // Filtered feeds look their few documents up by id instead of scanning
    // the whole feed.
    auto add = [&](std::string_view id, const DocRecord& rec) {
      if (!o.descending && rec.seq <= since) return;
      sources.push_back({rec.seq, std::string(id), rec.deleted, rec.winner, std::nullopt});
    };
    if (o.filter == ChangesFilter::kDocIds) {
      std::unordered_set<std::string_view> seen;
      for (const std::string& id : o.doc_ids) {
        if (is_local_id(id) || !validate_doc_id(id).is_ok() || !seen.insert(id).second) continue;
        auto bytes = txn->get(dbi_.docs, id);
        if (!bytes.is_ok()) return bytes.status();
        if (!bytes->has_value()) continue;
        DocRecord rec;
        if (Status s = decode_doc_record(**bytes, &rec); !s.is_ok()) return s;
        add(id, rec);
      }
    } else {  // kDesign
      auto cursor = txn->cursor(dbi_.docs);
      if (!cursor.is_ok()) return cursor.status();
      for (bool ok = cursor->seek(kDesignPrefix); ok && is_design_id(cursor->key());
           ok = cursor->next()) {
        DocRecord rec;
        if (Status s = decode_doc_record(cursor->value(), &rec); !s.is_ok()) return s;
        add(cursor->key(), rec);
      }
      if (!cursor->status().is_ok()) return cursor->status();
    }
    std::sort(sources.begin(), sources.end(), [&](const RowSource& a, const RowSource& b) {
      return o.descending ? a.seq > b.seq : a.seq < b.seq;
    });
    if (sources.size() > limit) {
      pending = sources.size() - limit;
      sources.resize(limit);
      limited = true;
    }
  }

  ChangesResult out;
  if (limited || (o.descending && !sources.empty())) {
    out.last_seq = sources.empty() ? since : sources.back().seq;
  } else {
    // The whole feed was read: the reader is up to date with this snapshot.
    out.last_seq = std::max(since, update_seq);
  }
  out.pending = pending;

  GetOptions doc_opts;
  doc_opts.conflicts = o.conflicts;
  out.rows.reserve(sources.size());
  for (RowSource& src : sources) {
    ChangeRow row;
    row.seq = src.seq;
    row.deleted = src.deleted;
    if (o.include_docs && src.body && o.style == ChangesStyle::kMainOnly && !o.conflicts) {
      // All the row needs was in the feed's entry.
      row.doc = Document{src.id, src.winner.str(), src.deleted, std::string(*src.body), {}, {}, {},
                         {}, {}};
    } else if (o.style == ChangesStyle::kAllDocs || o.include_docs) {
      auto doc = StoredDoc::load(*txn, dbi_.docs, dbi_.by_seq, src.id);
      if (!doc.is_ok()) return doc.status();
      if (!doc->found()) return Status::corruption("changes feed names a missing document");
      if (o.style == ChangesStyle::kAllDocs) {
        auto tree = doc->tree();
        if (!tree.is_ok()) return tree.status();
        for (const rev::RevInfo& leaf : (*tree)->leaves()) row.changes.push_back(leaf.rev.str());
      }
      if (o.include_docs) {
        GetOptions go = doc_opts;
        auto d = winner_document(*doc, src.id, go);
        if (!d.is_ok()) return d.status();
        row.doc = std::move(d.value());
      }
    }
    if (row.changes.empty()) row.changes.push_back(src.winner.str());
    row.id = std::move(src.id);
    out.rows.push_back(std::move(row));
  }
  return out;
}

bool DatabaseImpl::wait_for_change(std::uint64_t since, std::chrono::milliseconds timeout) {
  if (!check_open().is_ok()) return false;
  return notifier_.wait_until(since, std::chrono::steady_clock::now() + timeout);
}

namespace {

class NotifierSubscription final : public Subscription::Handle {
 public:
  NotifierSubscription(std::shared_ptr<Database> owner, changes::ChangeNotifier* notifier,
                       std::uint64_t id)
      : owner_(std::move(owner)), notifier_(notifier), id_(id) {}
  ~NotifierSubscription() override { notifier_->unsubscribe(id_); }

 private:
  std::shared_ptr<Database> owner_;  // keeps the notifier alive
  changes::ChangeNotifier* notifier_;
  std::uint64_t id_;
};

}  // namespace

Subscription DatabaseImpl::subscribe(ChangeCallback callback) {
  std::uint64_t id = notifier_.subscribe(std::move(callback));
  return Subscription(std::make_unique<NotifierSubscription>(shared_from_this(), &notifier_, id));
}

}  // namespace divan::db
