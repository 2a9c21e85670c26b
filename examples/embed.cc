// Embedding divan: open a data folder, write, edit, receive a conflicting
// revision as replication would deliver it, read it all back, and
// replicate the database into a second one, conflicts included.
//
//   build/examples/embed [DATA_FOLDER]     (default: ./data)
//
// Exits non-zero if anything does not behave as shown, so the test suite
// runs it as a test (also in the -Dhttp=disabled build).
#include <divan/divan.h>

#include <cstdio>
#include <string>

namespace {

int fail(const char* what, const divan::Status& s) {
  std::fprintf(stderr, "embed: %s: %s\n", what, s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string folder = argc > 1 ? argv[1] : "data";

  auto dir = divan::DataDir::open(folder);
  if (!dir.is_ok()) return fail("open data folder", dir.status());
  // Start from empty databases each run.
  for (const char* name : {"example", "example-copy"}) {
    if (divan::Status s = (*dir)->delete_database(name);
        !s.is_ok() && s.code() != divan::ErrorCode::kNotFound) {
      return fail("delete", s);
    }
  }
  auto created = (*dir)->create_database("example");
  if (!created.is_ok()) return fail("create example", created.status());
  std::shared_ptr<divan::Database> db = *created;

  // An interactive write, then an edit naming the revision it replaces.
  auto first = db->put(R"({"_id":"greeting","text":"hello"})");
  if (!first.is_ok()) return fail("put", first.status());
  auto second = db->put(R"({"_id":"greeting","_rev":")" + first->rev + R"(","text":"hello, world"})");
  if (!second.is_ok()) return fail("update", second.status());

  // A stale edit is a conflict, as in CouchDB.
  auto stale = db->put(R"({"_id":"greeting","_rev":")" + first->rev + R"(","text":"hi"})");
  if (stale.is_ok() || stale.status().code() != divan::ErrorCode::kConflict) {
    std::fprintf(stderr, "embed: a stale edit was not refused\n");
    return 1;
  }

  // Another replica edited the same parent; replication delivers its
  // revision with new_edits=false. Both branches are kept.
  const std::string parent_hash = first->rev.substr(2);
  auto replicated = db->bulk_docs(
      R"([{"_id":"greeting","text":"bonjour","_revisions":{"start":2,"ids":[)"
      R"("ffffffffffffffffffffffffffffffff",")" + parent_hash + R"("]}}])",
      divan::BulkDocsOptions{/*new_edits=*/false});
  if (!replicated.is_ok()) return fail("replicated write", replicated.status());

  divan::GetOptions with_conflicts;
  with_conflicts.conflicts = true;
  auto doc = db->get("greeting", with_conflicts);
  if (!doc.is_ok()) return fail("get", doc.status());
  std::printf("winner:  %s\n", doc->to_json().c_str());
  // Every replica picks the same winner: the greater hash at equal depth.
  if (doc->rev != "2-ffffffffffffffffffffffffffffffff" || doc->conflicts.size() != 1 ||
      doc->conflicts[0] != second->rev) {
    std::fprintf(stderr, "embed: unexpected winner or conflicts\n");
    return 1;
  }

  auto changes = db->changes({});
  if (!changes.is_ok()) return fail("changes", changes.status());
  for (const auto& row : changes->rows) {
    std::printf("change:  seq %llu  %s  %s\n", static_cast<unsigned long long>(row.seq),
                row.id.c_str(), row.changes.front().c_str());
  }
  auto info = db->info();
  if (!info.is_ok()) return fail("info", info.status());
  std::printf("info:    %s has %llu document(s), update_seq %llu\n", info->db_name.c_str(),
              static_cast<unsigned long long>(info->doc_count),
              static_cast<unsigned long long>(info->update_seq));
  if (changes->rows.size() != 1 || info->update_seq != 3) return 1;

  // Replicate into "example-copy" (made by the replication), as a sync to
  // another replica would; the copy has the same winner and conflict.
  divan::ReplicationOptions options;
  options.create_target = true;
  options.replicator_id = (*dir)->uuid();
  auto job = divan::Replication::create(divan::make_local_peer(**dir, "example"),
                                        divan::make_local_peer(**dir, "example-copy"), options);
  if (!job.is_ok()) return fail("replication", job.status());
  auto replicated_run = (*job)->run();
  if (!replicated_run.is_ok()) return fail("replicate", replicated_run.status());
  std::printf("replicated: %llu revision(s) written\n",
              static_cast<unsigned long long>(replicated_run->stats.docs_written));
  auto copy = (*dir)->open_database("example-copy");
  if (!copy.is_ok()) return fail("open example-copy", copy.status());
  auto copied = (*copy)->get("greeting", with_conflicts);
  if (!copied.is_ok()) return fail("get from the copy", copied.status());
  if (copied->rev != doc->rev || copied->conflicts != doc->conflicts) {
    std::fprintf(stderr, "embed: the copy differs\n");
    return 1;
  }
  return 0;
}
