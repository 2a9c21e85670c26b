// HttpPeer (divan/http_peer.h) against the real binary: every Peer call,
// document ids that need encoding, longpoll waits and interrupt, and (through
// a proxy) a server without _bulk_get. http_peer_errors_test.cc has the
// URL rules and the answers divan never gives.
#include <doctest/doctest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "divan/http_peer.h"
#include "http_peer_test_util.h"
#include "server_process.h"

using divan::BulkGetRequest;
using divan::BulkGetResult;
using divan::ErrorCode;
using divan::Peer;
using divan::PeerChangesOptions;
using divan::testing::FakeServer;
using divan::testing::open_peer;
using divan::testing::ServerProcess;
using divan::testing::str;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

std::string url_of(const ServerProcess& s, const std::string& db) {
  return "http://127.0.0.1:" + std::to_string(s.port()) + "/" + db;
}

// A peer on a fresh database of `s`.
std::unique_ptr<Peer> new_db(ServerProcess& s, const std::string& db) {
  auto p = open_peer(url_of(s, db));
  REQUIRE(p->create().is_ok());
  return p;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  REQUIRE_MESSAGE(!d.HasParseError(), json);
  return d;
}

// Two conflicting leaves of "c" over a common ancestor 1-aaaa whose body
// was never sent, with numbers a DOM round trip would change.
const std::string kLeafB =
    R"({"_id":"c","_rev":"2-bbbb","n":1.50,"big":123456789012345678901234567890,)"
    R"("_revisions":{"start":2,"ids":["bbbb","aaaa"]}})";
const std::string kLeafC =
    R"({"_id":"c","_rev":"2-cccc","v":"c","_revisions":{"start":2,"ids":["cccc","aaaa"]}})";

// Document ids that need every kind of encoding in a path.
const std::vector<std::string> kOddIds = {"a/b", "a+b", "sp ace", "\xC3\xBCn\xC3\xAF", "q?x&y=z#f",
                                          "%41", "_design/x"};

std::string json_string(const std::string& s) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return b.GetString();
}

