// Databases written before the winner's body moved into the by_seq entry
// (docs/storage.md): their records, which hold the body at the end of the
// docs record, must read, update and compact exactly as records of the
// current layout do.
//
// Two databases get the same writes; one then has every record rewritten
// in the first layout, straight through LMDB. From then on both must give
// the same answers to every read, through more writes (winner changes,
// conflicts, deletes), compaction and a reopen.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "db/records.h"
#include "db_test_util.h"
#include "storage/env.h"

namespace divan::testing {
namespace {

using db::DocRecord;
using db::SeqRecord;

std::vector<std::string> ids() {
  std::vector<std::string> out = {"plain", "conflicted", "deleted", "recreated", "loser",
                                  "_design/d"};
  for (int i = 0; i < 40; ++i) out.push_back("many-" + std::to_string(i));
  return out;
}

// Replicated revisions (new_edits=false) of `id`: a path of `ids` from
// generation `start` down, with `body`.
void put_branch(TestDb& t, const std::string& id, int start, const std::vector<std::string>& revs,
                const std::string& body, bool deleted = false) {
  std::string json = "{\"_id\":\"" + id + "\",\"_revisions\":{\"start\":" + std::to_string(start) +
                     ",\"ids\":[";
  for (std::size_t i = 0; i < revs.size(); ++i) json += (i ? ",\"" : "\"") + revs[i] + "\"";
  json += "]}";
  if (deleted) json += ",\"_deleted\":true";
  const std::string members = body.substr(1, body.size() - 2);
  json += (members.empty() ? "" : ",") + members + "}";
  PutOptions o;
  o.new_edits = false;
  t.put(json, o);
}

std::string hex(char c) { return std::string(32, c); }

// The writes both databases get first.
void first_writes(TestDb& t) {
  std::string rev = t.put(R"({"_id":"plain","v":1})");
  rev = t.put(R"({"_id":"plain","v":2,"_rev":")" + rev + "\"}");
  t.put(R"({"_id":"plain","v":3,"_rev":")" + rev + "\"}");
  put_branch(t, "conflicted", 2, {hex('a'), hex('1')}, R"({"side":"a"})");
  put_branch(t, "conflicted", 2, {hex('b'), hex('1')}, R"({"side":"b"})");
  rev = t.put(R"({"_id":"deleted","x":"gone soon"})");
  REQUIRE(t.db->remove("deleted", rev).is_ok());
  rev = t.put(R"({"_id":"recreated","life":1})");
  rev = t.db->remove("recreated", rev)->rev;
  t.put(R"({"_id":"recreated","life":2})");
  put_branch(t, "loser", 2, {hex('c'), hex('2')}, R"({"branch":"c","n":[1,2,{"x":null}]})");
  put_branch(t, "loser", 2, {hex('d'), hex('2')}, R"({"branch":"d"})");
  t.put(R"({"_id":"_design/d","views":{}})");
  for (int i = 0; i < 40; ++i) {
    t.put("{\"_id\":\"many-" + std::to_string(i) + "\",\"i\":" + std::to_string(i) +
          ",\"pad\":\"" + std::string(100 + i, 'p') + "\"}");
  }
}

// Writes after the rewrite: updates, a winner change from `bodies`, a new
// conflict, deletes.
void more_writes(TestDb& t) {
  auto plain = t.db->get("plain", {});
  REQUIRE(plain.is_ok());
  t.put(R"({"_id":"plain","v":4,"_rev":")" + plain->rev + "\"}");
  // The winning branch of "loser" (d) is deleted: c wins, from `bodies`.
  put_branch(t, "loser", 3, {hex('e'), hex('d'), hex('2')}, "{}", /*deleted=*/true);
  // A third branch that does not win: the winner's body carries over.
  put_branch(t, "conflicted", 2, {hex('0'), hex('1')}, R"({"side":"0"})");
  auto many = t.db->get("many-3", {});
  REQUIRE(many.is_ok());
  REQUIRE(t.db->remove("many-3", many->rev).is_ok());
  t.put(R"({"_id":"deleted","back":true})");
  for (int i = 10; i < 20; ++i) {
    std::string id = "many-" + std::to_string(i);
    auto d = t.db->get(id, {});
    REQUIRE(d.is_ok());
    t.put("{\"_id\":\"" + id + "\",\"i\":" + std::to_string(i * 2) + ",\"_rev\":\"" + d->rev +
          "\"}");
  }
}

