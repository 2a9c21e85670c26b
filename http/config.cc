#include "http/config.h"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "divan/auth.h"
#include "http/file_util.h"

namespace divan::http {
namespace {

std::string trim(std::string s) {
  auto not_space = [](char c) { return c != ' ' && c != '\t' && c != '\r' && c != '\n'; };
  while (!s.empty() && !not_space(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && !not_space(s[i])) ++i;
  return s.substr(i);
}

template <typename T>
Status parse_number(const std::string& what, const std::string& text, T* out) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return Status::bad_request(what + " must be a number, not '" + text + "'");
  }
  *out = v;
  return Status::ok();
}

Status parse_level(const std::string& text, LogLevel* out) {
  if (text == "error") *out = LogLevel::kError;
  else if (text == "warn" || text == "warning") *out = LogLevel::kWarn;
  else if (text == "info") *out = LogLevel::kInfo;
  else if (text == "debug") *out = LogLevel::kDebug;
  else return Status::bad_request("log level must be error, warn, info or debug, not '" + text + "'");
  return Status::ok();
}

Status parse_bool(const std::string& what, const std::string& text, bool* out) {
  if (text == "true") *out = true;
  else if (text == "false") *out = false;
  else return Status::bad_request(what + " must be true or false, not '" + text + "'");
  return Status::ok();
}

void set_origins(const std::string& list, CorsOptions* cors) {
  cors->origins.clear();
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (!item.empty()) cors->origins.push_back(item);
  }
  cors->enabled = !cors->origins.empty();
}

// "NAME=URL": keep the local database NAME in sync with URL.
Status add_sync(const std::string& where, const std::string& pair, ServerOptions* o) {
  auto eq = pair.find('=');
  std::string name = eq == std::string::npos ? "" : trim(pair.substr(0, eq));
  std::string url = eq == std::string::npos ? "" : trim(pair.substr(eq + 1));
  if (name.empty() || url.find("://") == std::string::npos) {
    return Status::bad_request(where + "sync needs LOCAL_DB=URL, not '" + pair + "'");
  }
  if (Status s = DataDir::validate_database_name(name); !s.is_ok()) {
    return Status::bad_request(where + "sync: " + s.reason());
  }
  o->sync[name] = url;
  return Status::ok();
}

}  // namespace

