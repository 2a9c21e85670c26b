// LocalSide: a Side (scenarios.h) over a database of a DataDir in this
// process.
#ifndef DIVAN_TESTS_REPLICATOR_LOCAL_SIDE_H_
#define DIVAN_TESTS_REPLICATOR_LOCAL_SIDE_H_

#include <algorithm>

#include "divan/data_dir.h"
#include "scenarios.h"
#include "test_util.h"

namespace divan::testing {

// "[a,b]" of the sorted revisions.
inline std::string rev_list(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out + "]";
}

// A fresh data folder in a temp folder, removed afterwards.
struct LocalDir {
  TempDir tmp;
  std::unique_ptr<DataDir> dir;
  LocalDir() {
    auto d = DataDir::open(tmp.path());
    REQUIRE(d.is_ok());
    dir = std::move(*d);
  }
};

class LocalSide final : public Side {
 public:
  LocalSide(DataDir& dir, std::string name, bool create = true) : dir_(dir), name_(std::move(name)) {
    if (create) REQUIRE(dir_.create_database(name_).is_ok());
  }
  std::shared_ptr<Database> db() {
    auto db = dir_.open_database(name_);
    REQUIRE(db.is_ok());
    return *db;
  }
  std::unique_ptr<Peer> peer() override { return make_local_peer(dir_, name_); }
  std::string put(const std::string& json) override {
    auto r = db()->put(json);
    INFO(json << " " << r.status().to_string());
    REQUIRE(r.is_ok());
    return r->rev;
  }
  void put_replicated(const std::string& json) override {
    PutOptions o;
    o.new_edits = false;
    auto r = db()->put(json, o);
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
  }
  std::string leaves(const std::string& id) override {
    GetOptions o;
    o.conflicts = true;
    o.deleted_conflicts = true;
    o.deleted = true;
    auto d = db()->get(id, o);
    if (!d.is_ok()) return "missing";
    return d->rev + " " + rev_list(d->conflicts) + " " + rev_list(d->deleted_conflicts);
  }
  std::vector<std::string> ids() override {
    auto c = db()->changes({});
    REQUIRE(c.is_ok());
    std::vector<std::string> out;
    for (const auto& row : c->rows) out.push_back(row.id);
    return out;
  }
  std::string get_local(const std::string& id) override {
    auto d = db()->get("_local/" + id);
    return d.is_ok() ? d->to_json() : "";
  }

 private:
  DataDir& dir_;
  std::string name_;
};

}  // namespace divan::testing

#endif  // DIVAN_TESTS_REPLICATOR_LOCAL_SIDE_H_
