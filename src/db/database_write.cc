// DatabaseImpl: opening, and the write path (put, remove, bulk_docs, _local
// documents, revs_limit, compaction).
//
// A write is parsed and validated in the caller's thread (so concurrent
// writers parse in parallel), then queued; the queue's leader applies a
// whole group in one transaction (group commit) and publishes the new
// update_seq only after the commit is durable.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "db/database_impl.h"
#include "db/stored_doc.h"
#include "db/meta.h"
#include "db/names.h"

namespace divan::db {

using rev::RevId;
using rev::RevTree;

namespace {

// Spare record buffers a preparing thread takes from the pool at a time.
constexpr std::size_t kSpareRefill = 64;
// The smallest a document in a bulk array can be (`{}` and a comma): the
// most bodies an array of a given size can need.
constexpr std::size_t kMinDocBytes = 3;

// `_bulk_docs` arrays from this size on are parsed on a second thread while
// the first writes (about 270 documents of 240 bytes; below it, starting the
// thread costs more than it saves).
constexpr std::size_t kStreamedBulkBytes = 64 * 1024;

const char kNewEditsNeedsRev[] =
    "When `new_edits: false`, the document needs `_rev` or `_revisions` specified";

// The N of a _local document's "0-N" revision. Errors: bad_request.
Result<std::uint64_t> local_rev_number(const RevId& rev) {
  std::uint64_t n = 0;
  const char* b = rev.hash.data();
  const char* e = b + rev.hash.size();
  auto [p, ec] = std::from_chars(b, e, n);
  if (rev.pos != 0 || ec != std::errc() || p != e) return Status::bad_request("Invalid rev format");
  return n;
}

// Checks a _security object (couchdb-semantics.md §4.8) and returns it as
// compact JSON. Errors: bad_request.
Result<std::string> canonical_security(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (d.HasParseError()) return Status::bad_request("invalid UTF-8 JSON");
  if (!d.IsObject()) return Status::bad_request("Request body must be a JSON object");
  for (const char* section : {"admins", "members"}) {
    auto it = d.FindMember(section);
    if (it == d.MemberEnd()) continue;
    if (!it->value.IsObject()) {
      return Status::bad_request(std::string(section) + " must be a JSON object");
    }
    for (const char* list : {"names", "roles"}) {
      auto l = it->value.FindMember(list);
      if (l == it->value.MemberEnd()) continue;
      bool ok = l->value.IsArray();
      if (ok) {
        for (const auto& v : l->value.GetArray()) ok = ok && v.IsString();
      }
      if (!ok) return Status::bad_request(std::string(list) + " must be a JSON list of strings");
    }
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  d.Accept(w);
  return std::string(out.GetString(), out.GetSize());
}

}  // namespace

// ---------------------------------------------------------------------------
// Opening

DatabaseImpl::DatabaseImpl(const DatabaseContext& ctx, std::string name,
                           std::shared_ptr<storage::Env> env, Dbis dbis, std::uint64_t update_seq,
                           std::string instance_start_time, std::uint32_t revs_limit)
    : ctx_(ctx),
      name_(std::move(name)),
      env_(std::move(env)),
      dbi_(dbis),
      instance_start_time_(std::move(instance_start_time)),
      revs_limit_(revs_limit),
      notifier_(update_seq),
      queue_([this](const WriteQueue::Source& next) { return run_group(next); },
             ctx.options.max_group_docs) {}

DatabaseImpl::~DatabaseImpl() { notifier_.close(); }

Result<std::shared_ptr<DatabaseImpl>> DatabaseImpl::open(const DatabaseContext& ctx,
                                                         std::string name,
                                                         const std::string& path, bool create) {
  storage::EnvOptions eo;
  eo.sync = ctx.options.sync;
  eo.initial_map_size = ctx.options.initial_map_size;
  eo.max_readers = ctx.options.max_readers;
  eo.max_dbs = 8;
  auto env = storage::open_env(path, eo);
  if (!env.is_ok()) return env.status();
  std::shared_ptr<storage::Env> e = std::move(env.value());

  Dbis d;
  struct Named {
    const char* name;
    storage::Dbi* dbi;
  };
  for (Named n : {Named{"meta", &d.meta}, Named{"docs", &d.docs}, Named{"bodies", &d.bodies}, Named{"by_seq", &d.by_seq},
                  Named{"local", &d.local}}) {
    auto dbi = e->open_dbi(n.name);
    if (!dbi.is_ok()) return dbi.status();
    *n.dbi = *dbi;
  }

  if (create) {
    std::uint64_t start_secs =
        static_cast<std::uint64_t>(ctx.options.clock->now_micros() / 1'000'000);
    Status s = e->write([&](storage::WriteTxn& txn) -> Status {
      auto existing = txn.get(d.meta, meta::kFormat);
      if (!existing.is_ok()) return existing.status();
      if (existing->has_value()) return Status::ok();  // set up already
      if (Status st = txn.put(d.meta, meta::kFormat, encode_u64(meta::kFormatVersion)); !st) return st;
      if (Status st = txn.put(d.meta, meta::kRevsLimit, encode_u64(ctx.options.default_revs_limit));
          !st) {
        return st;
      }
      return txn.put(d.meta, meta::kStartTime, std::to_string(start_secs));
    });
    if (!s.is_ok()) return s;
  }

  auto txn = e->begin_read();
  if (!txn.is_ok()) return txn.status();
  auto format = meta::read_u64(*txn, d.meta, meta::kFormat, 0);
  if (!format.is_ok()) return format.status();
  if (*format != meta::kFormatVersion) {
    return Status::corruption("database file " + path + " has unknown format version " +
                              std::to_string(*format));
  }
  auto update_seq = meta::read_u64(*txn, d.meta, meta::kUpdateSeq, 0);
  if (!update_seq.is_ok()) return update_seq.status();
  auto revs_limit = meta::read_u64(*txn, d.meta, meta::kRevsLimit, ctx.options.default_revs_limit);
  if (!revs_limit.is_ok()) return revs_limit.status();
  auto start_time = txn->get(d.meta, meta::kStartTime);
  if (!start_time.is_ok()) return start_time.status();
  std::string start = start_time->has_value() ? std::string(**start_time) : "0";
  txn = Status::internal("closed");  // end the snapshot before handing out the database

  return std::shared_ptr<DatabaseImpl>(new DatabaseImpl(ctx, std::move(name), std::move(e), d,
                                                        *update_seq, std::move(start),
                                                        static_cast<std::uint32_t>(*revs_limit)));
}

Status DatabaseImpl::check_open() const {
  if (deleted_.load(std::memory_order_acquire)) return Status::not_found(kNoDatabaseReason);
  return Status::ok();
}

void DatabaseImpl::mark_deleted() {
  deleted_.store(true, std::memory_order_release);
  notifier_.close();
}

// ---------------------------------------------------------------------------
// Preparing writes (caller's thread)

Status DatabaseImpl::prepare(std::vector<ParsedDoc>& docs, bool new_edits,
                             std::vector<PreparedDoc>* out) {
  out->clear();
  out->reserve(docs.size());
  for (ParsedDoc& d : docs) {
    out->emplace_back();
    if (Status s = prepare_one(d, new_edits, &out->back()); !s.is_ok()) return s;
  }
  return Status::ok();
}

Status DatabaseImpl::prepare_one(ParsedDoc& d, bool new_edits, PreparedDoc* p,
                                 std::vector<std::string>* spare_records) {
  if (d.id.empty()) d.id = ctx_.uuids->next();
  if (is_local_id(d.id)) {
    if (d.rev) {
      if (auto n = local_rev_number(*d.rev); !n.is_ok()) return n.status();
    }
  } else if (!new_edits) {
    if (!d.revisions && !d.rev) return Status::bad_request(kNewEditsNeedsRev);
    if (!d.revisions) d.revisions = std::vector<RevId>{*d.rev};
    if (Status s = RevTree::validate_path(*d.revisions); !s.is_ok()) return s;
  } else {
    // An interactive edit replaces the head of `_revisions` if given,
    // else `_rev`. Compute its hash now, assuming that parent; the writer
    // recomputes it only if the parent turns out different.
    if (d.revisions) d.rev = (*d.revisions)[0];
    if (d.rev && d.rev->pos == 0) return Status::bad_request("Invalid rev format");
    if (d.rev) {
      p->guessed_rev = rev::new_rev_id(&*d.rev, d.deleted, d.body);
    } else {
      // Most likely a new document: build its records now (see NewDoc).
      // No guessed_rev: if the id turns out to exist, this rev is not the
      // one (the document either conflicts or grows from its tombstone).
      thread_local std::string tree, scratch;
      thread_local RevId rev;  // its hash keeps its memory
      rev::new_rev_id(nullptr, d.deleted, d.body, &rev);
      tree.clear();
      RevTree::encode_single(rev, d.deleted, &tree);
      PreparedDoc::NewDoc& n = p->new_doc.emplace();
      if (spare_records != nullptr) {
        n.bytes = take_spare(*ctx_.spare_records, spare_records, kSpareRefill);
      }
      n.bytes.reserve(2 * tree.size() + d.id.size() + rev.hash.size() + 32);
      encode_doc_record_winner(rev, tree, &n.bytes);
      n.seq_at = n.bytes.size();
      encode_seq_record(d.deleted, rev, d.id, &scratch);
      n.bytes.append(scratch);
      n.rev = rev.str();
    }
  }
  p->doc = std::move(d);
  return Status::ok();
}

// ---------------------------------------------------------------------------
// The group runner and one document's update (writer thread)

class DatabaseImpl::DocsOp final : public WriteQueue::Op {
 public:
  DocsOp(std::vector<PreparedDoc> docs, bool new_edits)
      : docs(std::move(docs)), new_edits(new_edits) {}
  // A streamed op's size is unknown: it weighs a whole group, so it runs
  // alone and its parse error can abort the transaction for it alone.
  DocsOp(DocStream* stream, bool new_edits, std::size_t group_weight)
      : new_edits(new_edits), stream(stream), stream_weight(group_weight) {}
  std::size_t weight() const override {
    if (stream != nullptr) return stream_weight;
    return docs.empty() ? 1 : docs.size();
  }