// Everything the reads say, as one text.
std::string readout(TestDb& t) {
  std::string out;
  GetOptions all;
  all.revs = all.revs_info = all.conflicts = all.deleted_conflicts = all.local_seq = true;
  all.deleted = true;
  for (const std::string& id : ids()) {
    out += t.get_json(id, all) + "\n";
    OpenRevsOptions o;
    o.all = true;
    o.revs_history = true;
    auto revs = t.db->open_revs(id, o);
    REQUIRE_MESSAGE(revs.is_ok(), revs.status().to_string());
    for (const OpenRev& r : *revs) out += (r.ok ? r.ok->to_json() : "missing " + r.missing) + "\n";
    auto tree = t.db->get(id, all);
    if (tree.is_ok()) {
      for (const std::string& c : tree->conflicts) {
        GetOptions one;
        one.rev = c;
        out += "conflict " + t.get_json(id, one) + "\n";
      }
    }
  }
  for (auto [style, conflicts] : {std::pair{ChangesStyle::kMainOnly, false},
                                  std::pair{ChangesStyle::kMainOnly, true},
                                  std::pair{ChangesStyle::kAllDocs, false}}) {
    ChangesOptions c;
    c.include_docs = true;
    c.conflicts = conflicts;
    c.style = style;
    auto feed = t.db->changes(c);
    REQUIRE_MESSAGE(feed.is_ok(), feed.status().to_string());
    for (const ChangeRow& row : feed->rows) {
      out += std::to_string(row.seq) + " " + row.id + (row.deleted ? " deleted" : "");
      for (const std::string& r : row.changes) out += " " + r;
      out += " " + (row.doc ? row.doc->to_json() : "-") + "\n";
    }
    out += "last_seq " + std::to_string(feed->last_seq) + "\n";
  }
  AllDocsOptions a;
  a.include_docs = true;
  a.conflicts = true;
  auto listing = t.db->all_docs(a);
  REQUIRE_MESSAGE(listing.is_ok(), listing.status().to_string());
  for (const AllDocsRow& row : listing->rows) {
    out += row.id + " " + row.rev + " " + (row.doc ? row.doc->to_json() : "-") + "\n";
  }
  auto info = t.db->info();
  REQUIRE(info.is_ok());
  out += "counts " + std::to_string(info->doc_count) + " " + std::to_string(info->doc_del_count) +
         " seq " + std::to_string(info->update_seq) + " external " +
         std::to_string(info->sizes_external) + "\n";
  return out;
}

// Rewrites every document of the closed database `path` in the first
// layout: the body at the end of the docs record, a by_seq entry of flags,
// winner and id. Returns how many documents it rewrote.
std::size_t rewrite_in_first_layout(const std::string& path) {
  auto env = storage::open_env(path, {});
  REQUIRE_MESSAGE(env.is_ok(), env.status().to_string());
  auto docs = (*env)->open_dbi("docs");
  auto by_seq = (*env)->open_dbi("by_seq");
  REQUIRE(docs.is_ok());
  REQUIRE(by_seq.is_ok());
  std::size_t rewritten = 0;
  Status s = (*env)->write([&](storage::WriteTxn& txn) -> Status {
    rewritten = 0;
    std::vector<std::pair<std::string, std::string>> records;  // id, record
    {
      auto cursor = txn.cursor(*docs);
      REQUIRE(cursor.is_ok());
      for (bool ok = cursor->first(); ok; ok = cursor->next()) {
        records.emplace_back(cursor->key(), cursor->value());
      }
    }
    for (auto& [id, bytes] : records) {
      DocRecord rec;
      REQUIRE(db::decode_doc_record(bytes, &rec).is_ok());
      REQUIRE(rec.body_in_seq);
      auto entry_bytes = txn.get(*by_seq, db::seq_key(rec.seq));
      REQUIRE(entry_bytes.is_ok());
      REQUIRE(entry_bytes->has_value());
      SeqRecord entry;
      REQUIRE(db::decode_seq_record(**entry_bytes, &entry).is_ok());
      REQUIRE(entry.has_body);
      REQUIRE(entry.id == id);
      std::string body(entry.body);
      std::string old_entry(1, static_cast<char>(rec.deleted ? 1 : 0));
      db::put_rev(&old_entry, rec.winner);
      old_entry += id;
      rec.body_in_seq = false;
      rec.body = body;
      std::string old_record;
      db::encode_doc_record(rec, &old_record);
      if (Status put = txn.put(*docs, id, old_record); !put.is_ok()) return put;
      if (Status put = txn.put(*by_seq, db::seq_key(rec.seq), old_entry); !put.is_ok()) return put;
      ++rewritten;
    }
    return Status::ok();
  });
  REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  return rewritten;
}

