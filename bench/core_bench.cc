// core_bench: divan's embedded library against raw LMDB.
//
// Run by hand, never from the tests (see docs/benchmarks.md):
//
//   core_bench [--docs N] [--batch N] [--seconds N] [--threads N]
//              [--keys random|sequential] [--server-ids] [--dir PATH]
//              [--only LIST] [--divan-only] [--map-mib N]
//
// Every run works in a fresh folder (mkdtemp under --dir, default /tmp) and
// removes it at the end. All writes are durable: divan with its default
// options (sync on), raw LMDB with its default flags plus MDB_NOSUBDIR (an
// fsync'd commit per write transaction) and a 4 GiB map.
//
// Phases (--only takes a comma-separated subset; read, changes and update
// load the documents first, unreported, when bulk is not selected):
//   bulk        --docs new docs in batches of --batch: Database::bulk_docs vs
//               one LMDB txn + commit per batch of puts, batch by batch in turn
//   read        Database::get of random existing docs, 1 and 2 threads
//   changes     Database::changes over all docs, without and with include_docs
//   update      put of one doc with its current _rev, repeatedly; and
//               updates cycling over all docs (each put its own commit)
//   concurrent  --threads threads each putting new docs, one doc per put;
//               with --server-ids the docs have no _id and divan makes the
//               ids (raw LMDB: keys from one shared sequential generator)
// The fsync-bound phases (update, concurrent) run divan and raw LMDB in
// alternating one-second slices, --seconds in all for each.
//
// --divan-only skips raw LMDB (for profiling divan alone); --map-mib sets
// DataDirOptions::initial_map_size (default: divan's own).
#include <lmdb.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_docs.h"
#include "divan/divan.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ------------------------------------------------------------------ options

struct Options {
  std::size_t docs = 100'000;
  std::size_t batch = 1'000;
  double seconds = 5;
  unsigned threads = 16;
  bool sequential_keys = false;
  // The concurrent phase's divan documents come without _id, so divan makes
  // the ids (CouchDB-sequential, from one generator), as for POST /db.
  bool server_ids = false;
  std::string dir = "/tmp";
  std::set<std::string> only;  // empty: every phase
  bool lmdb = true;            // false: divan alone (for profiling)
  std::size_t map_mib = 0;     // DataDirOptions::initial_map_size; 0: divan's default
  bool want(const char* phase) const { return only.empty() || only.count(phase) != 0; }
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--docs N] [--batch N] [--seconds N] [--threads N]\n"
               "          [--keys random|sequential] [--server-ids] [--dir PATH]\n"
               "          [--only bulk,read,changes,update,concurrent] [--divan-only]\n"
               "          [--map-mib N]\n",
               argv0);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    auto number = [&]() -> double {
      std::string v = value();
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || d <= 0) usage(argv[0]);
      return d;
    };
    if (a == "--docs") {
      o.docs = static_cast<std::size_t>(number());
    } else if (a == "--batch") {
      o.batch = static_cast<std::size_t>(number());
    } else if (a == "--seconds") {
      o.seconds = number();
    } else if (a == "--threads") {
      o.threads = static_cast<unsigned>(number());
    } else if (a == "--dir") {
      o.dir = value();
    } else if (a == "--keys") {
      std::string k = value();
      if (k == "random") o.sequential_keys = false;
      else if (k == "sequential") o.sequential_keys = true;
      else usage(argv[0]);
    } else if (a == "--server-ids") {
      o.server_ids = true;
    } else if (a == "--map-mib") {
      o.map_mib = static_cast<std::size_t>(number());
    } else if (a == "--divan-only") {
      o.lmdb = false;
    } else if (a == "--only") {
      std::string list = value();
      std::size_t start = 0;
      while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        std::string p = list.substr(start, comma - start);
        if (p != "bulk" && p != "read" && p != "changes" && p != "update" && p != "concurrent") {
          usage(argv[0]);
        }
        o.only.insert(p);
        start = comma + 1;
      }
    } else {
      usage(argv[0]);
    }
  }
  if (o.docs == 0 || o.batch == 0 || o.threads == 0) usage(argv[0]);
  return o;
}

// ------------------------------------------------------- the scratch folder

std::string g_root;  // removed on exit, including by die()

void remove_root() {
  if (g_root.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(g_root, ec);
  if (ec) std::fprintf(stderr, "warning: cannot remove %s: %s\n", g_root.c_str(), ec.message().c_str());
  g_root.clear();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "core_bench: %s\n", what.c_str());
  remove_root();
  std::exit(1);
}