Status apply_config_file(const std::string& path, Config* config) {
  std::ifstream in(path);
  if (!in) return Status::bad_request("cannot read config file " + path);
  std::string line, section;
  int number = 0;
  ServerOptions& o = config->server;
  config->file_admins.clear();  // the admins of this file, the one rewritten
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto where = path + ":" + std::to_string(number) + ": ";
    if (line.front() == '[') {
      if (line.back() != ']') return Status::bad_request(where + "bad section line");
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) return Status::bad_request(where + "expected key = value");
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    Status s;
    const bool auth_section = section == "chttpd_auth" || section == "couch_httpd_auth";
    if (section == "admins") {
      if (key.empty() || value.empty()) return Status::bad_request(where + "an admin needs a name and a password");
      config->admins[key] = value;
      config->file_admins[key] = value;
    } else if (auth_section && key == "iterations") {
      s = parse_number(where + "iterations", value, &o.auth.iterations);
      if (s.is_ok() && o.auth.iterations == 0) s = Status::bad_request(where + "iterations must be at least 1");
    } else if (auth_section && key == "secret") {
      o.auth.secret = value;
    } else if (auth_section && key == "timeout") {
      long long seconds = 0;
      s = parse_number(where + "timeout", value, &seconds);
      if (s.is_ok() && seconds < 1) s = Status::bad_request(where + "timeout must be at least 1 second");
      o.auth.cookie_timeout = std::chrono::seconds(seconds);
    } else if (auth_section && key == "allow_persistent_cookies") {
      s = parse_bool(where + "allow_persistent_cookies", value, &o.auth.persistent_cookies);
    } else if (auth_section && key == "max_failed_logins_per_second") {
      s = parse_number(where + "max_failed_logins_per_second", value, &o.auth.max_failed_logins_per_second);
      if (s.is_ok() && o.auth.max_failed_logins_per_second == 0) {
        s = Status::bad_request(where + "max_failed_logins_per_second must be at least 1");
      }
    } else if (section == "httpd" && key == "bind_address") {
      o.bind = value;
    } else if (section == "httpd" && key == "port") {
      s = parse_number(where + "port", value, &o.port);
    } else if (section == "divan" && key == "data_dir") {
      o.data_dir = value;
    } else if (section == "divan" && key == "max_connections") {
      s = parse_number(where + "max_connections", value, &o.max_connections);
    } else if (section == "log" && key == "level") {
      s = parse_level(value, &o.log_level);
    } else if (section == "couchdb" && key == "max_document_size") {
      s = parse_number(where + "max_document_size", value, &o.data.max_document_size);
    } else if (section == "chttpd" && key == "max_http_request_size") {
      s = parse_number(where + "max_http_request_size", value, &o.max_request_size);
    } else if (section == "sync") {
      s = add_sync(where, key + "=" + value, &o);
    } else if (section == "cors" && key == "origins") {
      set_origins(value, &o.cors);
    } else if (section == "cors" && key == "credentials") {
      s = parse_bool(where + "credentials", value, &o.cors.credentials);
    } else if (section == "ssl" && key == "cert_file") {
      o.tls_cert = value;
    } else if (section == "ssl" && key == "key_file") {
      o.tls_key = value;
    } else if (section == "replicator" && key == "ssl_trusted_certificates_file") {
      o.tls_ca_file = value;
    } else if (section == "replicator" && key == "verify_ssl_certificates") {
      s = parse_bool(where + "verify_ssl_certificates", value, &o.tls_verify_peers);
    } else {
      return Status::bad_request(where + "unknown setting [" + section + "] " + key);
    }
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

Result<Config> parse_command_line(const std::vector<std::string>& args) {
  Config config;
  std::size_t i = 0;
  if (i < args.size() && args[i] == "serve") ++i;
  // The config file first, so that flags override it.
  for (std::size_t j = i; j + 1 < args.size(); ++j) {
    if (args[j] == "--config") {
      if (Status s = apply_config_file(args[j + 1], &config); !s.is_ok()) return s;
      config.config_file = args[j + 1];
    }
  }
  ServerOptions& o = config.server;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      config.command = Config::Command::kHelp;
      return config;
    }
    if (a == "--version") {
      config.command = Config::Command::kVersion;
      return config;
    }
    if (a == "--insecure-admin-party") {
      config.insecure_admin_party = true;
      continue;
    }
    if (i + 1 >= args.size()) return Status::bad_request("unknown or incomplete option " + a);
    const std::string& v = args[++i];
    Status s;
    if (a == "--config") {
      // applied above
    } else if (a == "--bind") {
      o.bind = v;
    } else if (a == "--port") {
      s = parse_number("--port", v, &o.port);
    } else if (a == "--data") {
      o.data_dir = v;
    } else if (a == "--log-level") {
      s = parse_level(v, &o.log_level);
    } else if (a == "--max-connections") {
      s = parse_number("--max-connections", v, &o.max_connections);
    } else if (a == "--admin") {
      auto colon = v.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) {
        return Status::bad_request("--admin needs NAME:PASSWORD");
      }
      config.admins[v.substr(0, colon)] = v.substr(colon + 1);
    } else if (a == "--sync") {
      s = add_sync("--sync ", v, &o);
    } else if (a == "--cors-origins") {
      set_origins(v, &o.cors);
    } else if (a == "--tls-cert") {
      o.tls_cert = v;
    } else if (a == "--tls-key") {
      o.tls_key = v;
    } else if (a == "--tls-ca-file") {
      o.tls_ca_file = v;
    } else {
      return Status::bad_request("unknown option " + a);
    }
    if (!s.is_ok()) return s;
  }
  if (o.port < 0 || o.port > 65535) return Status::bad_request("--port must be 0 to 65535");
  if (o.max_connections < 1) return Status::bad_request("--max-connections must be at least 1");
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return Status::bad_request(
        "HTTPS needs both --tls-cert and --tls-key ([ssl] cert_file and key_file), or neither");
  }
  return config;
}

