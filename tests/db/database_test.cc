// Documents: interactive and replicated writes, reads, open_revs,
// revs_diff and _local documents, as CouchDB defines them
// (couchdb-semantics.md §1-3).
#include <doctest/doctest.h>

#include <set>

#include "db_test_util.h"

using divan::BulkDocsOptions;
using divan::ErrorCode;
using divan::GetOptions;
using divan::OpenRevsOptions;
using divan::PutOptions;
using divan::RevsDiffRequest;
using divan::testing::TestDb;

namespace {

std::uint64_t pos_of(const std::string& rev) { return std::stoull(rev.substr(0, rev.find('-'))); }

PutOptions replicated() {
  PutOptions o;
  o.new_edits = false;
  return o;
}

}  // namespace

TEST_SUITE("db") {
  TEST_CASE("a new document gets a 1- revision of 32 lowercase hex digits") {
    TestDb t;
    std::string rev = t.put(R"({"_id":"a","v":1})");
    CHECK(rev.size() == 2 + 32);
    CHECK(rev.substr(0, 2) == "1-");
    for (char c : rev.substr(2)) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
    CHECK(t.get_json("a") == R"({"_id":"a","_rev":")" + rev + R"(","v":1})");
  }

  TEST_CASE("the same edit on two databases yields the same revision") {
    TestDb a, b;
    std::string r1 = a.put(R"({"_id":"x","v":1})");
    std::string r2 = b.put(R"({"_id":"x",  "v" : 1 })");
    CHECK(r1 == r2);
    CHECK(a.put(R"({"_id":"x","_rev":")" + r1 + R"(","v":2})") ==
          b.put(R"({"_id":"x","_rev":")" + r2 + R"(","v":2})"));
    // A different body, deletion flag or parent gives a different revision.
    TestDb c;
    CHECK(c.put(R"({"_id":"x","v":2})") != r1);
  }

  TEST_CASE("an update must name the current leaf revision") {
    TestDb t;
    std::string r1 = t.put(R"({"_id":"a","v":1})");
    std::string r2 = t.put(R"({"_id":"a","_rev":")" + r1 + R"(","v":2})");
    CHECK(pos_of(r2) == 2);
    // Stale revision.
    auto stale = t.db->put(R"({"_id":"a","_rev":")" + r1 + R"(","v":3})");
    REQUIRE_FALSE(stale.is_ok());
    CHECK(stale.status().code() == ErrorCode::kConflict);
    CHECK(stale.status().reason() == "Document update conflict.");
    // Missing revision on an existing document.
    auto missing = t.db->put(R"({"_id":"a","v":3})");
    CHECK(missing.status().code() == ErrorCode::kConflict);
    // Unknown revision.
    auto unknown = t.db->put(R"({"_id":"a","_rev":"2-00000000000000000000000000000000","v":3})");
    CHECK(unknown.status().code() == ErrorCode::kConflict);
    // A revision on a document that does not exist.
    auto none = t.db->put(R"({"_id":"b","_rev":"1-00000000000000000000000000000000"})");
    CHECK(none.status().code() == ErrorCode::kConflict);
    CHECK(t.get_json("a").find(R"("v":2)") != std::string::npos);
  }

  TEST_CASE("the revision may come from outside the body, and must agree with it") {
    TestDb t;
    std::string r1 = t.put(R"({"v":1})", PutOptions{true, "a", std::nullopt});
    std::string r2 = t.put(R"({"v":2})", PutOptions{true, "a", r1});
    CHECK(pos_of(r2) == 2);
    auto clash = t.db->put(R"({"_rev":")" + r1 + R"(","v":3})", PutOptions{true, "a", r2});
    CHECK(clash.status().code() == ErrorCode::kBadRequest);
    CHECK(clash.status().reason() ==
          "Document rev from request body and query string have different values");
    // The id from outside wins over the body's.
    t.put(R"({"_id":"other","v":1})", PutOptions{true, "c", std::nullopt});
    CHECK(t.db->get("c").is_ok());
    CHECK(t.db->get("other").status().code() == ErrorCode::kNotFound);
  }

  TEST_CASE("deleting writes a tombstone; reads then say deleted") {
    TestDb t;
    std::string r1 = t.put(R"({"_id":"a","v":1})");
    auto del = t.db->remove("a", r1);
    REQUIRE(del.is_ok());
    CHECK(pos_of(del->rev) == 2);
    CHECK(t.get_json("a") == "not_found: deleted");
    CHECK(t.get_json("nope") == "not_found: missing");
    // The tombstone itself can be read by revision, and with deleted=true.
    GetOptions by_rev;
    by_rev.rev = del->rev;
    CHECK(t.get_json("a", by_rev) == R"({"_id":"a","_rev":")" + del->rev + R"(","_deleted":true})");
    GetOptions deleted;
    deleted.deleted = true;
    CHECK(t.db->get("a", deleted).is_ok());
    // Deleting again, or deleting what never was, is not_found.
    CHECK(t.db->remove("a", del->rev).status().reason() == "deleted");
    CHECK(t.db->remove("zzz", "1-abc").status().reason() == "missing");
    // Deleting without a revision is a conflict.
    t.put(R"({"_id":"b"})");
    CHECK(t.db->remove("b", "").status().code() == ErrorCode::kConflict);
    auto info = t.db->info();
    REQUIRE(info.is_ok());
    CHECK(info->doc_count == 1);
    CHECK(info->doc_del_count == 1);
  }

  TEST_CASE("a tombstone written with fields keeps them") {
    TestDb t;
    std::string r1 = t.put(R"({"_id":"a","v":1})");
    std::string r2 = t.put(R"({"_id":"a","_rev":")" + r1 + R"(","_deleted":true,"why":"gone"})");
    GetOptions o;
    o.rev = r2;
    CHECK(t.get_json("a", o) == R"({"_id":"a","_rev":")" + r2 + R"(","why":"gone","_deleted":true})");
  }

  TEST_CASE("a deleted document is re-created without _rev, extending the tombstone") {
    TestDb t;
    std::string r1 = t.put(R"({"_id":"a","v":1})");
    std::string r2 = t.db->remove("a", r1)->rev;
    // Naming the tombstone is a conflict (CouchDB, COUCHDB-292).
    CHECK(t.db->put(R"({"_id":"a","_rev":")" + r2 + R"(","v":2})").status().code() ==
          ErrorCode::kConflict);
    // Re-creating as a deletion is a conflict too.
    CHECK(t.db->put(R"({"_id":"a","_deleted":true})").status().code() == ErrorCode::kConflict);
    std::string r3 = t.put(R"({"_id":"a","v":2})");
    CHECK(pos_of(r3) == 3);
    GetOptions o;
    o.revs = true;
    auto d = t.db->get("a", o);
    REQUIRE(d.is_ok());
    REQUIRE(d->revisions);
    CHECK(d->revisions->start == 3);
    CHECK(d->revisions->ids.size() == 3);
    CHECK(d->revisions->ids[1] == r2.substr(2));
    auto info = t.db->info();
    CHECK(info->doc_count == 1);
    CHECK(info->doc_del_count == 0);
  }

  TEST_CASE("creating a document directly as a tombstone is allowed") {
    TestDb t;
    std::string r = t.put(R"({"_id":"a","_deleted":true})");
    CHECK(pos_of(r) == 1);
    CHECK(t.get_json("a") == "not_found: deleted");
    CHECK(t.db->info()->doc_del_count == 1);
  }

  TEST_CASE("replicated writes merge histories without conflict checks") {
    TestDb t;
    const std::string a = "1-" + std::string(32, 'a');
    // Two branches from the same root.
    REQUIRE(t.db->bulk_docs(R"([
      {"_id":"d","_rev":"2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","v":"b",
       "_revisions":{"start":2,"ids":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}},
      {"_id":"d","v":"c",
       "_revisions":{"start":2,"ids":["cccccccccccccccccccccccccccccccc","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}}
    ])", BulkDocsOptions{false}).is_ok());
    GetOptions o;
    o.conflicts = true;
    // Winner: same pos, greater hash.
    CHECK(t.get_json("d", o) ==
          R"({"_id":"d","_rev":"2-cccccccccccccccccccccccccccccccc","v":"c","_conflicts":["2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]})");
    std::uint64_t seq = t.db->update_seq();
    // Re-sending is idempotent and takes no new sequence.
    auto again = t.db->bulk_docs(R"([{"_id":"d","_rev":"2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","v":"b",
       "_revisions":{"start":2,"ids":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}}])",
                                 BulkDocsOptions{false});
    REQUIRE(again.is_ok());
    CHECK(again->size() == 1);
    CHECK((*again)[0].status.is_ok());
    CHECK(t.db->update_seq() == seq);
    // The common ancestor is known by id only: no body.
    GetOptions old;
    old.rev = a;
    CHECK(t.get_json("d", old) == "not_found: missing");
    // A lone _rev without history becomes a new root.
    t.put(R"({"_id":"d","_rev":"5-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","v":"e"})", replicated());
    CHECK(t.get_json("d", o) ==
          R"({"_id":"d","_rev":"5-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","v":"e","_conflicts":["2-cccccccccccccccccccccccccccccccc","2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]})");
  }

  TEST_CASE("a replicated write needs _rev or _revisions") {
    TestDb t;
    auto r = t.db->put(R"({"_id":"a","v":1})", replicated());
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kBadRequest);
    CHECK(r.status().reason() ==
          "When `new_edits: false`, the document needs `_rev` or `_revisions` specified");
  }

  TEST_CASE("a live leaf beats a deleted one of higher generation") {
    TestDb t;
    t.put(R"({"_id":"d","v":"live","_revisions":{"start":2,"ids":["22222222222222222222222222222222","11111111111111111111111111111111"]}})",
          replicated());
    t.put(R"({"_id":"d","_deleted":true,"_revisions":{"start":3,"ids":["33333333333333333333333333333333","44444444444444444444444444444444","11111111111111111111111111111111"]}})",
          replicated());
    GetOptions o;
    o.conflicts = true;
    o.deleted_conflicts = true;
    CHECK(t.get_json("d", o) ==
          R"({"_id":"d","_rev":"2-22222222222222222222222222222222","v":"live","_deleted_conflicts":["3-33333333333333333333333333333333"]})");
    CHECK(t.db->info()->doc_count == 1);
    // Deleting the live leaf leaves only tombstones: the document is deleted
    // and the winner is the highest tombstone.
    CHECK(t.db->remove("d", "2-22222222222222222222222222222222").is_ok());
    CHECK(t.get_json("d") == "not_found: deleted");
    auto info = t.db->info();
    CHECK(info->doc_count == 0);
    CHECK(info->doc_del_count == 1);
  }

  TEST_CASE("extending a deleted leaf of a live document revives that branch") {
    TestDb t;
    t.put(R"({"_id":"d","v":1,"_revisions":{"start":2,"ids":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}})",
          replicated());
    t.put(R"({"_id":"d","_deleted":true,"_revisions":{"start":2,"ids":["cccccccccccccccccccccccccccccccc","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}})",
          replicated());
    std::string r = t.put(R"({"_id":"d","_rev":"2-cccccccccccccccccccccccccccccccc","v":2})");
    CHECK(pos_of(r) == 3);
    GetOptions o;
    o.conflicts = true;
    CHECK(t.get_json("d", o) == R"({"_id":"d","_rev":")" + r +
                                    R"(","v":2,"_conflicts":["2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]})");
  }

  TEST_CASE("bulk_docs applies entries in order, per-entry conflicts") {
    TestDb t;
    auto r = t.db->bulk_docs(R"([{"_id":"a","v":1},{"_id":"a","v":2},{"_id":"b"},{"v":3}])");
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 4);
    CHECK((*r)[0].status.is_ok());
    CHECK((*r)[1].status.code() == ErrorCode::kConflict);
    CHECK((*r)[1].id == "a");
    CHECK((*r)[2].status.is_ok());
    CHECK((*r)[3].status.is_ok());
    CHECK((*r)[3].id.size() == 32);  // a generated id
    CHECK(t.db->get((*r)[3].id).is_ok());
    CHECK(t.db->info()->doc_count == 3);
    // An update and a delete in one batch see each other.
    std::string ra = (*r)[0].rev;
    auto r2 = t.db->bulk_docs(R"([{"_id":"a","_rev":")" + ra + R"(","v":9}])");
    REQUIRE(r2.is_ok());
    auto r3 = t.db->bulk_docs(R"([{"_id":"a","_rev":")" + (*r2)[0].rev + R"(","_deleted":true},{"_id":"a","v":10}])");
    REQUIRE(r3.is_ok());
    CHECK((*r3)[0].status.is_ok());
    CHECK((*r3)[1].status.is_ok());  // re-created after the deletion just before it
    CHECK(pos_of((*r3)[1].rev) == 4);
  }

  TEST_CASE("generated ids are unique and sort close together") {
    TestDb t;
    std::set<std::string> ids;
    std::string prev;
    for (int i = 0; i < 200; ++i) {
      auto r = t.db->put(R"({"n":1})");
      REQUIRE(r.is_ok());
      CHECK(ids.insert(r->id).second);
      if (!prev.empty()) CHECK(r->id.substr(0, 26) == prev.substr(0, 26));
      prev = r->id;
    }
  }

  TEST_CASE("reading a given revision, with history and revs_info") {
    TestDb t;
    std::string r1 = t.put(R"({"_id":"a","v":1})");
    std::string r2 = t.put(R"({"_id":"a","_rev":")" + r1 + R"(","v":2})");
    std::string r3 = t.put(R"({"_id":"a","_rev":")" + r2 + R"(","v":3})");
    GetOptions o;
    o.rev = r1;
    CHECK(t.get_json("a", o) == R"({"_id":"a","_rev":")" + r1 + R"(","v":1})");
    o.rev = r2;
    o.revs = true;
    CHECK(t.get_json("a", o) == R"({"_id":"a","_rev":")" + r2 + R"(","v":2,"_revisions":{"start":2,"ids":[")" +
                                    r2.substr(2) + R"(",")" + r1.substr(2) + R"("]}})");
    GetOptions info;
    info.revs_info = true;
    info.local_seq = true;
    auto d = t.db->get("a", info);
    REQUIRE(d.is_ok());
    REQUIRE(d->revs_info.size() == 3);
    CHECK(d->revs_info[0].rev == r3);
    CHECK(d->revs_info[0].status == "available");
    CHECK(d->revs_info[2].rev == r1);
    CHECK(d->local_seq == t.db->update_seq());
    GetOptions bad;
    bad.rev = "9-" + std::string(32, 'f');
    CHECK(t.get_json("a", bad) == "not_found: missing");
  }

  TEST_CASE("open_revs returns all leaves, listed revisions, latest descendants") {
    TestDb t;
    t.put(R"({"_id":"d","v":"b","_revisions":{"start":2,"ids":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}})",
          replicated());
    t.put(R"({"_id":"d","_deleted":true,"_revisions":{"start":3,"ids":["dddddddddddddddddddddddddddddddd","cccccccccccccccccccccccccccccccc","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}})",
          replicated());
    OpenRevsOptions all;
    all.all = true;
    auto r = t.db->open_revs("d", all);
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].ok->rev == "2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");  // the live winner first
    CHECK((*r)[1].ok->rev == "3-dddddddddddddddddddddddddddddddd");
    CHECK((*r)[1].ok->deleted);

    OpenRevsOptions list;
    list.revs = {"2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "7-ffffffffffffffffffffffffffffffff"};
    list.revs_history = true;
    r = t.db->open_revs("d", list);
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].ok);
    CHECK((*r)[0].ok->revisions->ids.size() == 2);
    CHECK((*r)[1].missing == "1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");  // known, but no body
    CHECK((*r)[2].missing == "7-ffffffffffffffffffffffffffffffff");

    OpenRevsOptions latest;
    latest.revs = {"1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    latest.latest = true;
    r = t.db->open_revs("d", latest);
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].ok->rev == "2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    CHECK((*r)[1].ok->rev == "3-dddddddddddddddddddddddddddddddd");

    // Unknown documents: all -> not_found; a list -> every entry missing.
    CHECK(t.db->open_revs("nope", all).status().code() == ErrorCode::kNotFound);
    auto none = t.db->open_revs("nope", list);
    REQUIRE(none.is_ok());
    CHECK(none->size() == 3);
    CHECK_FALSE((*none)[0].ok);
  }

  TEST_CASE("revs_diff lists missing revisions and possible ancestors") {
    TestDb t;
    std::string r1 = t.put(R"({"_id":"a","v":1})");
    std::string r2 = t.put(R"({"_id":"a","_rev":")" + r1 + R"(","v":2})");
    auto diff = t.db->revs_diff({RevsDiffRequest{"a", {r1, r2, "3-" + std::string(32, 'c')}},
                                 RevsDiffRequest{"b", {"1-" + std::string(32, 'b')}},
                                 RevsDiffRequest{"complete", {}}});
    REQUIRE(diff.is_ok());
    REQUIRE(diff->size() == 2);
    CHECK((*diff)[0].id == "a");
    CHECK((*diff)[0].missing == std::vector<std::string>{"3-" + std::string(32, 'c')});
    CHECK((*diff)[0].possible_ancestors == std::vector<std::string>{r2});
    CHECK((*diff)[1].id == "b");
    CHECK((*diff)[1].possible_ancestors.empty());
    // Nothing missing: left out.
    auto none = t.db->revs_diff({RevsDiffRequest{"a", {r1, r2}}});
    REQUIRE(none.is_ok());
    CHECK(none->empty());
  }

  TEST_CASE("_local documents have 0-N revisions, no history, no MVCC, no feed") {
    TestDb t;
    std::uint64_t seq = t.db->update_seq();
    CHECK(t.put(R"({"_id":"_local/cp","n":1})") == "0-1");
    CHECK(t.put(R"({"_id":"_local/cp","_rev":"0-1","n":2})") == "0-2");
    // A stale revision still writes (CouchDB 3.x keeps no MVCC here).
    CHECK(t.put(R"({"_id":"_local/cp","_rev":"0-1","n":3})") == "0-2");
    // The replicator's _revisions member is accepted and dropped.
    CHECK(t.put(R"({"_id":"_local/cp","_rev":"0-2","n":4,"_revisions":{"start":0,"ids":["2"]}})") == "0-3");
    CHECK(t.get_json("_local/cp") == R"({"_id":"_local/cp","_rev":"0-3","n":4})");
    CHECK(t.db->update_seq() == seq);
    auto info = t.db->info();
    CHECK(info->doc_count == 0);
    auto changes = t.db->changes({});
    CHECK(changes->rows.empty());
    CHECK(t.db->all_docs({})->rows.empty());
    divan::AllDocsOptions local;
    local.local = true;
    auto locals = t.db->all_docs(local);
    REQUIRE(locals->rows.size() == 1);
    CHECK(locals->rows[0].id == "_local/cp");
    // A non-numeric local revision is malformed.
    CHECK(t.db->put(R"({"_id":"_local/cp","_rev":"0-x"})").status().code() == ErrorCode::kBadRequest);
    // Deleting answers 0-0 and the document is gone.
    auto del = t.db->remove("_local/cp", "0-3");
    REQUIRE(del.is_ok());
    CHECK(del->rev == "0-0");
    CHECK(t.get_json("_local/cp") == "not_found: missing");
  }

  TEST_CASE("repeated keys keep the last value, at every depth") {
    TestDb t;
    t.put(R"({"_id":"a","k":1,"x":{"y":1,"y":2},"k":3})");
    CHECK(t.get_json("a").find(R"("x":{"y":2},"k":3})") != std::string::npos);
    CHECK(t.get_json("a").find(R"("k":1)") == std::string::npos);
    // And the revision equals that of the deduplicated body.
    TestDb u;
    CHECK(t.db->get("a")->rev == u.put(R"({"_id":"a","x":{"y":2},"k":3})"));
  }

  TEST_CASE("numbers and strings are kept exactly, in canonical form") {
    TestDb t;
    t.put(R"({"_id":"n","big":123456789012345678901234567890,"f":1.50,"e":-2E+3,"s":"\u00e9\n\/"})");
    CHECK(t.get_json("n") ==
          "{\"_id\":\"n\",\"_rev\":\"" + t.db->get("n")->rev +
              "\",\"big\":123456789012345678901234567890,\"f\":1.50,\"e\":-2E+3,\"s\":\"\xC3\xA9\\n/\"}");
  }

  TEST_CASE("special members are validated; meta members are dropped; some are kept") {
    TestDb t;
    t.put(R"({"_id":"a","_conflicts":["x"],"_revs_info":[],"_local_seq":4,"_replication_state":"done"})");
    CHECK(t.get_json("a").find(R"("_replication_state":"done")") != std::string::npos);
    CHECK(t.get_json("a").find("_conflicts") == std::string::npos);
    auto bad = t.db->put(R"({"_id":"b","_foo":1})");
    CHECK(bad.status().code() == ErrorCode::kDocValidation);
    CHECK(bad.status().reason() == "Bad special document member: _foo");
    // Nested "_" keys are ordinary.
    t.put(R"({"_id":"c","x":{"_foo":1}})");
  }

  TEST_CASE("design documents are documents") {
    TestDb t;
    std::string r = t.put(R"({"_id":"_design/app","views":{}})");
    CHECK(t.db->get("_design/app")->rev == r);
    CHECK(t.db->info()->doc_count == 1);
  }
}