// How many documents of the closed database `path` are in the first layout.
std::size_t first_layout_records(const std::string& path) {
  auto env = storage::open_env(path, {});
  REQUIRE(env.is_ok());
  auto docs = (*env)->open_dbi("docs");
  REQUIRE(docs.is_ok());
  auto txn = (*env)->begin_read();
  REQUIRE(txn.is_ok());
  auto cursor = txn->cursor(*docs);
  REQUIRE(cursor.is_ok());
  std::size_t n = 0;
  for (bool ok = cursor->first(); ok; ok = cursor->next()) {
    DocRecord rec;
    REQUIRE(db::decode_doc_record(cursor->value(), &rec).is_ok());
    if (!rec.body_in_seq) ++n;
  }
  return n;
}

TEST_CASE("documents of the first layout read, update and compact as current ones") {
  TestDb current, old;
  first_writes(current);
  first_writes(old);
  const std::string expected = readout(current);
  REQUIRE(readout(old) == expected);

  old.db.reset();
  old.dir.reset();
  const std::string path = old.tmp.path() + "/data/db.divan";
  CHECK(rewrite_in_first_layout(path) == ids().size());
  CHECK(first_layout_records(path) == ids().size());
  old.reopen();
  CHECK(readout(old) == expected);

  more_writes(current);
  more_writes(old);
  const std::string after_writes = readout(current);
  CHECK(readout(old) == after_writes);
  CHECK(after_writes != expected);

  REQUIRE(current.db->compact().is_ok());
  REQUIRE(old.db->compact().is_ok());
  const std::string compacted = readout(current);
  CHECK(readout(old) == compacted);

  old.reopen();
  CHECK(readout(old) == compacted);
  // The documents not written since keep the first layout.
  old.db.reset();
  old.dir.reset();
  const std::size_t still_old = first_layout_records(path);
  CHECK(still_old > 0);
  CHECK(still_old < ids().size());
}

TEST_CASE("a damaged by_seq entry is reported as corruption, not read past") {
  TestDb t;
  t.put(R"({"_id":"a","v":1})");
  t.db.reset();
  t.dir.reset();
  const std::string path = t.tmp.path() + "/data/db.divan";
  {
    auto env = storage::open_env(path, {});
    REQUIRE(env.is_ok());
    auto by_seq = (*env)->open_dbi("by_seq");
    REQUIRE(by_seq.is_ok());
    Status s = (*env)->write([&](storage::WriteTxn& txn) -> Status {
      // Flags say "with body", then a rev, then an id length past the end.
      std::string bad(1, '\x02');
      db::put_rev(&bad, rev::RevId{1, hex('f')});
      db::put_varint(&bad, 99);
      bad += "a";
      return txn.put(*by_seq, db::seq_key(1), bad);
    });
    REQUIRE(s.is_ok());
  }
  t.reopen();
  auto d = t.db->get("a", {});
  REQUIRE_FALSE(d.is_ok());
  CHECK(d.status().code() == ErrorCode::kCorruption);
  auto feed = t.db->changes({});
  REQUIRE_FALSE(feed.is_ok());
  CHECK(feed.status().code() == ErrorCode::kCorruption);
}

}  // namespace
}  // namespace divan::testing
