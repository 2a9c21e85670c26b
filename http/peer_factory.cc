// peer_factory: URLs to HTTP peers, names to local ones.
#include "divan/http_peer.h"

namespace divan {

PeerFactory peer_factory(DataDir& dir) { return peer_factory(dir, HttpPeerOptions{}); }

PeerFactory peer_factory(DataDir& dir, const HttpPeerOptions& defaults) {
  PeerFactory local = local_peer_factory(dir);
  return [local, defaults](const PeerEndpoint& e) -> Result<std::unique_ptr<Peer>> {
    if (e.url.find("://") == std::string::npos) return local(e);
    HttpPeerOptions o = defaults;
    for (const auto& [name, value] : e.headers) o.headers[name] = value;
    o.username = e.username;
    o.password = e.password;
    o.auth = e.auth;
    return make_http_peer(e.url, o);
  };
}

}  // namespace divan