TEST_SUITE("db") {
  TEST_CASE("the security object is stored, validated and survives reopening") {
    TestDb t;
    CHECK(*t.db->security() == "{}");
    const std::string sec =
        R"({"admins":{"names":["alice"],"roles":["ops"]},"members":{"names":[],"roles":["staff"]}})";
    REQUIRE(t.db->set_security(sec).is_ok());
    CHECK(*t.db->security() == sec);
    for (const char* bad : {"[]", "{", R"({"admins":[]})", R"({"members":{"names":"bob"}})",
                            R"({"members":{"roles":[1]}})"}) {
      CAPTURE(bad);
      CHECK(t.db->set_security(bad).code() == ErrorCode::kBadRequest);
    }
    CHECK(*t.db->security() == sec);
    CHECK(t.db->update_seq() == 0);  // not a document change
    t.reopen();
    CHECK(*t.db->security() == sec);
  }
}

TEST_SUITE("db") {
  TEST_CASE("an id given from outside decides that a body is a _local document") {
    TestDb t;
    CHECK(t.put(R"({"_rev":"0-2","n":1,"_revisions":{"start":0,"ids":["2"]}})",
                PutOptions{true, "_local/cp", std::nullopt}) == "0-3");
    CHECK(t.db->remove("_local/none", "0-1").status().code() == ErrorCode::kNotFound);
  }

  TEST_CASE("_local listings take ranges and keys like document listings") {
    TestDb t;
    for (const char* id : {"_local/a", "_local/b", "_local/c"}) t.put(std::string("{\"_id\":\"") + id + "\"}");
    t.put(R"({"_id":"doc"})");
    divan::AllDocsOptions o;
    o.local = true;
    o.start_key = "_local/b";
    auto r = t.db->all_docs(o);
    REQUIRE(r->rows.size() == 2);
    CHECK(r->rows[0].id == "_local/b");
    CHECK(r->offset == 1);
    CHECK(r->total_rows == 3);
    o.start_key.reset();
    o.keys = std::vector<std::string>{"_local/c", "doc", "_local/zz"};
    r = t.db->all_docs(o);
    REQUIRE(r->rows.size() == 3);
    CHECK(r->rows[0].rev == "0-1");
    CHECK(r->rows[1].not_found);  // a document is not a _local document
    CHECK(r->rows[2].not_found);
  }

  TEST_CASE("validate_rev checks revision syntax as every call does") {
    CHECK(divan::validate_rev("1-abc").is_ok());
    CHECK(divan::validate_rev("x").code() == ErrorCode::kBadRequest);
    CHECK(divan::validate_rev("x").reason() == "Invalid rev format");
  }
}
