#include "http/peer_url.h"

#include <cctype>
#include <vector>

#include "divan/http_peer.h"
#include "http/context.h"
#include "replicator/url_userinfo.h"

namespace divan::http {
namespace {

constexpr std::string_view kSchemeEnd = "://";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

std::string encode_component(std::string_view s) { return percent_encode(s, ""); }

std::string PeerUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::string PeerUrl::without_password(const std::optional<std::string>& as_user) const {
  std::string out = std::string(scheme()) + "://";
  if (as_user && !as_user->empty()) out += encode_component(*as_user) + "@";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return out + ":" + std::to_string(port) + db_path;
}

Result<PeerUrl> parse_peer_url(std::string_view url) {
  // Reasons name the URL only through redact_url(), and say what is wrong.
  auto bad = [&](const std::string& why) {
    return Status::bad_request("Invalid database URL " + redact_url(url) + ": " + why);
  };
  std::size_t scheme_end = url.find(kSchemeEnd);
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return bad("expected http[s]://host[:port]/db");
  }
  std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return bad("unsupported scheme \"" + scheme + "\"");
  if (url.find_first_of("?#") != std::string_view::npos) {
    return bad("a query string or fragment is not allowed");
  }

  PeerUrl out;
  out.tls = scheme == "https";
  out.port = out.tls ? 443 : 80;
  std::size_t start = scheme_end + kSchemeEnd.size();
  if (std::size_t at = url_userinfo_end(url, start); at != std::string_view::npos) {
    std::string_view info = url.substr(start, at - start);
    std::size_t colon = info.find(':');
    std::string user, password;
    if (!percent_decode(info.substr(0, colon), &user)) return bad("malformed user name");
    out.user = std::move(user);
    if (colon != std::string_view::npos) {
      if (!percent_decode(info.substr(colon + 1), &password)) return bad("malformed password");
      out.password = std::move(password);
    }
    start = at + 1;
  }

  // host[:port] or [v6][:port]
  std::size_t slash = url.find('/', start);
  std::string_view authority = url.substr(start, slash == std::string_view::npos ? slash : slash - start);
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    out.host = lower(authority.substr(1, close - 1));
    for (char c : out.host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return bad("malformed IPv6 address");
      }
    }
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return bad("malformed host");
    if (!rest.empty()) port_text = rest.substr(1);
    if (rest == ":") return bad("empty port");
  } else {
    std::size_t colon = authority.find(':');
    out.host = lower(authority.substr(0, colon));
    for (char c : out.host) {
      if (!is_host_char(c)) return bad("malformed host");
    }
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("empty port");
    }
  }
  if (out.host.empty()) return bad("no host");
  if (!port_text.empty()) {
    if (port_text.size() > 5) return bad("bad port");
    int port = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad("bad port");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return bad("bad port");
    out.port = port;
  }

  // /[prefix/]db[/]: every segment decoded and encoded again, so the paths
  // we send are encoded one way whatever the URL's own spelling.
  std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash + 1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return bad("no database name");
  std::vector<std::string> segments;
  for (std::size_t pos = 0;;) {
    std::size_t end = path.find('/', pos);
    std::string_view seg = path.substr(pos, end == std::string_view::npos ? end : end - pos);
    std::string decoded;
    if (seg.empty()) return bad("empty path segment");
    if (!percent_decode(seg, &decoded)) return bad("malformed percent-encoding");
    segments.push_back(std::move(decoded));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  out.db_name = segments.back();
  out.root_path = "/";
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    out.root_path += encode_component(segments[i]) + "/";
  }
  out.db_path = out.root_path + encode_component(out.db_name);
  return out;
}

}  // namespace divan::http
