// HttpSide: a Side (tests/replicator/scenarios.h) over a database of a
// divan server process, read and written over plain HTTP.
#ifndef DIVAN_TESTS_HTTP_HTTP_SIDE_H_
#define DIVAN_TESTS_HTTP_HTTP_SIDE_H_

#include <rapidjson/document.h>

#include <algorithm>
#include <tuple>

#include "../replicator/local_side.h"
#include "../replicator/scenarios.h"
#include "divan/http_peer.h"
#include "server_process.h"

namespace divan::testing {

class HttpSide final : public Side {
 public:
  HttpSide(ServerProcess& server, std::string db, bool create = true) : server_(server), db_(std::move(db)) {
    if (create) REQUIRE(server_.put("/" + db_).status == 201);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/" + db_; }
  std::unique_ptr<Peer> peer() override {
    auto p = make_http_peer(url());
    REQUIRE(p.is_ok());
    return std::move(*p);
  }
  std::string put(const std::string& json) override {
    Resp r = server_.post("/" + db_, json);
    INFO(json << " -> " << r.body);
    REQUIRE(r.status == 201);
    return str(r.json()["rev"]);
  }
  void put_replicated(const std::string& json) override {
    Resp r = server_.post("/" + db_ + "/_bulk_docs", R"({"new_edits":false,"docs":[)" + json + "]}");
    INFO(r.body);
    REQUIRE(r.status == 201);
  }
  std::string leaves(const std::string& id) override {
    Resp r = server_.get("/" + db_ + "/" + id + "?conflicts=true&deleted_conflicts=true");
    if (r.status == 200) {
      auto d = r.json();
      std::vector<std::string> conflicts, deleted;
      if (d.HasMember("_conflicts")) {
        for (const auto& v : d["_conflicts"].GetArray()) conflicts.push_back(str(v));
      }
      if (d.HasMember("_deleted_conflicts")) {
        for (const auto& v : d["_deleted_conflicts"].GetArray()) deleted.push_back(str(v));
      }
      return str(d["_rev"]) + " " + rev_list(conflicts) + " " + rev_list(deleted);
    }
    // A deleted document: every leaf is a tombstone, and the winner is the
    // deepest, then the greatest rev (CouchDB's rule among deleted leaves).
    Resp all = server_.get("/" + db_ + "/" + id + "?open_revs=all", {{"Accept", "application/json"}});
    if (all.status != 200) return "missing";
    auto d = all.json();
    std::vector<std::string> leaves;
    for (const auto& v : d.GetArray()) {
      if (v.HasMember("ok")) leaves.push_back(str(v["ok"]["_rev"]));
    }
    if (leaves.empty()) return "missing";
    auto key = [](const std::string& rev) {
      return std::make_tuple(std::stoull(rev.substr(0, rev.find('-'))), rev.substr(rev.find('-') + 1));
    };
    std::sort(leaves.begin(), leaves.end(), [&](const auto& a, const auto& b) { return key(a) > key(b); });
    std::string winner = leaves[0];
    leaves.erase(leaves.begin());
    return winner + " [] " + rev_list(leaves);
  }
  std::vector<std::string> ids() override {
    Resp r = server_.get("/" + db_ + "/_changes");
    INFO(r.status << " " << r.body.substr(0, 2000));
    REQUIRE(r.status == 200);
    auto d = r.json();
    REQUIRE((d.IsObject() && d.HasMember("results") && d["results"].IsArray()));
    std::vector<std::string> out;
    for (const auto& row : d["results"].GetArray()) out.push_back(str(row["id"]));
    return out;
  }
  std::string get_local(const std::string& id) override {
    Resp r = server_.get("/" + db_ + "/_local/" + id);
    return r.status == 200 ? r.body : "";
  }

 private:
  ServerProcess& server_;
  std::string db_;
};

}  // namespace divan::testing

#endif  // DIVAN_TESTS_HTTP_HTTP_SIDE_H_