Status apply_admin_environment(const char* user, const char* password, Config* config) {
  bool has_user = user != nullptr && *user != '\0';
  bool has_password = password != nullptr && *password != '\0';
  if (has_user != has_password) {
    return Status::bad_request("DIVAN_USER and DIVAN_PASSWORD must be set together");
  }
  if (has_user) config->admins[user] = password;
  return Status::ok();
}

namespace {

// Rewrites the [admins] lines of `path` whose names are in `hashed` with
// those values, atomically (temporary file, fsync, rename), keeping the
// file's permissions.
Status rewrite_admins(const std::string& path, const std::map<std::string, std::string>& hashed) {
  std::ifstream in(path);
  if (!in) return Status::io_error("cannot read config file " + path);
  std::string out, line, section;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (!t.empty() && t.front() == '[' && t.back() == ']') section = trim(t.substr(1, t.size() - 2));
    auto eq = t.find('=');
    if (section == "admins" && eq != std::string::npos && t[0] != '#' && t[0] != ';') {
      std::string key = trim(t.substr(0, eq));
      if (auto it = hashed.find(key); it != hashed.end()) line = key + " = " + it->second;
    }
    out += line + "\n";
  }
  in.close();
  struct stat st {};
  mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0600;
  return replace_file(path, out, mode);
}

}  // namespace

Status prepare_admins(Config* config, RandomSource& random) {
  AuthOptions& auth = config->server.auth;
  auth.admin_party = config->insecure_admin_party;
  std::map<std::string, std::string> file_hashed;  // hashes of the config file's clear passwords
  for (const auto& [name, value] : config->admins) {
    std::string hash = value;
    if (is_hashed_admin_password(value)) {
      auto c = Credentials::from_admin_hash(value);
      if (!c.is_ok()) return Status::bad_request("admin " + name + ": " + c.status().reason());
    } else {
      hash = hash_admin_password(value, auth.iterations, random);
    }
    auth.admins[name] = hash;
  }
  for (const auto& [name, value] : config->file_admins) {
    if (is_hashed_admin_password(value)) continue;
    // A clear password overridden by --admin is hashed there all the same.
    auto given = config->admins.find(name);
    file_hashed[name] = given != config->admins.end() && given->second == value
                            ? auth.admins[name]
                            : hash_admin_password(value, auth.iterations, random);
  }
  if (!file_hashed.empty()) return rewrite_admins(config->config_file, file_hashed);
  return Status::ok();
}

std::string usage() {
  return R"(divan: a CouchDB-style replicating document database

Usage: divan [serve] [options]
       divan replicate SOURCE TARGET [options]   (see divan replicate --help)

Serves CouchDB's HTTP API over the databases in a data folder, and runs the
replications of its _replicator database.

Options:
  --bind ADDRESS          address to listen on (default 127.0.0.1)
  --port PORT             port to listen on (default 5984; 0 picks a free one)
  --data DIR              data folder (default ./data, created if missing)
  --config FILE           ini-style settings (see README); flags override it
  --log-level LEVEL       error, warn, info (default: one line per request), debug
  --max-connections N     connections served at once (default 2048)
  --cors-origins LIST     enable CORS for these origins (comma-separated, * for any)
  --admin NAME:PASSWORD   a server admin (repeatable; also [admins] in the config
                          file, or DIVAN_USER and DIVAN_PASSWORD in the environment)
  --insecure-admin-party  serve without admins: every request is a server admin.
                          Only for local experiments
  --sync DB=URL           keep local database DB in sync with the database at URL,
                          both ways, continuously (repeatable)
  --tls-cert FILE         serve HTTPS (only) with this PEM certificate (chain);
                          needs --tls-key. Config: [ssl] cert_file
  --tls-key FILE          the PEM private key of --tls-cert. Config: [ssl] key_file
  --tls-ca-file FILE      replications trust the CAs in this PEM file for https
                          peers, instead of the system's. Config: [replicator]
                          ssl_trusted_certificates_file
  --help                  this text
  --version               divan's version
)";
}

}  // namespace divan::http
