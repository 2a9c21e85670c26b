#include "http/context.h"

#include <cctype>
#include <charconv>

#include "http/server.h"

namespace divan::http {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view s, std::string* out, bool plus_is_space) {
  out->clear();
  out->reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool parse_form(std::string_view text, std::map<std::string, std::string>* out) {
  bool ok = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view pair = text.substr(pos, amp - pos);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      std::string name, value;
      bool pair_ok = percent_decode(pair.substr(0, eq), &name, true);
      if (eq != std::string_view::npos) pair_ok = percent_decode(pair.substr(eq + 1), &value, true) && pair_ok;
      ok = ok && pair_ok;
      (*out)[name] = value;
    }
    pos = amp + 1;
  }
  return ok;
}

bool starts_with_ignoring_case(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower_prefix[i]) return false;
  }
  return true;
}

std::string percent_encode(std::string_view s, std::string_view also_plain) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~' ||
                 also_plain.find(static_cast<char>(c)) != std::string_view::npos;
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Ctx::Ctx(Server& server, const httplib::Request& req, httplib::Response& res)
    : server_(server), req_(req), res_(res), method_(req.method) {
  if (method_ == "HEAD") method_ = "GET";
  std::string_view target = req.target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  // Path segments, each decoded on its own; empty segments are skipped
  // ("/db/" is "/db").
  std::size_t start = 0;
  while (start <= target.size()) {
    std::size_t slash = target.find('/', start);
    if (slash == std::string_view::npos) slash = target.size();
    std::string_view seg = target.substr(start, slash - start);
    if (!seg.empty()) {
      std::string decoded;
      if (!percent_decode(seg, &decoded)) path_ok_ = false;
      path_.push_back(std::move(decoded));
    }
    start = slash + 1;
  }
  if (!parse_form(query, &params_)) path_ok_ = false;
  if (!path_ok_) error(HttpError::bad_request("The request URL is malformed."));
}

DataDir& Ctx::data_dir() { return server_.data_dir(); }

const std::string* Ctx::param(const std::string& name) const {
  auto it = params_.find(name);
  return it == params_.end() ? nullptr : &it->second;
}

Result<bool> Ctx::bool_param(const std::string& name, bool fallback) const {
  const std::string* v = param(name);
  if (v == nullptr) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return Status::bad_request("Invalid boolean parameter: \"" + name + "\"");
}

Result<std::optional<std::uint64_t>> Ctx::uint_param(const std::string& name) const {
  const std::string* v = param(name);
  if (v == nullptr) return std::optional<std::uint64_t>();
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
    return Status::bad_request("Invalid value for `" + name + "`: must be a non-negative integer");
  }
  return std::optional<std::uint64_t>(n);
}

Result<std::optional<rapidjson::Document>> Ctx::json_param(const std::string& name) const {
  const std::string* v = param(name);
  if (v == nullptr) return std::optional<rapidjson::Document>();
  auto d = parse_json(*v);
  if (!d.is_ok()) return Status::bad_request("Invalid JSON in the `" + name + "` parameter");
  return std::optional<rapidjson::Document>(std::move(d.value()));
}

bool Ctx::json_content_type() const {
  std::string ct = req_.get_header_value("Content-Type");
  std::string_view v(ct);
  if (auto semi = v.find(';'); semi != std::string_view::npos) v = v.substr(0, semi);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v == "application/json";
}

Result<rapidjson::Document> Ctx::json_body() const { return parse_json(req_.body); }

Result<rapidjson::Document> Ctx::json_object_body() const {
  auto body = json_body();
  if (body.is_ok() && !body->IsObject()) {
    return Status::bad_request("Request body must be a JSON object");
  }
  return body;
}

bool Ctx::require_post_json() {
  if (!is("POST")) {
    error(HttpError::method_not_allowed("POST"));
    return false;
  }
  if (!json_content_type()) {
    error(HttpError::bad_content_type());
    return false;
  }
  return true;
}

void Ctx::json(int status, std::string body) {
  res_.status = status;
  body += '\n';
  res_.set_content(std::move(body), "application/json");
}

void Ctx::error(const HttpError& e) {
  json(e.status, e.body());
  if (!e.allow.empty()) res_.set_header("Allow", e.allow);
}

std::shared_ptr<Database> Ctx::open_db(const std::string& name) {
  auto db = data_dir().open_database(name);
  if (!db.is_ok()) {
    error(db.status());
    return nullptr;
  }
  return std::move(db.value());
}

std::string Ctx::base_url() const {
  std::string host = req_.get_header_value("Host");
  if (host.empty()) host = req_.local_addr + ":" + std::to_string(req_.local_port);
  return (server_.tls() ? "https://" : "http://") + host;
}

}  // namespace divan::http
