// The divan binary: `divan serve` (the default) runs the HTTP server;
// `divan replicate SOURCE TARGET` runs one replication.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "http/config.h"
#include "http/replicate_command.h"
#include "http/server.h"
#include "http/version.h"

int main(int argc, char** argv) {
  using namespace divan::http;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "replicate") {
    return run_replicate_command(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  auto config = parse_command_line(args);
  if (!config.is_ok()) {
    std::fprintf(stderr, "divan: %s\nTry 'divan --help'.\n", config.status().reason().c_str());
    return 2;
  }
  if (config->command == Config::Command::kHelp) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (config->command == Config::Command::kVersion) {
    std::printf("divan %s (CouchDB API %s)\n", kDivanVersion, kCouchDbVersion);
    return 0;
  }
  divan::Status admins = apply_admin_environment(std::getenv("DIVAN_USER"), std::getenv("DIVAN_PASSWORD"), &*config);
  if (admins.is_ok()) admins = prepare_admins(&*config, *divan::RandomSource::system());
  if (!admins.is_ok()) {
    std::fprintf(stderr, "divan: %s\n", admins.reason().c_str());
    return 2;
  }
  if (config->insecure_admin_party) {
    std::fprintf(stderr,
                 "[warn] INSECURE ADMIN PARTY: every request acts as a server admin "
                 "(--insecure-admin-party). Never use this beyond local experiments.\n");
  }
  if (!config->server.tls_verify_peers) {
    std::fprintf(stderr,
                 "[warn] replications do not check the certificates of https peers "
                 "([replicator] verify_ssl_certificates = false)\n");
  }

  // SIGINT and SIGTERM are taken by one thread with sigwait, before any
  // other thread exists, so that stopping runs outside a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client gone mid-response is an error return, not death

  auto server = Server::open(config->server);
  if (!server.is_ok()) {
    std::fprintf(stderr, "divan: %s\n", server.status().to_string().c_str());
    return 1;
  }
  Server* s = server->get();
  std::thread signals([s, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    s->log(LogLevel::kInfo, std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    s->stop();
  });
  divan::Status status = s->run();
  if (!s->stopping()) {
    // run() ended on its own: wake the signal thread so it can be joined.
    pthread_kill(signals.native_handle(), SIGTERM);
  }
  signals.join();
  server->reset();  // closes connections, waits for background work, closes databases
  if (!status.is_ok()) {
    std::fprintf(stderr, "divan: %s\n", status.to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "[info] stopped\n");
  return 0;
}
