// What the server says of itself.
#ifndef DIVAN_HTTP_VERSION_H_
#define DIVAN_HTTP_VERSION_H_

namespace divan::http {

// divan's own version.
inline constexpr const char* kDivanVersion = "0.1.0";
// The CouchDB version whose API divan follows, reported in GET / so that
// clients that check it (PouchDB, CouchDB's replicator) treat divan as 3.x.
inline constexpr const char* kCouchDbVersion = "3.3.3";

}  // namespace divan::http

#endif  // DIVAN_HTTP_VERSION_H_
