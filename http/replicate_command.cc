// `divan replicate SOURCE TARGET [options]`: one replication from the
// command line, between local database names (of --data) and URLs.
#include "http/replicate_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <thread>

#include "divan/http_peer.h"
#include "divan/replication_scheduler.h"

namespace divan::http {
namespace {

struct ReplicateArgs {
  PeerEndpoint source, target;
  ReplicationOptions options;
  std::string data_dir = "data";
  bool quiet = false;
  HttpPeerOptions http;  // for URLs: --ca-file
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Result<ReplicateArgs> parse(const std::vector<std::string>& args) {
  ReplicateArgs r;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size()) return Status::bad_request(a + " needs a value");
      return args[++i];
    };
    if (a == "--continuous") {
      r.options.continuous = true;
    } else if (a == "--create-target") {
      r.options.create_target = true;
    } else if (a == "--no-checkpoints") {
      r.options.use_checkpoints = false;
    } else if (a == "--quiet") {
      r.quiet = true;
    } else if (a == "--session") {
      r.source.auth = r.target.auth = PeerAuth::kSession;
    } else if (a == "--doc-ids" || a == "--since-seq" || a == "--batch-size" || a == "--data" ||
               a == "--ca-file") {
      auto v = value();
      if (!v.is_ok()) return v.status();
      if (a == "--doc-ids") {
        r.options.doc_ids = split_commas(*v);
        if (r.options.doc_ids.empty()) return Status::bad_request("--doc-ids needs at least one id");
      } else if (a == "--since-seq") {
        r.options.since_seq = *v;
      } else if (a == "--data") {
        r.data_dir = *v;
      } else if (a == "--ca-file") {
        r.http.ca_file = *v;
      } else {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc() || end != v->data() + v->size() || n == 0) {
          return Status::bad_request("--batch-size needs a positive integer");
        }
        r.options.batch_size = n;
      }
    } else if (a.rfind("--", 0) == 0) {
      return Status::bad_request("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return Status::bad_request("replicate needs a SOURCE and a TARGET");
  r.source.url = positional[0];
  r.target.url = positional[1];
  if (r.options.since_seq) {
    // A number is a JSON number; anything else a JSON string (a CouchDB
    // cluster's opaque sequence).
    const std::string& s = *r.options.since_seq;
    bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) r.options.since_seq = "\"" + s + "\"";
  }
  return r;
}

bool is_url(const std::string& s) { return s.find("://") != std::string::npos; }

}  // namespace

std::string replicate_usage() {
  return R"(Usage: divan replicate SOURCE TARGET [options]

Replicates SOURCE into TARGET with CouchDB's protocol. Each is a database
URL (http[s]://[user:password@]host:port/db) or the name of a database in
the local data folder (which no running server may hold open). Conflicts
are copied as conflicts. A second run resumes from the checkpoint. An https
peer's certificate must be valid for its host and signed by a CA the
system trusts, or one of --ca-file.

Options:
  --continuous        keep following SOURCE until interrupted (Ctrl-C)
  --create-target     create TARGET if it does not exist
  --doc-ids A,B,...   only these documents
  --since-seq SEQ     without a checkpoint, start after SEQ
  --batch-size N      changes per batch (default 500)
  --no-checkpoints    neither read nor write checkpoints
  --data DIR          data folder of local names (default ./data)
  --ca-file FILE      trust the CAs in this PEM file (instead of the system's)
                      for https URLs
  --session           log in to URLs with credentials once, for a cookie
                      session (POST /_session), instead of sending them with
                      every request
  --quiet             no progress line
)";
}

int run_replicate_command(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(replicate_usage().c_str(), stdout);
      return 0;
    }
  }
  auto parsed = parse(args);
  if (!parsed.is_ok()) {
    std::fprintf(stderr, "divan replicate: %s\nTry 'divan replicate --help'.\n",
                 parsed.status().reason().c_str());
    return 2;
  }
  ReplicateArgs& r = *parsed;

  // Ctrl-C and SIGTERM cancel the replication from a sigwait thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The data folder is opened only for local names, so replicating
  // between URLs works beside a running server.
  std::unique_ptr<DataDir> dir;
  if (!is_url(r.source.url) || !is_url(r.target.url)) {
    auto opened = DataDir::open(r.data_dir);
    if (!opened.is_ok()) {
      std::fprintf(stderr, "divan replicate: %s\n", opened.status().to_string().c_str());
      return 1;
    }
    dir = std::move(*opened);
  }
  // The server's factory (URLs and local names); without a data folder
  // both ends are URLs.
  PeerFactory factory = dir ? peer_factory(*dir, r.http) : http_peer_factory(r.http);
  auto source = factory(r.source);
  auto target = source.is_ok() ? factory(r.target) : source.status();
  if (!source.is_ok() || !target.is_ok()) {
    std::fprintf(stderr, "divan replicate: %s\n",
                 (source.is_ok() ? target.status() : source.status()).to_string().c_str());
    return 2;
  }
  std::string source_name = (*source)->id(), target_name = (*target)->id();
  r.options.replicator_id = dir ? dir->uuid() : "divan replicate";
  const bool tty = !r.quiet && isatty(STDERR_FILENO);
  if (tty) {
    r.options.on_progress = [](const ReplicationStats& s, ReplicationState state) {
      // The source's own count of what is left, when it gives one; its
      // update_seq at the start otherwise.
      const std::string left = s.changes_pending ? std::to_string(*s.changes_pending) + " pending"
                                                 : "of " + s.source_update_seq;
      std::fprintf(stderr, "\r\033[K%s: %llu written, %llu read, %llu failed; at %s, %s",
                   std::string(replication_state_name(state)).c_str(),
                   static_cast<unsigned long long>(s.docs_written),
                   static_cast<unsigned long long>(s.docs_read),
                   static_cast<unsigned long long>(s.doc_write_failures), s.end_last_seq.c_str(),
                   left.c_str());
      std::fflush(stderr);
    };
  }
  auto job = Replication::create(std::move(*source), std::move(*target), r.options);
  if (!job.is_ok()) {
    std::fprintf(stderr, "divan replicate: %s\n", job.status().to_string().c_str());
    return 2;
  }
  Replication* rep = job->get();
  std::thread signals([rep, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig != 0) rep->cancel();
  });
  auto result = rep->run();
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  if (tty) std::fputs("\n", stderr);
  if (!result.is_ok()) {
    std::fprintf(stderr, "divan replicate: %s -> %s failed: %s\n", source_name.c_str(),
                 target_name.c_str(), result.status().to_string().c_str());
    return 1;
  }
  const ReplicationStats& s = result->stats;
  std::fprintf(stderr,
               "divan replicate: %s -> %s %s: %llu written, %llu read, %llu failed, "
               "%llu checked, %llu missing, seq %s to %s\n",
               source_name.c_str(), target_name.c_str(),
               rep->state() == ReplicationState::kCancelled ? "stopped" : "done",
               static_cast<unsigned long long>(s.docs_written),
               static_cast<unsigned long long>(s.docs_read),
               static_cast<unsigned long long>(s.doc_write_failures),
               static_cast<unsigned long long>(s.missing_checked),
               static_cast<unsigned long long>(s.missing_found), s.start_last_seq.c_str(),
               s.end_last_seq.c_str());
  // The checkpoint document on stdout, for scripts (as POST /_replicate).
  std::printf("%s\n", result->checkpoint_json.c_str());
  return s.doc_write_failures == 0 ? 0 : 1;
}

}  // namespace divan::http
