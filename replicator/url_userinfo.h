// Where the credentials of a URL end, for the replicator's redaction and
// the HTTP peer's URL parsing, which must agree on it.
#ifndef DIVAN_REPLICATOR_URL_USERINFO_H_
#define DIVAN_REPLICATOR_URL_USERINFO_H_

#include <cstddef>
#include <string_view>

namespace divan {

// Where the credentials of `url` end: the last '@' before any query or
// fragment, counted from `start` (just after "://"); npos if none. Taking
// the last '@' rather than the first one after the host means that a
// password with an unencoded '/' or '@' is still treated (and redacted) as
// a password instead of leaking into a host or path that an error names.
std::size_t url_userinfo_end(std::string_view url, std::size_t start);

}  // namespace divan

#endif  // DIVAN_REPLICATOR_URL_USERINFO_H_