// A first revision of `id`, as bulk_get gives it, for new_edits=false.
std::string first_rev(const std::string& id, const std::string& hash) {
  return R"({"_id":)" + json_string(id) + R"(,"_rev":"1-)" + hash + R"(","x":1,"_revisions":{"start":1,"ids":[")" +
         hash + R"("]}})";
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("info names a missing database, and create makes it") {
    // bob is an admin (with a cheap hash): the credentials must be sent.
    divan::testing::TempDir tmp;
    {
      std::ofstream ini(tmp.file("divan.ini"));
      ini << "[admins]\nbob = s3cret\n[chttpd_auth]\niterations = 10\n";
    }
    ServerProcess s({"--config", tmp.file("divan.ini")});
    auto missing = open_peer("http://bob:s3cret@127.0.0.1:" + std::to_string(s.port()) + "/nodb");
    auto info = missing->info();
    REQUIRE(!info.is_ok());
    CHECK(info.status().code() == ErrorCode::kNotFound);
    CHECK(info.status().reason() == "Database does not exist: http://bob:*****@127.0.0.1:" +
                                        std::to_string(s.port()) + "/nodb");
    CHECK(!info.status().transient());

    REQUIRE(missing->create().is_ok());
    CHECK(missing->create().is_ok());  // already there: 412, still ok
    info = missing->info();
    REQUIRE_MESSAGE(info.is_ok(), info.status().to_string());
    CHECK(info->db_name == "nodb");
    CHECK(info->update_seq == "0");
    CHECK(!info->instance_start_time.empty());
    CHECK(info->server_uuid.size() == 32);
    CHECK(info->vendor == "divan");
    CHECK(info->version == "3.3.3");
    auto commit = missing->ensure_full_commit();
    REQUIRE(commit.is_ok());
    CHECK(*commit == info->instance_start_time);

    const std::string bob = "http://bob:s3cret@127.0.0.1:" + std::to_string(s.port()) + "/";
    auto odd = open_peer(bob + "a%2Fb");
    REQUIRE(odd->create().is_ok());
    CHECK(odd->info()->db_name == "a/b");
    CHECK(open_peer(bob + "Bad!")->create().code() == ErrorCode::kIllegalDatabaseName);
    // Without credentials: refused for good.
    CHECK(open_peer(url_of(s, "other"))->create().code() == ErrorCode::kUnauthorized);
  }

  TEST_CASE("changes reads rows with since, limit and doc_ids") {
    ServerProcess s;
    auto p = new_db(s, "db");
    REQUIRE(s.put("/db/a", "{}").status == 201);
    std::string b_rev = str(s.put("/db/b", "{}").json()["rev"]);
    REQUIRE(s.put("/db/c", "{}").status == 201);
    REQUIRE(s.del("/db/b?rev=" + b_rev).status == 200);

    PeerChangesOptions o;
    o.limit = 2;
    auto first = p->changes(o);
    REQUIRE_MESSAGE(first.is_ok(), first.status().to_string());
    REQUIRE(first->rows.size() == 2);
    CHECK(first->rows[0].id == "a");
    CHECK(first->rows[0].seq == "1");
    CHECK(first->rows[1].id == "c");
    CHECK(first->last_seq == first->rows[1].seq);
    CHECK(first->pending == std::optional<std::uint64_t>(1));  // the server's "pending"
    o.since = first->last_seq;
    auto rest = p->changes(o);
    REQUIRE(rest.is_ok());
    CHECK(rest->pending == std::optional<std::uint64_t>(0));
    REQUIRE(rest->rows.size() == 1);
    CHECK(rest->rows[0].id == "b");
    CHECK(rest->rows[0].deleted);
    REQUIRE(rest->rows[0].revs.size() == 1);
    CHECK(rest->rows[0].revs[0].starts_with("2-"));
    CHECK(rest->last_seq == "4");

    o.since = "\"3\"";  // a string seq goes back as its content
    auto quoted = p->changes(o);
    REQUIRE(quoted.is_ok());
    REQUIRE(quoted->rows.size() == 1);
    CHECK(quoted->rows[0].id == "b");

    PeerChangesOptions ids;
    ids.doc_ids = {"c", "b", "nothing"};
    auto filtered = p->changes(ids);
    REQUIRE_MESSAGE(filtered.is_ok(), filtered.status().to_string());
    REQUIRE(filtered->rows.size() == 2);
    CHECK(filtered->rows[0].id == "c");
    CHECK(filtered->rows[1].id == "b");

    CHECK(open_peer(url_of(s, "nodb"))->changes({}).status().code() == ErrorCode::kNotFound);
  }

  TEST_CASE("a longpoll wait returns at a write, and with no rows at its deadline") {
    ServerProcess s;
    auto p = new_db(s, "db");
    REQUIRE(s.put("/db/first", "{}").status == 201);
    PeerChangesOptions o;
    o.since = "1";
    o.wait = milliseconds(300);
    auto start = steady_clock::now();
    auto idle = p->changes(o);
    auto took = steady_clock::now() - start;
    REQUIRE_MESSAGE(idle.is_ok(), idle.status().to_string());
    CHECK(idle->rows.empty());
    CHECK(idle->last_seq == "1");
    CHECK(took >= milliseconds(300));
    CHECK(took < milliseconds(5000));

    // Whether the write lands before or during the wait, the wait ends with it.
    o.wait = milliseconds(30000);
    for (bool by_ids : {false, true}) {
      CAPTURE(by_ids);
      if (by_ids) o.doc_ids = {"later2"};
      auto waiting = std::async(std::launch::async, [&] { return p->changes(o); });
      REQUIRE(s.put(by_ids ? "/db/later2" : "/db/later", "{}").status == 201);
      REQUIRE(waiting.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
      auto woken = waiting.get();
      REQUIRE_MESSAGE(woken.is_ok(), woken.status().to_string());
      REQUIRE(woken->rows.size() == 1);
      CHECK(woken->rows[0].id == (by_ids ? "later2" : "later"));
      o.since = woken->last_seq;
    }
  }

  TEST_CASE("revs_diff reports missing revisions and their possible ancestors") {
    ServerProcess s;
    auto p = new_db(s, "db");
    REQUIRE(p->bulk_docs({kLeafB, kLeafC})->empty());
    auto diff = p->revs_diff({{"c", {"2-bbbb", "3-dddd"}}, {"new", {"1-eeee"}}, {"c", {"2-cccc"}}});
    REQUIRE_MESSAGE(diff.is_ok(), diff.status().to_string());
    REQUIRE(diff->size() == 2);
    const auto& c = (*diff)[0].id == "c" ? (*diff)[0] : (*diff)[1];
    const auto& fresh = (*diff)[0].id == "c" ? (*diff)[1] : (*diff)[0];
    CHECK(c.missing == std::vector<std::string>{"3-dddd"});
    CHECK(!c.possible_ancestors.empty());
    CHECK(fresh.id == "new");
    CHECK(fresh.missing == std::vector<std::string>{"1-eeee"});
    CHECK(p->revs_diff({{"c", {"2-bbbb", "2-cccc"}}})->empty());
    CHECK(p->revs_diff({})->empty());
  }

  TEST_CASE("bulk_get returns conflicting leaves with their history and numbers as stored") {
    ServerProcess s;
    auto p = new_db(s, "db");
    auto written = p->bulk_docs({kLeafB, kLeafC});
    REQUIRE_MESSAGE(written.is_ok(), written.status().to_string());
    CHECK(written->empty());
    std::vector<BulkGetRequest> q = {{"c", "2-bbbb", {}}, {"c", "1-aaaa", {}}, {"c", "9-ffff", {}},
                                     {"nodoc", "1-aaaa", {}}, {"c", "2-cccc", {"1-aaaa"}}};
    auto got = p->bulk_get(q);
    REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
    REQUIRE(got->size() == q.size());
    const BulkGetResult& b = (*got)[0];
    CHECK(b.id == "c");
    CHECK(b.rev == "2-bbbb");
    REQUIRE(b.docs.size() == 1);
    CHECK(b.docs[0].find(R"("n":1.50)") != std::string::npos);
    CHECK(b.docs[0].find(R"("big":123456789012345678901234567890)") != std::string::npos);
    auto doc = parse(b.docs[0]);
    CHECK(str(doc["_rev"]) == "2-bbbb");
    CHECK(doc["_revisions"]["start"].GetUint() == 2);
    CHECK(str(doc["_revisions"]["ids"][1]) == "aaaa");
    CHECK((*got)[1].docs.size() == 2);  // latest: the ancestor gives both leaves
    CHECK((*got)[2].error.code() == ErrorCode::kNotFound);
    CHECK((*got)[2].docs.empty());
    CHECK((*got)[3].error.code() == ErrorCode::kNotFound);
    REQUIRE((*got)[4].docs.size() == 1);
    CHECK(str(parse((*got)[4].docs[0])["_rev"]) == "2-cccc");
    CHECK(p->bulk_get({})->empty());
  }

  TEST_CASE("documents from bulk_get written with bulk_docs keep their revisions") {
    ServerProcess s;
    auto source = new_db(s, "source");
    auto target = new_db(s, "target");
    std::vector<std::string> docs = {kLeafB, kLeafC};
    for (std::size_t i = 0; i < kOddIds.size(); ++i) docs.push_back(first_rev(kOddIds[i], "abc" + std::to_string(i)));
    REQUIRE(source->bulk_docs(docs)->empty());

    auto changes = source->changes({});
    REQUIRE(changes.is_ok());
    std::vector<BulkGetRequest> q;
    for (const auto& row : changes->rows) {
      for (const auto& rev : row.revs) q.push_back({row.id, rev, {}});
    }
    REQUIRE(q.size() == docs.size());
    auto diff = target->revs_diff([&] {
      std::vector<divan::RevsDiffRequest> r;
      for (const auto& row : changes->rows) r.push_back({row.id, row.revs});
      return r;
    }());
    REQUIRE(diff.is_ok());
    CHECK(diff->size() == changes->rows.size());

    auto got = source->bulk_get(q);
    REQUIRE(got.is_ok());
    std::vector<std::string> fetched;
    for (const auto& r : *got) {
      REQUIRE_MESSAGE(r.docs.size() == 1, (r.id + " " + r.error.to_string()));
      fetched.push_back(r.docs[0]);
    }
    auto failed = target->bulk_docs(fetched);
    REQUIRE_MESSAGE(failed.is_ok(), failed.status().to_string());
    CHECK(failed->empty());
    auto again = target->bulk_get(q);
    REQUIRE(again.is_ok());
    for (std::size_t i = 0; i < q.size(); ++i) {
      REQUIRE((*again)[i].docs.size() == 1);
      CHECK((*again)[i].docs[0] == fetched[i]);  // same body, same _revisions
    }
    CHECK(target->revs_diff([&] {
      std::vector<divan::RevsDiffRequest> r;
      for (const auto& row : changes->rows) r.push_back({row.id, row.revs});
      return r;
    }())->empty());

    // An id the server refuses fails the whole batch, as on CouchDB.
    auto refused = target->bulk_docs({R"({"_id":"_bad","_rev":"1-abc","_revisions":{"start":1,"ids":["abc"]}})"});
    REQUIRE(!refused.is_ok());
    CHECK(refused.status().code() == ErrorCode::kIllegalDocId);
  }

  TEST_CASE("bulk_docs halves a batch the server finds too large, and reports refused documents") {
    divan::testing::TempDir tmp;
    {
      std::ofstream ini(tmp.file("divan.ini"));
      ini << "[couchdb]\nmax_document_size = 3000\n[chttpd]\nmax_http_request_size = 4000\n";
    }
    ServerProcess s({"--config", tmp.file("divan.ini")});
    auto p = new_db(s, "db");
    std::vector<std::string> docs;
    for (int i = 0; i < 20; ++i) {
      docs.push_back(R"({"_id":"d)" + std::to_string(i) + R"(","_rev":"1-abc","pad":")" + std::string(500, 'x') +
                     R"(","_revisions":{"start":1,"ids":["abc"]}})");
    }
    // Larger than a request may be: refused by us, alone.
    docs.push_back(R"({"_id":"huge","_rev":"1-abc","pad":")" + std::string(5000, 'x') +
                   R"(","_revisions":{"start":1,"ids":["abc"]}})");
    // Fits in a request but not in a document: refused by the server.
    docs.push_back(R"({"_id":"big","_rev":"1-abc","pad":")" + std::string(3500, 'x') +
                   R"(","_revisions":{"start":1,"ids":["abc"]}})");
    auto failed = p->bulk_docs(docs);
    REQUIRE_MESSAGE(failed.is_ok(), failed.status().to_string());
    REQUIRE(failed->size() == 2);
    CHECK((*failed)[0].id == "huge");
    CHECK((*failed)[0].rev == "1-abc");
    CHECK((*failed)[0].status.code() == ErrorCode::kDocumentTooLarge);
    CHECK((*failed)[1].id == "big");
    CHECK((*failed)[1].status.code() == ErrorCode::kDocumentTooLarge);
    CHECK(p->info()->update_seq == "20");
  }

  TEST_CASE("_local documents: get, and put with the rev read") {
    ServerProcess s;
    auto p = new_db(s, "db");
    for (const std::string& id : {std::string("checkpoint"), std::string("a/b c+\xC3\xBC")}) {
      CAPTURE(id);
      auto none = p->get_local(id);
      REQUIRE(none.is_ok());
      CHECK(!none->has_value());
      auto rev = p->put_local(id, R"({"seq":12,"f":1.50})");
      REQUIRE_MESSAGE(rev.is_ok(), rev.status().to_string());
      CHECK(*rev == "0-1");
      auto got = p->get_local(id);
      REQUIRE(got.is_ok());
      REQUIRE(got->has_value());
      auto doc = parse(**got);
      CHECK(str(doc["_id"]) == "_local/" + id);
      CHECK(str(doc["_rev"]) == "0-1");
      CHECK((*got)->find(R"("f":1.50)") != std::string::npos);
      auto next = p->put_local(id, R"({"_rev":"0-1","seq":13})");
      REQUIRE(next.is_ok());
      CHECK(*next == "0-2");
    }
    CHECK(open_peer(url_of(s, "nodb"))->get_local("x").status().code() == ErrorCode::kNotFound);
  }

  TEST_CASE("interrupt unblocks a longpoll from another thread, and later calls fail at once") {
    ServerProcess s;
    auto p = new_db(s, "db");
    PeerChangesOptions o;
    o.wait = milliseconds(60000);
    auto waiting = std::async(std::launch::async, [&] { return p->changes(o); });
    p->interrupt();
    REQUIRE(waiting.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto r = waiting.get();
    REQUIRE(!r.is_ok());
    CHECK(r.status().code() == ErrorCode::kIoError);
    CHECK(r.status().reason() == "interrupted");
    CHECK(!r.status().transient());
    CHECK(p->info().status().reason() == "interrupted");
    p->interrupt();  // idempotent
  }

  TEST_CASE("without _bulk_get the peer reads each document with open_revs, and remembers") {
    ServerProcess s;
    auto direct = new_db(s, "db");
    std::vector<std::string> docs = {kLeafB, kLeafC};
    for (std::size_t i = 0; i < kOddIds.size(); ++i) docs.push_back(first_rev(kOddIds[i], "abc" + std::to_string(i)));
    REQUIRE(direct->bulk_docs(docs)->empty());

    // A proxy to the real server that has no _bulk_get.
    FakeServer proxy;
    std::atomic<int> bulk_gets{0}, open_revs{0};
    auto forward = [&](const httplib::Request& req, httplib::Response& res) {
      httplib::Client c("127.0.0.1", s.port());
      c.set_url_encode(false);
      httplib::Headers h = {{"Accept", req.get_header_value("Accept")}};
      auto r = req.method == "GET" ? c.Get(req.target.c_str(), h)
                                   : c.Post(req.target.c_str(), h, req.body, "application/json");
      REQUIRE(r);
      res.status = r->status;
      res.set_content(r->body, "application/json");
    };
    proxy.http().Post("/db/_bulk_get", [&](const httplib::Request&, httplib::Response& res) {
      ++bulk_gets;
      res.status = 404;
      res.set_content(R"({"error":"not_found","reason":"missing"})", "application/json");
    });
    proxy.http().Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
      if (req.target.find("open_revs=") != std::string::npos) ++open_revs;
      forward(req, res);
    });
    proxy.http().Post(".*", forward);
    proxy.start();
    auto p = open_peer(proxy.url("db"));

    std::vector<BulkGetRequest> q = {{"c", "2-bbbb", {}}, {"c", "1-aaaa", {}}, {"c", "9-ffff", {}},
                                     {"nodoc", "1-aaaa", {}}};
    for (std::size_t i = 0; i < kOddIds.size(); ++i) q.push_back({kOddIds[i], "1-abc" + std::to_string(i), {}});
    auto want = direct->bulk_get(q);
    REQUIRE(want.is_ok());
    for (int round = 0; round < 2; ++round) {
      auto got = p->bulk_get(q);
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      REQUIRE(got->size() == q.size());
      for (std::size_t i = 0; i < q.size(); ++i) {
        CAPTURE(q[i].id);
        auto sorted = [](std::vector<std::string> v) {
          std::sort(v.begin(), v.end());
          return v;
        };
        CHECK(sorted((*got)[i].docs) == sorted((*want)[i].docs));
        CHECK((*got)[i].error.code() == (*want)[i].error.code());
      }
    }
    CHECK(bulk_gets == 1);  // asked once, then remembered
    CHECK(open_revs == 2 * static_cast<int>(2 + kOddIds.size()));  // one GET per id per round
  }
}
