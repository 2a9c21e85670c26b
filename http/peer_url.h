// The URL of a remote database, as make_http_peer() takes it, and the
// percent-encoding of the paths and query values HttpPeer sends.
// redact_url() lives in the replicator layer (divan/replication_scheduler.h).
#ifndef DIVAN_HTTP_PEER_URL_H_
#define DIVAN_HTTP_PEER_URL_H_

#include <optional>
#include <string>
#include <string_view>

#include "divan/status.h"

namespace divan::http {

// "http[s]://[user:pass@]host[:port]/[prefix/]db", taken apart.
struct PeerUrl {
  bool tls = false;  // https
  std::string host;  // lower case; an IPv6 address without its brackets
  int port = 80;     // 443 by default for https
  std::optional<std::string> user, password;  // percent-decoded
  // The server root's path, encoded, ending in "/": "/" or "/prefix/".
  std::string root_path;
  // The database's path, encoded: root_path + the encoded name.
  std::string db_path;
  std::string db_name;  // decoded, e.g. "a/b" for ".../a%2Fb"

  // "http" or "https".
  const char* scheme() const { return tls ? "https" : "http"; }
  // "host" or "[v6]", with ":port" unless it is the scheme's default (80
  // or 443): the Host header.
  std::string host_header() const;
  // "http[s]://host:port" + db_path, with `user@` when `user` is not empty
  // (never a password).
  std::string without_password(const std::optional<std::string>& user) const;
};

// Errors: bad_request for a malformed URL or a scheme other than http and
// https. The reason never contains the password.
Result<PeerUrl> parse_peer_url(std::string_view url);

// Every byte except RFC 3986's unreserved ones (A-Z a-z 0-9 - . _ ~) as
// %XX, so the result is one path segment or one query value whatever the
// input ("_design/x" -> "_design%2Fx", "a+b c" -> "a%2Bb%20c"). Stricter
// than percent_encode() of http/context.h, which keeps '+' and is only for
// our own paths: a '+' in a query string would reach a server as a space.
std::string encode_component(std::string_view s);

}  // namespace divan::http

#endif  // DIVAN_HTTP_PEER_URL_H_