  std::vector<PreparedDoc> docs;
  bool new_edits;
  std::vector<DocResult> results;  // filled by the group runner
  // A non-document job run in the group instead (revs_limit, compaction).
  std::function<Status(storage::WriteTxn&, TxnState*)> job;
  // Streamed documents: taken into `docs` as they come.
  DocStream* stream = nullptr;
  std::size_t stream_weight = 0;
  bool stream_ended = false;
  Status stream_status;  // how the stream ended
};

Status DatabaseImpl::load_state(storage::WriteTxn& txn, TxnState* st) {
  st->block_deltas.clear();
  std::uint64_t revs_limit = 0;
  for (auto [key, out] : {std::pair{meta::kUpdateSeq, &st->update_seq},
                          std::pair{meta::kDocCount, &st->doc_count},
                          std::pair{meta::kDocDelCount, &st->doc_del_count},
                          std::pair{meta::kExternal, &st->external_size},
                          std::pair{meta::kRevsLimit, &revs_limit}}) {
    auto v = meta::read_u64(txn, dbi_.meta, key);
    if (!v.is_ok()) return v.status();
    *out = *v;
  }
  st->revs_limit = revs_limit == 0 ? ctx_.options.default_revs_limit
                                   : static_cast<std::uint32_t>(revs_limit);
  return Status::ok();
}

Status DatabaseImpl::save_state(storage::WriteTxn& txn, TxnState* st) {
  for (auto [key, v] : {std::pair{meta::kUpdateSeq, st->update_seq},
                        std::pair{meta::kDocCount, st->doc_count},
                        std::pair{meta::kDocDelCount, st->doc_del_count},
                        std::pair{meta::kExternal, st->external_size}}) {
    if (Status s = txn.put(dbi_.meta, key, encode_u64(v)); !s.is_ok()) return s;
  }
  for (auto [block, delta] : st->block_deltas) {
    if (delta == 0) continue;
    std::string key = seq_block_key(block);
    std::uint64_t count = 0;
    auto cur = txn.get(dbi_.meta, key);
    if (!cur.is_ok()) return cur.status();
    if (cur->has_value() && !decode_u64(**cur, &count)) {
      return Status::corruption("bad stored sequence count");
    }
    auto next = static_cast<std::int64_t>(count) + delta;
    if (next < 0) return Status::corruption("sequence count below zero");
    Status s = next == 0 ? txn.del(dbi_.meta, key)
                         : txn.put(dbi_.meta, key, encode_u64(static_cast<std::uint64_t>(next)));
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

Status DatabaseImpl::run_group(const WriteQueue::Source& next) {
  if (Status s = check_open(); !s.is_ok()) return s;
  TxnState st;
  std::vector<DocsOp*> taken;
  auto apply = [&](storage::WriteTxn& txn, DocsOp* op) -> Status {
    if (op->job) return op->job(txn, &st);
    op->results.assign(op->docs.size(), DocResult());
    std::size_t i = 0;
    for (;;) {
      for (; i < op->docs.size(); ++i) {
        if (Status s = apply_doc(txn, &st, op->docs[i], op->new_edits, &op->results[i]);
            !s.is_ok()) {
          return s;
        }
      }
      if (op->stream == nullptr) return Status::ok();
      // A parse error fails the whole array: the transaction, which holds
      // only this op, is aborted (also when it runs again after map growth).
      if (op->stream_ended) return op->stream_status;
      if (!op->stream->take(&op->docs)) {
        op->stream_ended = true;
        op->stream_status = op->stream->status();
        return op->stream_status;
      }
      op->results.resize(op->docs.size());
    }
  };
  Status s = env_->write([&](storage::WriteTxn& txn) -> Status {
    // This function may run again after map growth: start from scratch,
    // re-applying what the group already took.
    if (Status ls = load_state(txn, &st); !ls.is_ok()) return ls;
    for (DocsOp* op : taken) {
      if (Status as = apply(txn, op); !as.is_ok()) return as;
    }
    while (WriteQueue::Op* base = next()) {
      taken.push_back(static_cast<DocsOp*>(base));
      if (Status as = apply(txn, taken.back()); !as.is_ok()) return as;
    }
    return save_state(txn, &st);
  });
  if (s.is_ok()) notifier_.publish(st.update_seq);
  return s;
}

Status DatabaseImpl::apply_local(storage::WriteTxn& txn, TxnState* st, const ParsedDoc& d,
                                 DocResult* result) {
  // CouchDB 3.x keeps no history for _local documents and checks no
  // revision: the stored revision is one more than the one sent.
  if (d.deleted) {
    if (Status s = txn.del(dbi_.local, d.id); !s.is_ok()) return s;
    result->rev = "0-0";
    return Status::ok();
  }
  std::uint64_t n = 0;
  if (d.rev) n = local_rev_number(*d.rev).value();  // validated in prepare()
  encode_local_record(n + 1, d.body, &st->value);
  if (Status s = txn.put(dbi_.local, d.id, st->value); !s.is_ok()) return s;
  result->rev = "0-" + std::to_string(n + 1);
  return Status::ok();
}

Status DatabaseImpl::apply_new_doc(storage::WriteTxn& txn, TxnState* st, const PreparedDoc& p,
                                   bool* applied) {
  const PreparedDoc::NewDoc& n = *p.new_doc;
  const bool deleted = p.doc.deleted;
  const std::uint64_t seq = st->update_seq + 1;
  std::string& head = st->value;
  head.clear();
  encode_doc_record_head(seq, deleted, &head);
  // The record (head, winner and tree) is written straight into its place
  // in the page; the body goes with the by_seq entry.
  const std::string_view winner = n.record_winner();
  char* space = nullptr;
  if (Status s = txn.reserve_if_absent(dbi_.docs, p.doc.id, head.size() + winner.size(), &space,
                                       applied);
      !s.is_ok() || !*applied) {
    return s;
  }
  std::memcpy(space, head.data(), head.size());
  std::memcpy(space + head.size(), winner.data(), winner.size());
  st->update_seq = seq;
  if (Status s = add_to_feed(txn, st, seq, deleted, n.seq_record(), p.doc.body); !s.is_ok()) {
    return s;
  }
  st->external_size += p.doc.body.size();
  return Status::ok();
}

Status DatabaseImpl::add_to_feed(storage::WriteTxn& txn, TxnState* st, std::uint64_t seq,
                                 bool deleted, std::string_view seq_record,
                                 std::string_view body) {
  if (Status s = txn.put_parts(dbi_.by_seq, seq_key(seq), {seq_record, body}, /*append=*/true);
      !s.is_ok()) {
    return s;
  }
  st->block_deltas[seq_block(seq)]++;
  (deleted ? st->doc_del_count : st->doc_count)++;
  return Status::ok();
}

Status DatabaseImpl::apply_doc(storage::WriteTxn& txn, TxnState* st, const PreparedDoc& p,
                               bool new_edits, DocResult* result) {
  const ParsedDoc& d = p.doc;
  if (is_local_id(d.id)) return apply_local(txn, st, d, result);
  if (new_edits && p.new_doc) {
    // A new document's records were built beside the parser. The result's
    // rev is filled in from them by take_results().
    bool applied = false;
    if (Status s = apply_new_doc(txn, st, p, &applied); !s.is_ok() || applied) return s;
    // The id exists: the general path decides (a conflict, or re-creating
    // a deleted document).
  }

  // The document as it stands in this transaction (earlier documents of the
  // group are visible).
  RevTree tree;
  DocRecord old;
  bool existed = false;
  {
    auto rec = txn.get(dbi_.docs, d.id);
    if (!rec.is_ok()) return rec.status();
    if (rec->has_value()) {
      if (Status s = decode_doc_record(**rec, &old); !s.is_ok()) return s;
      auto decoded = RevTree::decode(old.tree);
      if (!decoded.is_ok()) return decoded.status();
      tree = std::move(decoded.value());
      existed = true;
    }
  }
  // `old.tree` points into the map: valid until this transaction's next
  // write, so everything below reads it (and the old winner's body) before
  // writing anything.

  RevId new_rev;
  bool store_body = true;
  if (new_edits) {
    const RevId* given = d.rev ? &*d.rev : nullptr;
    const RevId* parent = nullptr;
    RevId tombstone;
    bool conflict = false;
    if (!existed) {
      conflict = given != nullptr;
    } else if (tree.deleted()) {
      // Re-creating a deleted document: no `_rev`, and the new revision
      // extends the winning tombstone (CouchDB, couchdb-semantics.md §1.6).
      conflict = given != nullptr || d.deleted;
      tombstone = tree.winner().rev;
      parent = &tombstone;
    } else {
      conflict = given == nullptr || !tree.is_leaf(*given);
      parent = given;
    }
    if (conflict) {
      result->status = Status::conflict();
      return Status::ok();
    }
    bool guess_holds = (parent == nullptr && given == nullptr) ||
                       (parent != nullptr && given != nullptr && *parent == *given);
    new_rev = guess_holds && p.guessed_rev ? *p.guessed_rev
                                           : rev::new_rev_id(parent, d.deleted, d.body);
    std::vector<RevId> path{new_rev};
    if (parent) path.push_back(*parent);
    rev::MergeResult mr = tree.merge(path, d.deleted, true);
    if (!mr.changed) {  // the revision exists already: its parent was no leaf
      result->status = Status::conflict();
      return Status::ok();
    }
  } else {
    const std::vector<RevId>& path = *d.revisions;
    new_rev = path.front();
    auto before = tree.info(new_rev);
    store_body = !before || !before->has_body;
    rev::MergeResult mr = tree.merge(path, d.deleted, true);
    if (!mr.changed) {  // already here: a silent success, no new sequence
      result->rev = new_rev.str();
      return Status::ok();
    }
  }

  std::vector<RevId> stemmed = tree.stem(st->revs_limit);
  st->tree.clear();
  tree.encode(&st->tree);
  if (!new_edits && existed && st->tree == old.tree) {
    // The merge only re-grew history that stemming dropped again: nothing
    // changed, so no new sequence (as CouchDB compares the stemmed tree).
    result->rev = new_rev.str();
    return Status::ok();
  }
  if (store_body && !tree.contains(new_rev)) store_body = false;  // stemmed away at once
  rev::RevInfo winner = tree.winner();
  bool deleted_now = tree.deleted();
  bool winner_changed = !existed || winner.rev != old.winner;
  std::uint64_t seq = ++st->update_seq;

  std::string_view old_body;
  if (existed) {
    auto body = winner_body(txn, dbi_.by_seq, old);
    if (!body.is_ok()) return body.status();
    old_body = *body;
  }

  // Where bodies go: the winner's in its by_seq entry, every other stored
  // body in `bodies`. Build every value before the first write.
  std::string& record = st->value;
  record.clear();
  encode_doc_record_header(seq, deleted_now, winner.rev, st->tree, &record);
  std::string& entry = st->scratch;  // the by_seq entry, with the winner's body
  encode_seq_record(deleted_now, winner.rev, d.id, &entry);
  const std::size_t entry_head_size = entry.size();
  std::string old_winner_body;
  bool move_old_winner = false;
  bool take_winner_from_bodies = false;
  if (winner.rev == new_rev && store_body) {
    entry.append(d.body);
  } else if (!winner_changed) {
    entry.append(old_body);
  } else {
    take_winner_from_bodies = true;  // a revision already stored becomes the winner
  }
  if (existed && winner_changed && tree.contains(old.winner)) {
    old_winner_body.assign(old_body);
    move_old_winner = true;
  }
  const std::size_t old_winner_size = old_body.size();
  if (take_winner_from_bodies) {
    encode_body_key(d.id, winner.rev, &st->key);
    auto body = txn.get(dbi_.bodies, st->key);
    if (!body.is_ok()) return body.status();
    if (body->has_value()) entry.append(**body);  // copied before any write
    else entry.append("{}");  // only if the store was damaged; keep the doc readable
    if (Status s = txn.del(dbi_.bodies, st->key); !s.is_ok()) return s;
  }
  const std::size_t new_winner_size = entry.size() - entry_head_size;

  // Now write.
  if (move_old_winner) {
    encode_body_key(d.id, old.winner, &st->key);
    if (Status s = txn.put(dbi_.bodies, st->key, old_winner_body); !s.is_ok()) return s;
  }
  if (store_body && new_rev != winner.rev) {
    encode_body_key(d.id, new_rev, &st->key);
    if (Status s = txn.put(dbi_.bodies, st->key, d.body); !s.is_ok()) return s;
  }
  for (const RevId& r : stemmed) {
    encode_body_key(d.id, r, &st->key);
    if (Status s = txn.del(dbi_.bodies, st->key); !s.is_ok()) return s;
  }
  if (Status s = existed ? txn.put(dbi_.docs, d.id, record) : txn.put_new(dbi_.docs, d.id, record);
      !s.is_ok()) {
    return s;
  }

  if (existed) {
    if (Status s = txn.del(dbi_.by_seq, seq_key(old.seq)); !s.is_ok()) return s;
    st->block_deltas[seq_block(old.seq)]--;
    (old.deleted ? st->doc_del_count : st->doc_count)--;
  }
  if (Status s = add_to_feed(txn, st, seq, deleted_now, std::string_view(entry)); !s.is_ok()) {
    return s;
  }
  // sizes.external: the bytes of the winning bodies.
  st->external_size += new_winner_size;
  st->external_size -= std::min<std::uint64_t>(old_winner_size, st->external_size);

  result->rev = new_rev.str();
  return Status::ok();
}

// ---------------------------------------------------------------------------
// Public writes

Result<std::vector<DocResult>> DatabaseImpl::write_docs(std::vector<PreparedDoc> docs,
                                                        bool new_edits) {
  DocsOp op(std::move(docs), new_edits);
  if (Status s = queue_.submit(op); !s.is_ok()) return s;
  return take_results(op);
}

std::vector<DocResult> DatabaseImpl::take_results(DocsOp& op) {
  // The writer leaves the strings it need not build for the caller's
  // thread, which can move them: every id, and the rev of a new document
  // written from its prepared records (the only ok result without a rev).
  for (std::size_t i = 0; i < op.results.size(); ++i) {
    DocResult& r = op.results[i];
    PreparedDoc& p = op.docs[i];
    r.id = std::move(p.doc.id);
    if (r.status.is_ok() && r.rev.empty() && p.new_doc) r.rev = std::move(p.new_doc->rev);
  }
  return std::move(op.results);
}

Result<DocResult> DatabaseImpl::put(std::string_view doc_json, const PutOptions& options) {
  if (Status s = check_open(); !s.is_ok()) return s;
  WriteQueue::Presence presence(queue_);
  ParseLimits limits{ctx_.options.max_document_size, {}};
  if (options.id) {
    if (Status s = validate_doc_id(*options.id); !s.is_ok()) return s;
    limits.id = *options.id;
  }
  std::vector<ParsedDoc> docs(1);
  if (Status s = parse_document(doc_json, limits, &docs[0]); !s.is_ok()) return s;
  ParsedDoc& d = docs[0];
  if (options.rev) {
    auto rev = RevId::parse(*options.rev);
    if (!rev.is_ok()) return rev.status();
    if (d.rev && *d.rev != *rev) {
      return Status::bad_request(
          "Document rev from request body and query string have different values");
    }
    d.rev = std::move(rev.value());
  }
  std::vector<PreparedDoc> prepared;
  if (Status s = prepare(docs, options.new_edits, &prepared); !s.is_ok()) return s;
  auto results = write_docs(std::move(prepared), options.new_edits);
  if (!results.is_ok()) return results.status();
  DocResult r = std::move(results->front());
  if (!r.status.is_ok()) return r.status;
  return r;
}

Result<DocResult> DatabaseImpl::remove(std::string_view id, std::string_view rev) {
  if (Status s = check_open(); !s.is_ok()) return s;
  WriteQueue::Presence presence(queue_);
  if (Status s = validate_doc_id(id); !s.is_ok()) return s;
  std::vector<ParsedDoc> docs(1);
  ParsedDoc& d = docs[0];
  d.id = std::string(id);
  d.deleted = true;
  d.body = "{}";
  // CouchDB answers DELETE of a missing or deleted document with 404
  // before looking at the revision (_local documents included).
  auto current = get(id, GetOptions());
  if (!current.is_ok()) return current.status();
  if (rev.empty() && !is_local_id(id)) return Status::conflict();
  if (!rev.empty()) {
    auto parsed = RevId::parse(rev);
    if (!parsed.is_ok()) return parsed.status();
    d.rev = std::move(parsed.value());
  }
  std::vector<PreparedDoc> prepared;
  if (Status s = prepare(docs, true, &prepared); !s.is_ok()) return s;
  auto results = write_docs(std::move(prepared), true);
  if (!results.is_ok()) return results.status();
  DocResult r = std::move(results->front());
  if (!r.status.is_ok()) return r.status;
  return r;
}

Result<std::vector<DocResult>> DatabaseImpl::bulk_docs(std::string_view docs_json_array,
                                                       const BulkDocsOptions& options) {
  if (Status s = check_open(); !s.is_ok()) return s;
  // A large array is parsed on a second thread while this one writes the
  // documents already parsed: parsing and hashing cost about as much as
  // writing, so a bulk load takes about half as long on two cores.
  if (docs_json_array.size() >= kStreamedBulkBytes) {
    return bulk_docs_streamed(docs_json_array, options.new_edits);
  }
  WriteQueue::Presence presence(queue_);
  ParseLimits limits{ctx_.options.max_document_size, {}};
  std::vector<ParsedDoc> docs;
  if (Status s = parse_document_array(docs_json_array, limits, &docs); !s.is_ok()) return s;
  std::vector<PreparedDoc> prepared;
  if (Status s = prepare(docs, options.new_edits, &prepared); !s.is_ok()) return s;
  if (prepared.empty()) return std::vector<DocResult>();
  return write_docs(std::move(prepared), options.new_edits);
}

Result<std::vector<DocResult>> DatabaseImpl::bulk_docs_streamed(std::string_view docs_json_array,
                                                                bool new_edits) {
  WriteQueue::Presence presence(queue_);
  DocStream stream([this, new_edits](ParsedDoc& d, PreparedDoc* p) {
    // Either thread prepares; each keeps a few spare record buffers.
    thread_local std::vector<std::string> spare_records;
    return prepare_one(d, new_edits, p, &spare_records);
  });
  auto parse = [&] {
    // This runs on the helper thread or a thread of its own: the parse may
    // recurse, if the thread's stack is large enough (see ParseLimits).
    ParseLimits limits{ctx_.options.max_document_size, {}, /*recursive=*/true};
    // The copy the parser works on stays with the thread between arrays
    // (the helper thread lives long), unless it grew large.
    constexpr std::size_t kKeptScratch = 4 << 20;
    thread_local std::string scratch;
    // The bodies' memory comes from those earlier arrays left, as far as
    // it goes. (The vector stays with the thread too: allocating it anew
    // was a large request, which made glibc sort its bins right here.)
    thread_local std::vector<std::string> spare_bodies;
    ctx_.spare_bodies->take(docs_json_array.size() / kMinDocBytes + 1, &spare_bodies);
    ParseBuffers buffers{&scratch, &spare_bodies};
    Status parsed = parse_document_array(docs_json_array, limits, [&](ParsedDoc&& d) -> Status {
      if (stream.cancelled()) return Status::internal("the write ended");
      // Ids are made here, in array order, as batches may be prepared out
      // of order.
      if (d.id.empty()) d.id = ctx_.uuids->next();
      stream.add(std::move(d));
      return Status::ok();
    }, buffers);
    if (scratch.capacity() > kKeptScratch) scratch = std::string();
    ctx_.spare_bodies->give(&spare_bodies);
    stream.finish(std::move(parsed));
  };
  HelperThread::Task parser = ctx_.helper->start(parse);
  DocsOp op(&stream, new_edits, ctx_.options.max_group_docs);
  // Room for as many documents as there would be of 128 bytes each, so that
  // the writer rarely moves what it has taken (reserving touches no memory).
  const std::size_t expected =
      std::min<std::size_t>(docs_json_array.size() / 128 + DocStream::kDefaultBatch, 1 << 16);
  op.docs.reserve(expected);
  op.results.reserve(expected);
  Status s = queue_.submit(op);
  stream.cancel();  // the writer may have stopped early, on an error
  parser.join();
  if (!s.is_ok()) return s;
  std::vector<DocResult> results = take_results(op);
  // The bodies and records go back to their pools, and the rest is freed,
  // on the helper thread after the answer (measured: the caller saved ~30 us
  // per 1000 documents, 3-4% of an in-order bulk load).
  ctx_.helper->post([docs = std::make_shared<std::vector<PreparedDoc>>(std::move(op.docs)),
                     bodies = ctx_.spare_bodies, records = ctx_.spare_records] {
    std::vector<std::string> spare_bodies, spare_records;
    spare_bodies.reserve(docs->size());
    spare_records.reserve(docs->size());
    for (PreparedDoc& p : *docs) {
      spare_bodies.push_back(std::move(p.doc.body));
      if (p.new_doc) spare_records.push_back(std::move(p.new_doc->bytes));
    }
    bodies->give(&spare_bodies);
    records->give(&spare_records);
    docs->clear();
  });
  return results;
}

// ---------------------------------------------------------------------------
// revs_limit and compaction

Result<std::string> DatabaseImpl::security() {
  if (Status s = check_open(); !s.is_ok()) return s;
  auto txn = env_->begin_read();
  if (!txn.is_ok()) return txn.status();
  auto v = txn->get(dbi_.meta, meta::kSecurity);
  if (!v.is_ok()) return v.status();
  return v->has_value() ? std::string(**v) : std::string("{}");
}

Status DatabaseImpl::set_security(std::string_view json) {
  if (Status s = check_open(); !s.is_ok()) return s;
  auto canonical = canonical_security(json);
  if (!canonical.is_ok()) return canonical.status();
  WriteQueue::Presence presence(queue_);
  DocsOp op({}, true);
  op.job = [&](storage::WriteTxn& txn, TxnState*) -> Status {
    return txn.put(dbi_.meta, meta::kSecurity, *canonical);
  };
  return queue_.submit(op);
}

Result<std::uint32_t> DatabaseImpl::revs_limit() {
  if (Status s = check_open(); !s.is_ok()) return s;
  return revs_limit_.load();
}

Status DatabaseImpl::set_revs_limit(std::uint32_t limit) {
  if (Status s = check_open(); !s.is_ok()) return s;
  if (limit < 1) return Status::bad_request("revs_limit must be a positive integer");
  WriteQueue::Presence presence(queue_);
  DocsOp op({}, true);
  op.job = [&](storage::WriteTxn& txn, TxnState* st) -> Status {
    st->revs_limit = limit;
    return txn.put(dbi_.meta, meta::kRevsLimit, encode_u64(limit));
  };
  if (Status s = queue_.submit(op); !s.is_ok()) return s;
  revs_limit_.store(limit);
  return Status::ok();
}

Status DatabaseImpl::compact_docs_from(std::string* next_id, bool* done) {
  // One step: up to kStep documents, in one queued write, so writers wait
  // only for a step at a time.
  constexpr std::size_t kStep = 256;
  DocsOp op({}, true);
  std::string resume;
  bool finished = false;
  op.job = [&](storage::WriteTxn& txn, TxnState* st) -> Status {
    resume.clear();
    finished = true;
    auto cursor = txn.cursor(dbi_.docs);
    if (!cursor.is_ok()) return cursor.status();
    std::vector<std::pair<std::string, std::string>> records;  // id, record bytes
    for (bool ok = next_id->empty() ? cursor->first() : cursor->seek(*next_id); ok;
         ok = cursor->next()) {
      if (records.size() == kStep) {
        resume.assign(cursor->key());
        finished = false;
        break;
      }
      records.emplace_back(cursor->key(), cursor->value());
    }
    if (!cursor->status().is_ok()) return cursor->status();
    for (auto& [id, bytes] : records) {
      DocRecord rec;
      if (Status s = decode_doc_record(bytes, &rec); !s.is_ok()) return s;
      auto decoded = RevTree::decode(rec.tree);
      if (!decoded.is_ok()) return decoded.status();
      RevTree& tree = decoded.value();
      std::vector<RevId> drop = tree.stem(st->revs_limit);
      for (const RevId& r : tree.non_leaf_bodies()) {
        tree.set_has_body(r, false);
        drop.push_back(r);
      }
      if (drop.empty()) continue;
      for (const RevId& r : drop) {
        encode_body_key(id, r, &st->key);
        if (Status s = txn.del(dbi_.bodies, st->key); !s.is_ok()) return s;
      }
      st->tree.clear();
      tree.encode(&st->tree);
      rec.tree = st->tree;
      encode_doc_record(rec, &st->value);
      if (Status s = txn.put(dbi_.docs, id, st->value); !s.is_ok()) return s;
    }
    return Status::ok();
  };
  if (Status s = queue_.submit(op); !s.is_ok()) return s;
  *next_id = resume;
  *done = finished;
  return Status::ok();
}

Status DatabaseImpl::compact() {
  if (Status s = check_open(); !s.is_ok()) return s;
  bool expected = false;
  if (!compact_running_.compare_exchange_strong(expected, true)) {
    return Status::ok();  // one is running already; it does the same work
  }
  struct Reset {
    std::atomic<bool>& flag;
    ~Reset() { flag.store(false); }
  } reset{compact_running_};

  std::string next;
  for (bool done = false; !done;) {
    if (Status s = compact_docs_from(&next, &done); !s.is_ok()) return s;
  }
  // Give the freed pages back to the file system: rewrite the file without
  // them while no group runs.
  return queue_.exclusive([&] { return env_->compact(); });
}

}  // namespace divan::db