void check_lmdb(int rc, const char* what) {
  if (rc != 0) die(std::string(what) + ": " + mdb_strerror(rc));
}

// ---------------------------------------------------------------- documents

// 32 lowercase hex digits.
std::string hex128(std::uint64_t hi, std::uint64_t lo) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 "%016" PRIx64, hi, lo);
  return std::string(buf, 32);
}

// Document ids: 32 hex digits, either uniformly random (UUID-like) or in
// CouchDB's "sequential" style (26 random hex digits of prefix, then a
// 6-digit counter advancing by a random 1..0xffe, new prefix on overflow).
class IdGen {
 public:
  IdGen(std::uint64_t seed, bool sequential) : rng_(seed), sequential_(sequential) { new_prefix(); }
  std::string next() {
    if (!sequential_) return hex128(rng_(), rng_());
    counter_ += 1 + rng_() % 0xffe;
    if (counter_ > 0xffffff) {
      new_prefix();
      counter_ = 1 + rng_() % 0xffe;
    }
    char suffix[7];
    std::snprintf(suffix, sizeof suffix, "%06" PRIx64, counter_);
    return prefix_ + suffix;
  }

 private:
  void new_prefix() { prefix_ = hex128(rng_(), rng_()).substr(0, 26); }
  std::mt19937_64 rng_;
  bool sequential_;
  std::string prefix_;
  std::uint64_t counter_ = 0;
};

using divan::bench::kBodySize;
using divan::bench::make_body;

// The document to write: {"_id":id[,"_rev":rev], body members...}.
std::string make_doc(const std::string& id, const std::string* rev, const std::string& body) {
  std::string doc;
  doc.reserve(body.size() + id.size() + 64);
  doc += "{\"_id\":\"";
  doc += id;
  doc += "\",";
  if (rev != nullptr) {
    doc += "\"_rev\":\"";
    doc += *rev;
    doc += "\",";
  }
  doc.append(body, 1, std::string::npos);
  return doc;
}

// ------------------------------------------------------------------ raw LMDB

MDB_env* open_lmdb(const std::string& path) {
  MDB_env* env = nullptr;
  check_lmdb(mdb_env_create(&env), "mdb_env_create");
  check_lmdb(mdb_env_set_mapsize(env, std::size_t{4} << 30), "mdb_env_set_mapsize");
  check_lmdb(mdb_env_open(env, path.c_str(), MDB_NOSUBDIR, 0644), "mdb_env_open");
  return env;
}

