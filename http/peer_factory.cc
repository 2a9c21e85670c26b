// peer_factory: URLs to HTTP peers, names to local ones.
#include "divan/http_peer.h"

namespace divan {

PeerFactory peer_factory(DataDir& dir) { return peer_factory(dir, HttpPeerOptions{}); }

PeerFactory http_peer_factory(const HttpPeerOptions& defaults) {
  return [defaults](const PeerEndpoint& e) -> Result<std::unique_ptr<Peer>> {
    if (e.url.find("://") == std::string::npos) {
      return Status::bad_request("not a URL, and no data folder for local names: " + e.url);
    }
    HttpPeerOptions o = defaults;
    for (const auto& [name, value] : e.headers) o.headers[name] = value;
    o.username = e.username;
    o.password = e.password;
    o.auth = e.auth;
    return make_http_peer(e.url, o);
  };
}

PeerFactory peer_factory(DataDir& dir, const HttpPeerOptions& defaults) {
  PeerFactory local = local_peer_factory(dir);
  PeerFactory remote = http_peer_factory(defaults);
  return [local, remote](const PeerEndpoint& e) {
    return e.url.find("://") == std::string::npos ? local(e) : remote(e);
  };
}

}  // namespace divan
