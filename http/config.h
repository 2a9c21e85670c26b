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
  // [admins] from the config file, name -> password or hash. Kept for the
  // authentication layer (issue 5); not enforced yet.
  std::map<std::string, std::string> admins;
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

// The --help text.
std::string usage();

}  // namespace divan::http

#endif  // DIVAN_HTTP_CONFIG_H_
