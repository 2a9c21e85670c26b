// Ctx: one HTTP request being answered, as the handlers see it.
//
// The path arrives raw (req.target) and is split on '/' before each segment
// is percent-decoded, so "/db/a%2Fb" names document "a/b" while "/db/a/b"
// names attachment "b" of document "a", as in CouchDB.
#ifndef DIVAN_HTTP_CONTEXT_H_
#define DIVAN_HTTP_CONTEXT_H_

#include <httplib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "divan/data_dir.h"
#include "divan/database.h"
#include "http/auth.h"
#include "http/http_error.h"
#include "http/json.h"

namespace divan::http {

class Server;

class Ctx {
 public:
  Ctx(Server& server, const httplib::Request& req, httplib::Response& res);

  Server& server() { return server_; }
  DataDir& data_dir();
  const httplib::Request& req() const { return req_; }
  httplib::Response& res() { return res_; }

  // "GET", "PUT", ...; HEAD requests are answered as GET without a body.
  const std::string& method() const { return method_; }
  bool is(const char* method) const { return method_ == method; }
  // The decoded path segments; "/" gives none. False if the path could not
  // be decoded (the request has been answered with 400).
  const std::vector<std::string>& path() const { return path_; }
  bool path_ok() const { return path_ok_; }

  // ---- query parameters (decoded; the last one wins if repeated) ----
  const std::string* param(const std::string& name) const;
  // "true"/"false"; absent gives `fallback`. Errors: 400 naming the parameter.
  Result<bool> bool_param(const std::string& name, bool fallback) const;
  // A non-negative integer, or nullopt if absent.
  Result<std::optional<std::uint64_t>> uint_param(const std::string& name) const;
  // A JSON value (e.g. startkey="abc", keys=[...]), or nullopt if absent.
  Result<std::optional<rapidjson::Document>> json_param(const std::string& name) const;

  // ---- request body ----
  const std::string& body() const { return req_.body; }
  // True if the Content-Type is application/json (parameters allowed).
  bool json_content_type() const;
  // The body parsed as JSON. Errors: 400 "invalid UTF-8 JSON".
  Result<rapidjson::Document> json_body() const;
  // The body as a JSON object. Errors: 400 also when it is not an object.
  Result<rapidjson::Document> json_object_body() const;
  // For POST-only endpoints that CouchDB guards with a JSON Content-Type:
  // answers 405 or 415 and returns false unless the request is one.
  bool require_post_json();
  std::string header(const char* name) const { return req_.get_header_value(name); }

  // ---- answering ----
  void json(int status, std::string body);
  void error(const HttpError& e);
  void error(const Status& s) { error(HttpError::from_status(s)); }
  void set_header(const std::string& name, const std::string& value) {
    res_.set_header(name, value);
  }

  // ---- databases ----
  // The database `name`, or answers the error (404 etc.) and returns null.
  std::shared_ptr<Database> open_db(const std::string& name);

  // The server's base URL as the client used it, for Location headers.
  std::string base_url() const;

  // ---- who is asking (set before routing) ----
  const Identity& identity() const { return identity_; }
  const UserCtx& user() const { return identity_.user; }
  void set_identity(Identity id) { identity_ = std::move(id); }
  // Whether the user is an admin of the database the request is about (set
  // by authorize_db; server admins always are).
  bool db_admin() const { return db_admin_ || identity_.user.is_server_admin(); }
  void set_db_admin(bool admin) { db_admin_ = admin; }

 private:
  Server& server_;
  const httplib::Request& req_;
  httplib::Response& res_;
  std::string method_;
  std::vector<std::string> path_;
  bool path_ok_ = true;
  std::map<std::string, std::string> params_;
  Identity identity_;
  bool db_admin_ = false;
};

// Percent-decodes `s` (no '+' to space: that is for query strings).
// Returns false on a malformed escape.
bool percent_decode(std::string_view s, std::string* out, bool plus_is_space = false);
// Reads "a=1&b=2" (a query string, or an application/x-www-form-urlencoded
// body) into `out`: '+' is a space, the last repeat of a name wins.
// Returns false if an escape was malformed (the other pairs are read).
bool parse_form(std::string_view text, std::map<std::string, std::string>* out);
// Whether `s` begins with `lower_prefix` (lower-case ASCII), whatever the
// case of `s`: URL schemes, the scheme of an Authorization header.
bool starts_with_ignoring_case(std::string_view s, std::string_view lower_prefix);
// Percent-encodes a path segment: every byte but the unreserved ones
// (letters, digits, "-_.~") and those in `also_plain`. The default keeps
// "$()+" readable in Location headers, as CouchDB does.
std::string percent_encode(std::string_view s, std::string_view also_plain = "$()+");

}  // namespace divan::http

#endif  // DIVAN_HTTP_CONTEXT_H_
