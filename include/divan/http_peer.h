// divan/http_peer.h: a replication peer that is a database on a remote
// CouchDB-style server, reached over HTTP or HTTPS.
//
// make_http_peer() speaks CouchDB's HTTP API (GET /db, _changes,
// _revs_diff, _bulk_get, _bulk_docs, _local documents) to the database
// named by a URL, so the replicator (divan/replicator.h) can copy to and
// from CouchDB, PouchDB Server or another divan. Only in builds with HTTP
// (-Dhttp=enabled, the default).
//
//   auto source = make_http_peer("http://bob:secret@127.0.0.1:5984/albums");
//   if (!source.is_ok()) ...;  // a malformed URL
//   Result<PeerInfo> info = (*source)->info();  // the first network use
//
// An https URL is reached over TLS (OpenSSL, through cpp-httplib), and the
// server's certificate is verified, host name included, against the
// system's trusted CAs or HttpPeerOptions::ca_file:
//
//   HttpPeerOptions o;
//   o.ca_file = "/etc/divan/our-ca.pem";
//   auto target = make_http_peer("https://db.example.org/albums", o);
//
// Thread-safety: as for every Peer (divan/peer.h): one thread at a time,
// except interrupt(), which any thread may call. Distinct peers are
// independent, even for the same URL (each has its own connection).
//
// interrupt() returns once a call in progress has returned (at once, as
// the connection is shut), except that a TCP connect in progress cannot be
// cut short by cpp-httplib 0.11: that may take up to connect_timeout.
// Later calls fail with io_error "interrupted" (not transient).
//
// Documents pass through as JSON text with numbers exactly as sent (1.50
// stays 1.50, a 30-digit integer keeps its digits), so a replicated
// document does not change on the way.

#ifndef DIVAN_HTTP_PEER_H_
#define DIVAN_HTTP_PEER_H_

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "divan/peer.h"
#include "divan/replication_scheduler.h"
#include "divan/status.h"

namespace divan {

struct HttpPeerOptions {
  // Extra headers sent with every request (e.g. a proxy's or a cookie).
  // Default: none.
  std::map<std::string, std::string> headers;
  // Credentials. When username is unset, the user and password of the URL
  // (if any) are used instead. Default: unset.
  std::optional<std::string> username, password;
  // How the credentials are presented: Basic auth on every request, or a
  // cookie session (PeerAuth, divan/replication_scheduler.h). Default:
  // kBasic. Without credentials nothing is sent either way.
  PeerAuth auth = PeerAuth::kBasic;
  // How long to wait for a TCP connection, and for each read or write of a
  // request once connected (a longpoll's wait is kept alive by heartbeats,
  // so it may last longer than request_timeout).
  std::chrono::milliseconds connect_timeout{10000}, request_timeout{60000};
  // https only: the PEM file of the CAs to trust. Empty (the default): the
  // system's trusted CAs (OpenSSL's default paths, which SSL_CERT_FILE and
  // SSL_CERT_DIR override).
  std::string ca_file;
  // https only: verify the server's certificate chain and that it names the
  // URL's host (DNS name or IP address). Default: true. false turns all
  // checking off, so that anyone on the path can read and change the
  // traffic; only for explicit opt-outs.
  bool verify_certificates = true;
};

// A peer for the database named by `url`:
// "http[s]://[user:pass@]host[:port]/[prefix/]db", where the last path
// segment is the database name, percent-encoded as CouchDB allows ("a%2Fb"
// is the database "a/b") and any segments before it are a path prefix to
// the server root (a server behind a reverse proxy). The port defaults to
// 80 for http and 443 for https. A trailing "/" is ignored. Nothing is sent
// (and no CA file read) until the first call.
//
// The peer's id() is the URL without its password, in a normal form
// ("http://user@host:port/prefix/db", lower-case scheme and host, explicit
// port, the path percent-encoded one way), with options.username in place
// of the URL's user when set. A '@' in the path is taken as the end of the
// credentials (so that a password with an unencoded '/' is never shown).
//
// Requests carry `Accept: application/json`, the credentials (Basic, or
// the session cookie, see options.auth), and options.headers. A server
// without _bulk_get (404, 405, 400 or 501 to it) is read with one GET
// ?open_revs=[...] per document from then on.
//
// Errors: bad_request for a malformed URL (no database name, a bad port, a
// query string or fragment) or a scheme other than http and https. Later
// calls fail, besides as the server answers, with bad_request (not
// transient) when the https server's certificate cannot be verified or
// options.ca_file cannot be loaded, with unauthorized when a session login
// is refused, and with a transient io_error when the connection or the TLS
// handshake fails. Reasons never contain the password.
Result<std::unique_ptr<Peer>> make_http_peer(std::string_view url,
                                             const HttpPeerOptions& options = {});

// redact_url(url), for logs, errors and ids, is declared in
// divan/replication_scheduler.h (included above), with the replicator layer
// that redacts `_replicator` documents.

// The PeerFactory of a node with HTTP: URLs ("http://...", "https://...")
// become HTTP peers (with the endpoint's headers, credentials and auth),
// anything else a local database of `dir`, which must outlive the factory.
PeerFactory peer_factory(DataDir& dir);
// As above, with `defaults` for every HTTP peer (a CA file, timeouts). An
// endpoint's headers are added to those of `defaults` (replacing one of
// the same name); credentials and auth are always the endpoint's.
PeerFactory peer_factory(DataDir& dir, const HttpPeerOptions& defaults);
// The same for URLs only, without a data folder: a local name is a
// bad_request.
PeerFactory http_peer_factory(const HttpPeerOptions& defaults = {});

}  // namespace divan

#endif  // DIVAN_HTTP_PEER_H_