MDB_dbi open_main_dbi(MDB_env* env) {
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  check_lmdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
  check_lmdb(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
  check_lmdb(mdb_txn_commit(txn), "mdb_txn_commit");
  return dbi;
}

// The number of write transactions ever committed to the LMDB file `path`
// (divan's files too, once divan has closed them), or 0 if unreadable.
std::uint64_t committed_txns(const std::string& path) {
  MDB_env* env = nullptr;
  if (mdb_env_create(&env) != 0) return 0;
  MDB_envinfo info{};
  int rc = mdb_env_open(env, path.c_str(), MDB_NOSUBDIR | MDB_RDONLY, 0644);
  if (rc == 0) rc = mdb_env_info(env, &info);
  mdb_env_close(env);
  return rc == 0 ? static_cast<std::uint64_t>(info.me_last_txnid) : 0;
}

// Bytes this process has handed to write(2)-like calls so far (/proc's
// wchar), or 0 where unavailable: how much each side's commits write.
std::uint64_t written_bytes() {
  std::uint64_t out = 0;
  if (FILE* f = std::fopen("/proc/self/io", "r")) {
    char line[128];
    while (std::fgets(line, sizeof line, f)) {
      if (std::sscanf(line, "wchar: %" SCNu64, &out) == 1) break;
    }
    std::fclose(f);
  }
  return out;
}

MDB_val val(const std::string& s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// ------------------------------------------------------------------ results

struct Row {
  std::string name;
  std::optional<double> divan;  // per second
  std::optional<double> lmdb;   // per second
  std::string unit;
  std::string target;  // e.g. ">= 0.5x LMDB"
  std::optional<double> target_ratio;  // divan/lmdb needed
  std::string note;
};

std::vector<Row> g_rows;
std::vector<std::string> g_notes;
std::atomic<std::uint64_t> g_errors{0};

void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  g_notes.emplace_back(buf);
  std::fprintf(stderr, "  %s\n", buf);
}

void report_error(const std::string& what, const divan::Status& s) {
  if (g_errors.fetch_add(1) < 10) {
    std::fprintf(stderr, "divan error: %s: %s\n", what.c_str(), s.to_string().c_str());
  }
}

std::string fmt_rate(std::optional<double> v) {
  if (!v) return "-";
  char buf[64];
  if (*v >= 100) std::snprintf(buf, sizeof buf, "%.0f", *v);
  else std::snprintf(buf, sizeof buf, "%.1f", *v);
  // Thousands separators.
  std::string s = buf;
  std::size_t dot = s.find('.');
  std::size_t int_end = dot == std::string::npos ? s.size() : dot;
  std::string out;
  for (std::size_t i = 0; i < int_end; ++i) {
    if (i != 0 && (int_end - i) % 3 == 0) out += ',';
    out += s[i];
  }
  out += s.substr(int_end);
  return out;
}

void print_table() {
  std::printf("\n| Benchmark | divan | raw LMDB | divan ÷ LMDB | Target | Met |\n");
  std::printf("|---|---:|---:|---:|---|---|\n");
  for (const Row& r : g_rows) {
    std::string ratio = "-";
    std::string met = "";
    if (r.divan && r.lmdb && *r.lmdb > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", *r.divan / *r.lmdb);
      ratio = buf;
      if (r.target_ratio) met = *r.divan / *r.lmdb >= *r.target_ratio ? "yes" : "NO";
    }
    std::printf("| %s | %s | %s | %s | %s | %s |\n", r.name.c_str(),
                (fmt_rate(r.divan) + " " + r.unit).c_str(),
                r.lmdb ? (fmt_rate(r.lmdb) + " " + r.unit).c_str() : "-", ratio.c_str(),
                r.target.empty() ? "-" : r.target.c_str(), met.c_str());
  }
  if (!g_notes.empty()) {
    std::printf("\nDetails:\n");
    for (const std::string& n : g_notes) std::printf("- %s\n", n.c_str());
  }
}

// Percentile of sorted latencies, in microseconds.
double pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

// ------------------------------------------------------------------ the bench

struct Bench {
  Options o;
  std::string root;
  std::unique_ptr<divan::DataDir> dir;
  std::shared_ptr<divan::Database> db;  // "bench": the bulk-loaded database
  MDB_env* lenv = nullptr;             // raw LMDB with the same documents
  MDB_dbi ldbi = 0;
  std::vector<std::string> ids;
  std::vector<std::string> revs;  // current rev of each doc in db
  std::uint64_t concurrent_puts = 0;

  std::string body_of(std::size_t i) const { return make_body(i, 0); }
  divan::DataDirOptions dir_options() const {
    divan::DataDirOptions d;  // defaults: sync on
    if (o.map_mib != 0) d.initial_map_size = o.map_mib << 20;
    return d;
  }
  std::optional<double> lmdb_or_none(double rate) const {
    return o.lmdb ? std::optional<double>(rate) : std::nullopt;
  }

  void open_divan() {
    auto d = divan::DataDir::open(root + "/divan", dir_options());
    if (!d.is_ok()) die("DataDir::open: " + d.status().to_string());
    dir = std::move(d.value());
    auto created = dir->create_database("bench");
    if (!created.is_ok()) die("create_database: " + created.status().to_string());
    db = created.value();
  }

  // ---- bulk insert

  void bulk(bool reported) {
    std::fprintf(stderr, "bulk insert: %zu docs, batches of %zu\n", o.docs, o.batch);
    IdGen gen(42, o.sequential_keys);
    ids.resize(o.docs);
    for (auto& id : ids) id = gen.next();
    {
      std::set<std::string_view> unique(ids.begin(), ids.end());
      if (unique.size() != ids.size()) die("duplicate generated ids");
    }
    // Build every request before timing.
    std::vector<std::string> bodies(o.docs);
    for (std::size_t i = 0; i < o.docs; ++i) {
      bodies[i] = body_of(i);
      if (bodies[i].size() != kBodySize) die("body size " + std::to_string(bodies[i].size()));
    }
    std::vector<std::string> batches;
    std::size_t doc_bytes = 0;
    for (std::size_t b = 0; b < o.docs; b += o.batch) {
      std::string arr = "[";
      for (std::size_t i = b; i < std::min(o.docs, b + o.batch); ++i) {
        if (i != b) arr += ',';
        std::string doc = make_doc(ids[i], nullptr, bodies[i]);
        doc_bytes += doc.size();
        arr += doc;
      }
      arr += ']';
      batches.push_back(std::move(arr));
    }

    // divan and raw LMDB (same keys, the same 200-byte bodies, the same
    // batching), batch by batch in turn, so both see the same disk.
    lenv = open_lmdb(root + "/lmdb-bulk.mdb");
    ldbi = open_main_dbi(lenv);
    revs.assign(o.docs, std::string());
    double divan_s = 0, lmdb_s = 0;
    std::uint64_t divan_w = 0, lmdb_w = 0;
    std::size_t k = 0;
    for (std::size_t b = 0, n = 0; b < o.docs; b += o.batch, ++n) {
      std::uint64_t w0 = written_bytes();
      auto t0 = Clock::now();
      auto r = db->bulk_docs(batches[n]);
      divan_s += seconds_since(t0);
      divan_w += written_bytes() - w0;
      if (!r.is_ok()) die("bulk_docs: " + r.status().to_string());
      for (divan::DocResult& dr : *r) {
        if (!dr.status.is_ok()) report_error("bulk_docs " + dr.id, dr.status);
        if (k < revs.size()) revs[k] = std::move(dr.rev);
        ++k;
      }

      if (!o.lmdb) continue;
      std::uint64_t w1 = written_bytes();
      auto t1 = Clock::now();
      MDB_txn* txn = nullptr;
      check_lmdb(mdb_txn_begin(lenv, nullptr, 0, &txn), "mdb_txn_begin");
      for (std::size_t i = b; i < std::min(o.docs, b + o.batch); ++i) {
        MDB_val key = val(ids[i]);
        MDB_val v = val(bodies[i]);
        check_lmdb(mdb_put(txn, ldbi, &key, &v, 0), "mdb_put");
      }
      check_lmdb(mdb_txn_commit(txn), "mdb_txn_commit");
      lmdb_s += seconds_since(t1);
      lmdb_w += written_bytes() - w1;
    }
    if (k != o.docs) die("bulk_docs returned the wrong number of results");
    auto info = db->info();
    if (!info.is_ok()) die("info: " + info.status().to_string());
    if (info->doc_count != o.docs) {
      die("doc_count " + std::to_string(info->doc_count) + " after bulk insert of " +
          std::to_string(o.docs));
    }

    if (!reported) return;
    std::error_code ec;
    auto divan_size = std::filesystem::file_size(root + "/divan/bench.divan", ec);
    if (ec) divan_size = 0;
    auto lmdb_size = std::filesystem::file_size(root + "/lmdb-bulk.mdb", ec);
    if (ec) lmdb_size = 0;
    note("bulk insert: divan %.2f s, raw LMDB %.2f s for %zu docs (%zu batches); average doc "
         "JSON %zu bytes, body %zu bytes; written by commits: divan %.0f MiB, LMDB %.0f MiB; "
         "database file: divan %.1f MiB, LMDB %.1f MiB",
         divan_s, lmdb_s, o.docs, batches.size(), doc_bytes / o.docs, kBodySize,
         static_cast<double>(divan_w) / 1048576.0, static_cast<double>(lmdb_w) / 1048576.0,
         static_cast<double>(divan_size) / 1048576.0, static_cast<double>(lmdb_size) / 1048576.0);
    g_rows.push_back({"Bulk insert (bulk_docs, batches of " + std::to_string(o.batch) + ")",
                      static_cast<double>(o.docs) / divan_s, lmdb_or_none(static_cast<double>(o.docs) / lmdb_s),
                      "docs/s", ">= 0.5x LMDB", 0.5, ""});
  }

  // ---- reads

  struct Timed {
    std::uint64_t ops = 0;
    double seconds = 0;
    std::uint64_t written = 0;  // bytes written meanwhile (alternate() only)
    double kib_per_op() const { return ops ? static_cast<double>(written) / 1024.0 / static_cast<double>(ops) : 0; }
    double rate() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
    Timed& operator+=(const Timed& t) {
      ops += t.ops;
      seconds += t.seconds;
      return *this;
    }
  };

  // Runs `fn(thread, rng)` in `threads` threads, all started together, each
  // until `seconds` have passed (checked every `per_check` calls); each
  // call is one operation.
  static Timed timed_threads(unsigned threads, double seconds, unsigned per_check,
                             const std::function<void(unsigned, std::mt19937_64&)>& fn) {
    std::atomic<bool> go{false};
    std::vector<std::uint64_t> counts(threads, 0);
    std::vector<std::thread> ts;
    std::atomic<unsigned> ready{0};
    Clock::time_point start;
    const auto dur = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (unsigned t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        std::mt19937_64 rng(1000 + t);
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        const auto deadline = start + dur;
        std::uint64_t n = 0;
        do {
          for (unsigned i = 0; i < per_check; ++i) fn(t, rng);
          n += per_check;
        } while (Clock::now() < deadline);
        counts[t] = n;
      });
    }
    while (ready.load() != threads) std::this_thread::yield();
    start = Clock::now();
    go.store(true, std::memory_order_release);
    for (auto& th : ts) th.join();
    Timed r;
    r.seconds = seconds_since(start);
    r.ops = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
    return r;
  }

  // fsync-bound phases: the disk's fsync latency drifts over seconds on
  // shared machines, so divan and raw LMDB run in alternating slices of
  // about a second each (o.seconds in total for each side).
  void alternate(unsigned threads, const std::function<void(unsigned, std::mt19937_64&)>& divan_fn,
                 const std::function<void(unsigned, std::mt19937_64&)>& lmdb_fn, Timed* divan_out,
                 Timed* lmdb_out) {
    const unsigned slices = std::max(1u, static_cast<unsigned>(o.seconds + 0.5));
    const double each = o.seconds / slices;
    for (unsigned i = 0; i < slices; ++i) {
      std::uint64_t w0 = written_bytes();
      *divan_out += timed_threads(threads, each, 1, divan_fn);
      std::uint64_t w1 = written_bytes();
      divan_out->written += w1 - w0;
      if (o.lmdb) {
        *lmdb_out += timed_threads(threads, each, 1, lmdb_fn);
        lmdb_out->written += written_bytes() - w1;
      }
    }
  }

  void reads() {
    for (unsigned threads : {1u, 2u}) {
      std::fprintf(stderr, "random reads, %u thread(s), %.0f s each\n", threads, o.seconds);
      std::atomic<std::uint64_t> bytes{0};
      double divan_rate = timed_threads(threads, o.seconds, 16, [&](unsigned, std::mt19937_64& rng) {
        const std::string& id = ids[rng() % ids.size()];
        auto d = db->get(id);
        if (!d.is_ok()) {
          report_error("get " + id, d.status());
          return;
        }
        bytes.fetch_add(d->body.size(), std::memory_order_relaxed);
      }).rate();
      if (bytes.load() == 0) die("reads returned nothing");
      // raw LMDB: one read txn per read (reset/renew, as divan pools its
      // read txns), the value copied out.
      std::vector<MDB_txn*> txns(threads, nullptr);
      std::optional<double> lmdb_rate;
      if (o.lmdb) lmdb_rate = timed_threads(threads, o.seconds, 16, [&](unsigned t, std::mt19937_64& rng) {
        const std::string& id = ids[rng() % ids.size()];
        MDB_txn*& txn = txns[t];
        if (txn == nullptr) check_lmdb(mdb_txn_begin(lenv, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
        else check_lmdb(mdb_txn_renew(txn), "mdb_txn_renew");
        MDB_val key = val(id), v;
        check_lmdb(mdb_get(txn, ldbi, &key, &v), "mdb_get");
        std::string copy(static_cast<const char*>(v.mv_data), v.mv_size);
        mdb_txn_reset(txn);
        bytes.fetch_add(copy.size(), std::memory_order_relaxed);
      }).rate();
      for (MDB_txn* txn : txns) {
        if (txn != nullptr) mdb_txn_abort(txn);
      }
      g_rows.push_back({"Random read (get), " + std::to_string(threads) +
                            (threads == 1 ? " thread" : " threads"),
                        divan_rate, lmdb_rate, "reads/s", "", std::nullopt, ""});
    }
  }

  // ---- changes feed

  void changes() {
    std::fprintf(stderr, "changes feed scans\n");
    for (bool include_docs : {false, true}) {
      std::vector<double> times;
      for (int rep = 0; rep < 3; ++rep) {
        divan::ChangesOptions co;
        co.include_docs = include_docs;
        auto t0 = Clock::now();
        auto r = db->changes(co);
        double s = seconds_since(t0);
        if (!r.is_ok()) die("changes: " + r.status().to_string());
        if (r->rows.size() != o.docs) {
          die("changes returned " + std::to_string(r->rows.size()) + " rows, expected " +
              std::to_string(o.docs));
        }
        if (include_docs && (!r->rows.back().doc || r->rows.back().doc->body.size() != kBodySize)) {
          die("changes include_docs returned no or wrong doc");
        }
        times.push_back(s);
      }
      std::sort(times.begin(), times.end());
      double divan_rate = static_cast<double>(o.docs) / times[1];
      // raw LMDB reference: one cursor pass copying every key (and value,
      // for include_docs) out.
      std::vector<double> ltimes;
      for (int rep = 0; rep < (o.lmdb ? 3 : 0); ++rep) {
        auto t0 = Clock::now();
        MDB_txn* txn = nullptr;
        MDB_cursor* cur = nullptr;
        check_lmdb(mdb_txn_begin(lenv, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
        check_lmdb(mdb_cursor_open(txn, ldbi, &cur), "mdb_cursor_open");
        std::vector<std::pair<std::string, std::string>> rows;
        rows.reserve(o.docs);
        MDB_val k, v;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
          rows.emplace_back(std::string(static_cast<const char*>(k.mv_data), k.mv_size),
                            include_docs ? std::string(static_cast<const char*>(v.mv_data), v.mv_size)
                                         : std::string());
        }
        mdb_cursor_close(cur);
        mdb_txn_abort(txn);
        ltimes.push_back(seconds_since(t0));
        if (rows.size() != o.docs) die("LMDB scan count");
      }
      std::sort(ltimes.begin(), ltimes.end());
      std::optional<double> lmdb_rate;
      if (o.lmdb) lmdb_rate = static_cast<double>(o.docs) / ltimes[1];
      note("changes%s: median of 3 scans %.3f s (LMDB cursor scan %.3f s)",
           include_docs ? " include_docs" : "", times[1], o.lmdb ? ltimes[1] : 0.0);
      g_rows.push_back({include_docs ? "Changes feed scan, include_docs" : "Changes feed scan",
                        divan_rate, lmdb_rate, "docs/s", "", std::nullopt, ""});
    }
  }

  // ---- single-document updates (one thread, each durable)

  void updates() {
    std::fprintf(stderr, "single-document updates, %.0f s each side\n", o.seconds);
    std::mt19937_64 lrng(9);
    std::uint64_t ln = 0;
    // Raw LMDB, one thread: txn_begin, one put overwriting an existing key
    // (always the first, or a random one), commit.
    auto lmdb_put = [&](bool same_key) {
      std::size_t i = same_key ? 0 : lrng() % ids.size();
      std::string body = make_body(i, ++ln);
      MDB_txn* txn = nullptr;
      check_lmdb(mdb_txn_begin(lenv, nullptr, 0, &txn), "mdb_txn_begin");
      MDB_val key = val(ids[i]), v = val(body);
      check_lmdb(mdb_put(txn, ldbi, &key, &v, 0), "mdb_put");
      check_lmdb(mdb_txn_commit(txn), "mdb_txn_commit");
    };

    // One document, over and over.
    {
      std::uint64_t n = 0;
      std::string& rev = revs[0];
      std::vector<double> lat;
      Timed dv, lm;
      alternate(
          1,
          [&](unsigned, std::mt19937_64&) {
            std::string doc = make_doc(ids[0], &rev, make_body(0, ++n));
            auto a = Clock::now();
            auto r = db->put(doc);
            lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
            if (!r.is_ok()) die("put (update one doc): " + r.status().to_string());
            rev = std::move(r->rev);
          },
          [&](unsigned, std::mt19937_64&) { lmdb_put(true); }, &dv, &lm);
      std::sort(lat.begin(), lat.end());
      note("update one doc: %" PRIu64 " updates in %.2f s, latency p50 %.0f us, p99 %.0f us, "
           "%.1f KiB written per update (final rev %s-...); raw LMDB %" PRIu64
           " put+commit in %.2f s, %.1f KiB written per put",
           dv.ops, dv.seconds, pct(lat, 0.5), pct(lat, 0.99), dv.kib_per_op(),
           rev.substr(0, rev.find('-')).c_str(), lm.ops, lm.seconds, lm.kib_per_op());
      g_rows.push_back({"Update one doc (put with _rev), 1 thread", dv.rate(), lmdb_or_none(lm.rate()), "docs/s",
                        "", std::nullopt, ""});
    }
    // Cycling over every document, in a shuffled order.
    {
      std::vector<std::size_t> order(ids.size());
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
      std::uint64_t n = 0;
      std::vector<double> lat;
      Timed dv, lm;
      alternate(
          1,
          [&](unsigned, std::mt19937_64&) {
            std::size_t i = order[n % order.size()];
            std::string doc = make_doc(ids[i], &revs[i], make_body(i, ++n));
            auto a = Clock::now();
            auto r = db->put(doc);
            lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
            if (!r.is_ok()) die("put (update cycling): " + r.status().to_string());
            revs[i] = std::move(r->rev);
          },
          [&](unsigned, std::mt19937_64&) { lmdb_put(false); }, &dv, &lm);
      std::sort(lat.begin(), lat.end());
      note("update cycling over %zu docs: %" PRIu64 " updates in %.2f s, latency p50 %.0f us, "
           "p99 %.0f us, %.1f KiB written per update; raw LMDB %" PRIu64
           " put+commit in %.2f s, %.1f KiB written per put",
           ids.size(), dv.ops, dv.seconds, pct(lat, 0.5), pct(lat, 0.99), dv.kib_per_op(), lm.ops,
           lm.seconds, lm.kib_per_op());
      g_rows.push_back({"Update cycling over all docs, 1 thread", dv.rate(), lmdb_or_none(lm.rate()), "docs/s",
                        "", std::nullopt, ""});
    }
  }

  // ---- many writers at once

  void concurrent() {
    const unsigned T = o.threads;
    std::fprintf(stderr, "%u threads writing new docs, one per put, %.0f s each side\n", T, o.seconds);
    if (!dir) {
      auto d = divan::DataDir::open(root + "/divan", dir_options());
      if (!d.is_ok()) die("DataDir::open: " + d.status().to_string());
      dir = std::move(d.value());
    }
    auto created = dir->create_database("concurrent");
    if (!created.is_ok()) die("create_database: " + created.status().to_string());
    // Never written: its commit count is what creating a database costs.
    if (auto e = dir->create_database("empty"); !e.is_ok()) {
      die("create_database: " + e.status().to_string());
    }
    std::shared_ptr<divan::Database> cdb = created.value();
    // raw LMDB: a fresh env; every thread does txn_begin / put / commit.
    MDB_env* env = open_lmdb(root + "/lmdb-concurrent.mdb");
    MDB_dbi dbi = open_main_dbi(env);

    std::vector<std::vector<double>> lat(T), llat(T);
    std::vector<IdGen> gens, lgens;
    for (unsigned t = 0; t < T; ++t) {
      gens.emplace_back(5000 + t, o.sequential_keys);
      lgens.emplace_back(5000 + t, o.sequential_keys);
    }
    // --server-ids: raw LMDB's keys come from one shared CouchDB-sequential
    // generator, as divan's do.
    std::mutex shared_mu;
    IdGen shared_gen(5000, true);
    auto lmdb_id = [&](unsigned t) {
      if (!o.server_ids) return lgens[t].next();
      std::lock_guard<std::mutex> lock(shared_mu);
      return shared_gen.next();
    };
    Timed dv, lm;
    alternate(
        T,
        [&](unsigned t, std::mt19937_64&) {
          std::string id = o.server_ids ? "" : gens[t].next();
          std::string doc = o.server_ids ? make_body(lat[t].size(), 0)
                                         : make_doc(id, nullptr, make_body(lat[t].size(), 0));
          auto a = Clock::now();
          auto r = cdb->put(doc);
          lat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
          if (!r.is_ok()) report_error("put " + id, r.status());
        },
        [&](unsigned t, std::mt19937_64&) {
          std::string id = lmdb_id(t);
          std::string body = make_body(llat[t].size(), 0);
          auto a = Clock::now();
          MDB_txn* txn = nullptr;
          check_lmdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
          MDB_val key = val(id), v = val(body);
          check_lmdb(mdb_put(txn, dbi, &key, &v, 0), "mdb_put");
          check_lmdb(mdb_txn_commit(txn), "mdb_txn_commit");
          llat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
        },
        &dv, &lm);
    mdb_env_close(env);
    concurrent_puts = dv.ops;

    auto info = cdb->info();
    if (!info.is_ok()) die("info: " + info.status().to_string());
    if (info->doc_count != dv.ops) {
      note("WARNING: %u-thread puts: %" PRIu64 " puts but doc_count %" PRIu64, T, dv.ops,
           info->doc_count);
    }
    std::vector<double> all, lall;
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    for (auto& l : llat) lall.insert(lall.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    std::sort(lall.begin(), lall.end());
    note("%u-thread puts: divan %" PRIu64 " docs in %.2f s, latency p50 %.0f us, p99 %.0f us, "
         "%.1f KiB written per doc; raw LMDB %" PRIu64 " docs in %.2f s, latency p50 %.0f us, "
         "p99 %.0f us, %.1f KiB written per doc",
         T, dv.ops, dv.seconds, pct(all, 0.5), pct(all, 0.99), dv.kib_per_op(), lm.ops, lm.seconds,
         pct(lall, 0.5), pct(lall, 0.99), lm.kib_per_op());
    g_rows.push_back({std::to_string(T) + " threads, new doc per put (durable)" +
                          (o.server_ids ? ", ids made by divan" : ""),
                      dv.rate(),
                      lmdb_or_none(lm.rate()), "docs/s", ">= 5x LMDB", 5.0, ""});
  }

  void close() {
    if (lenv != nullptr) mdb_env_close(lenv);
    lenv = nullptr;
    db.reset();
    dir.reset();
  }
};

std::string machine_line() {
  std::string cpu = "unknown CPU";
  if (FILE* f = std::fopen("/proc/cpuinfo", "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "model name", 10) == 0) {
        const char* c = std::strchr(line, ':');
        if (c) {
          cpu = c + 2;
          while (!cpu.empty() && cpu.back() == '\n') cpu.pop_back();
        }
        break;
      }
    }
    std::fclose(f);
  }
  return std::to_string(std::thread::hardware_concurrency()) + " CPUs, " + cpu;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  std::string templ = o.dir + "/divan-bench-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) die("mkdtemp " + templ + ": " + std::strerror(errno));
  g_root = buf.data();

  std::fprintf(stderr, "core_bench: %s; working in %s\n", machine_line().c_str(), g_root.c_str());
  std::fprintf(stderr, "docs %zu, batch %zu, %.0f s per timed phase, %u writer threads, %s keys\n",
               o.docs, o.batch, o.seconds, o.threads,
               o.sequential_keys ? "CouchDB-sequential" : "random (UUID-like)");

  auto t_all = Clock::now();
  {
    Bench b;
    b.o = o;
    b.root = g_root;
    bool need_docs = o.want("bulk") || o.want("read") || o.want("changes") || o.want("update");
    if (need_docs) {
      b.open_divan();
      b.bulk(o.want("bulk"));
    }
    if (o.want("read")) b.reads();
    if (o.want("changes")) b.changes();
    if (o.want("update")) b.updates();
    if (o.want("concurrent")) b.concurrent();
    b.close();
    // How well group commit grouped: divan is closed now, so its files can
    // be opened to read how many transactions (each one fsync'd commit)
    // the concurrent writers cost.
    if (b.concurrent_puts != 0) {
      std::uint64_t setup = committed_txns(g_root + "/divan/empty.divan");
      std::uint64_t txns = committed_txns(g_root + "/divan/concurrent.divan");
      if (setup != 0 && txns > setup) {
        double per = static_cast<double>(b.concurrent_puts) / static_cast<double>(txns - setup);
        note("%u-thread puts: divan committed %" PRIu64 " write transactions for %" PRIu64
             " puts: %.1f docs per commit (fsync); raw LMDB: 1 doc per commit",
             o.threads, txns - setup, b.concurrent_puts, per);
      }
    }
  }

  std::printf("core_bench: %s\n", machine_line().c_str());
  std::printf("docs %zu x %zu-byte bodies, batch %zu, %.0f s per timed phase, %s 32-hex ids, "
              "fsync on (divan sync=true; LMDB default flags + MDB_NOSUBDIR)\n",
              o.docs, kBodySize, o.batch, o.seconds,
              o.sequential_keys ? "CouchDB-sequential" : "random");
  print_table();
  std::printf("\ndivan errors: %" PRIu64 "; total time %.1f s\n", g_errors.load(),
              seconds_since(t_all));
  remove_root();
  return g_errors.load() == 0 ? 0 : 1;
}
