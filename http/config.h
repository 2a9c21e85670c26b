// The divan binary's settings: command line and ini-style config file.
#ifndef DIVAN_HTTP_CONFIG_H_
#define DIVAN_HTTP_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "divan/status.h"
#include "http/server.h"

namespace divan::http {

struct Config {
  enum class Command { kServe, kHelp, kVersion };
  Command command = Command::kServe;
  ServerOptions server;
  // Server admins, name -> password in clear or hash: [admins] of the
  // config file, then --admin and DIVAN_USER/DIVAN_PASSWORD. prepare_admins
  // hashes them into server.auth.admins.
  std::map<std::string, std::string> admins;
  // The (last) config file given with --config, and its [admins] as written
  // there (passwords in clear there are replaced by their hashes on start,
  // as CouchDB does).
  std::string config_file;
  std::map<std::string, std::string> file_admins;
  // --insecure-admin-party: serve without admins, every request acting as
  // a server admin (for local experiments only; warned at every start).
  bool insecure_admin_party = false;
};

// Parses the command line (argv[0] excluded), reading --config FILE first so
// that flags override it. Errors: bad_request with a message for the user.
Result<Config> parse_command_line(const std::vector<std::string>& args);

// Applies an ini-style file: [section] lines and key = value lines; '#' and
// ';' start comments. Known keys: [httpd] bind_address, port;
// [divan] data_dir, max_connections; [log] level; [couchdb]
// max_document_size; [chttpd] max_http_request_size; [cors] origins,
// credentials; [admins] name = password; [ssl] cert_file, key_file;
// [replicator] ssl_trusted_certificates_file. Unknown keys are errors.
Status apply_config_file(const std::string& path, Config* config);

// Adds the admin of DIVAN_USER and DIVAN_PASSWORD (as CouchDB's container
// image does with COUCHDB_USER and COUCHDB_PASSWORD); null or empty values
// add nothing. Errors: bad_request when only one of them is set.
Status apply_admin_environment(const char* user, const char* password, Config* config);

// Hashes the admins into config->server.auth.admins and sets admin_party
// from --insecure-admin-party. Passwords in clear written in the config
// file are replaced there by their hashes (the file is rewritten
// atomically). Errors: bad_request for a malformed hash, io_error when the
// config file cannot be rewritten.
Status prepare_admins(Config* config, RandomSource& random);

// The --help text.
std::string usage();

}  // namespace divan::http

#endif  // DIVAN_HTTP_CONFIG_H_
