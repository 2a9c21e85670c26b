// peer_factory: URLs to HTTP peers, names to local ones.
#include "divan/http_peer.h"

namespace divan {

PeerFactory peer_factory(DataDir& dir) {
  PeerFactory local = local_peer_factory(dir);
  return [local](const PeerEndpoint& e) -> Result<std::unique_ptr<Peer>> {
    if (e.url.find("://") == std::string::npos) return local(e);
    HttpPeerOptions o;
    o.headers = e.headers;
    o.username = e.username;
    o.password = e.password;
    return make_http_peer(e.url, o);
  };
}

}  // namespace divan
