// Document endpoints: GET/HEAD/PUT/DELETE /{db}/{docid} (also
// /{db}/_design/{name} and /{db}/_local/{name}), with CouchDB's query
// parameters, ETags and open_revs (JSON or multipart/mixed); and the
// attachment URL, which answers as if no document had attachments until
// attachments are supported.
#include <optional>
#include <string>
#include <string_view>

#include "http/authz.h"
#include "http/bulk_body.h"
#include "http/handlers.h"
#include "http/multipart.h"
#include "http/system_docs.h"

namespace divan::http {
namespace {

constexpr std::string_view kLocalPrefix = "_local/";

bool is_local_id(std::string_view id) { return id.starts_with(kLocalPrefix); }

std::string etag_of(std::string_view rev) { return "\"" + std::string(rev) + "\""; }

// An If-Match value without its quotes ("\"1-abc\"" -> "1-abc"), as
// CouchDB strips them.
std::string unquote(std::string_view v) {
  while (!v.empty() && (v.front() == '"' || v.front() == ' ')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '"' || v.back() == ' ')) v.remove_suffix(1);
  return std::string(v);
}

// True if the If-None-Match header lists `etag` (a quoted value).
bool etag_matches(const Ctx& ctx, const std::string& etag) {
  std::string header = ctx.header("If-None-Match");
  std::string_view rest(header);
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (one == etag) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

std::string ok_json(const std::string& id, const std::string& rev) {
  JsonWriter w;
  w.start_object();
  w.key("ok").boolean(true);
  w.key("id").string(id);
  w.key("rev").string(rev);
  w.end_object();
  return w.take();
}

// ---- GET / HEAD ----

void get_open_revs(Ctx& ctx, Database& db, const std::string& id, const std::string& open_revs,
                   bool revs, bool latest) {
  OpenRevsOptions o;
  o.latest = latest;
  o.revs_history = revs;
  if (open_revs == "all") {
    o.all = true;
  } else {
    auto j = ctx.json_param("open_revs");
    if (!j.is_ok()) return ctx.error(j.status());
    const rapidjson::Document& list = **j;
    if (!list.IsArray()) return ctx.error(HttpError::bad_request("Invalid rev format"));
    for (const auto& v : list.GetArray()) {
      if (!v.IsString()) return ctx.error(HttpError::bad_request("Invalid rev format"));
      o.revs.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  auto results = db.open_revs(id, o);
  if (!results.is_ok()) return ctx.error(results.status());

  // CouchDB's replicator asks for multipart/mixed and cannot read JSON here;
  // PouchDB asks for application/json.
  std::string accept = ctx.header("Accept");
  bool multipart = accept.find("multipart/mixed") != std::string::npos &&
                   accept.find("application/json") == std::string::npos;
  if (multipart) {
    MultipartMixed mp(new_boundary());
    for (const OpenRev& r : *results) {
      if (r.ok) {
        mp.add_json(doc_json_for_read(db.name(), *r.ok));
      } else {
        JsonWriter w;
        w.start_object().key("missing").string(r.missing).end_object();
        mp.add_error_json(w.take());
      }
    }
    ctx.res().status = 200;
    std::string type = mp.content_type();
    ctx.res().set_content(mp.finish(), type.c_str());
    return;
  }
  JsonWriter w;
  w.start_array();
  for (const OpenRev& r : *results) {
    w.start_object();
    if (r.ok) {
      w.key("ok").raw(doc_json_for_read(db.name(), *r.ok));
    } else {
      w.key("missing").string(r.missing);
    }
    w.end_object();
  }
  w.end_array();
  ctx.json(200, w.take());
}

void get_doc(Ctx& ctx, const std::string& db_name, const std::string& id) {
  if (Status s = check_doc_read(ctx, db_name, id); !s.is_ok()) return ctx.error(s);
  GetOptions o;
  bool meta = false;
  bool latest = false;
  bool ignored = false;
  struct Flag {
    const char* name;
    bool* out;
  };
  for (Flag f : {Flag{"revs", &o.revs}, Flag{"revs_info", &o.revs_info},
                 Flag{"conflicts", &o.conflicts}, Flag{"deleted_conflicts", &o.deleted_conflicts},
                 Flag{"local_seq", &o.local_seq}, Flag{"deleted", &o.deleted}, Flag{"meta", &meta},
                 Flag{"latest", &latest},
                 // Attachments come later; there is nothing to inline yet.
                 Flag{"attachments", &ignored}, Flag{"att_encoding_info", &ignored}}) {
    auto b = ctx.bool_param(f.name, false);
    if (!b.is_ok()) return ctx.error(b.status());
    *f.out = *b;
  }
  if (meta) o.revs_info = o.conflicts = o.deleted_conflicts = true;

  auto db = ctx.open_db(db_name);
  if (!db) return;
  if (const std::string* open_revs = ctx.param("open_revs")) {
    return get_open_revs(ctx, *db, id, *open_revs, o.revs, latest);
  }
  if (const std::string* rev = ctx.param("rev")) {
    if (latest) {
      // CouchDB reads the winner when latest=true comes without open_revs,
      // but still rejects a malformed rev.
      if (Status s = validate_rev(*rev); !s.is_ok()) return ctx.error(s);
    } else {
      o.rev = *rev;
    }
  }
  auto doc = db->get(id, o);
  if (!doc.is_ok()) return ctx.error(doc.status());
  // CouchDB sends an ETag only when the answer carries no meta fields
  // (revs_info, conflicts, deleted_conflicts, local_seq); _revisions does
  // not count. Asking for conflicts on a document without any adds none.
  bool has_meta = !doc->revs_info.empty() || !doc->conflicts.empty() ||
                  !doc->deleted_conflicts.empty() || doc->local_seq.has_value();
  if (!has_meta) {
    std::string etag = etag_of(doc->rev);
    ctx.set_header("ETag", etag);
    if (etag_matches(ctx, etag)) {
      ctx.res().status = 304;
      return;
    }
  }
  ctx.json(200, doc_json_for_read(db_name, *doc));
}

// ---- PUT ----

void put_doc(Ctx& ctx, const std::string& db_name, const std::string& id) {
  auto new_edits = ctx.bool_param("new_edits", true);
  if (!new_edits.is_ok()) return ctx.error(new_edits.status());
  const std::string* batch = ctx.param("batch");
  auto db = ctx.open_db(db_name);
  if (!db) return;

  PutOptions o;
  o.new_edits = *new_edits;
  o.id = id;  // the URL's id wins over the body's `_id`
  const std::string* query_rev = ctx.param("rev");
  std::string if_match = ctx.header("If-Match");
  const std::string& body = ctx.body();
  // Peek into the body only when it matters: If-Match must be compared with
  // the body's `_rev`, a deletion is answered 200 rather than 201, and the
  // rules of `_users` differ for a deletion.
  BodyPeek peek;
  const bool rules = has_write_rules(db_name, o.new_edits);
  if (rules || !if_match.empty() || body.find("\"_deleted\"") != std::string::npos) {
    peek = peek_body(body);
  }
  if (!if_match.empty()) {
    // CouchDB (chttpd_db:couch_doc_from_req): the explicit rev is the
    // body's `_rev` (which must equal ?rev=) or else ?rev=; it must equal
    // the If-Match rev.
    std::string etag_rev = unquote(if_match);
    if (peek.rev && query_rev && *peek.rev != *query_rev) {
      return ctx.error(HttpError::bad_request(
          "Document rev from request body and query string have different values"));
    }
    const std::string* explicit_rev = peek.rev ? &*peek.rev : query_rev;
    if (explicit_rev && *explicit_rev != etag_rev) {
      return ctx.error(HttpError::bad_request("Document rev and etag have different values"));
    }
    o.rev = etag_rev;
  } else if (query_rev) {
    o.rev = *query_rev;
  }

  // `_users` and `_replicator` may rewrite the body (a password hashed, a
  // redacted credential restored) or refuse it.
  std::string rewritten;
  if (rules) {
    auto b = doc_body_for_write(ctx, *db, db_name, id, body, peek.deleted, o.new_edits);
    if (!b.is_ok()) return ctx.error(b.status());
    rewritten = std::move(b.value());
  }
  auto r = db->put(rules ? std::string_view(rewritten) : std::string_view(body), o);
  if (!r.is_ok()) return ctx.error(r.status());
  ctx.set_header("ETag", etag_of(r->rev));
  ctx.set_header("Location",
                 ctx.base_url() + "/" + percent_encode(db_name) + "/" + percent_encode(r->id));
  // ?batch=ok asks for 202; the write is durable all the same.
  int status = batch != nullptr && *batch == "ok" ? 202 : peek.deleted ? 200 : 201;
  ctx.json(status, ok_json(r->id, r->rev));
}

// ---- DELETE ----

void delete_doc(Ctx& ctx, const std::string& db_name, const std::string& id) {
  auto db = ctx.open_db(db_name);
  if (!db) return;
  const std::string* query_rev = ctx.param("rev");
  std::string rev = query_rev ? *query_rev : "";
  std::string if_match = ctx.header("If-Match");
  // CouchDB looks the document up before anything else: a missing or
  // deleted document is 404 whatever the revisions say. remove() does the
  // same, but the etag check made here comes first.
  bool mismatch = !if_match.empty() && query_rev && unquote(if_match) != *query_rev;
  if (mismatch) {
    auto current = db->get(id);
    if (!current.is_ok()) return ctx.error(current.status());
  }
  if (mismatch) {
    return ctx.error(HttpError::bad_request("Document rev and etag have different values"));
  }
  if (!if_match.empty()) rev = unquote(if_match);
  // `_users`: only admins and the user themselves delete a user.
  if (auto allowed = doc_body_for_write(ctx, *db, db_name, id, "{}", true, true); !allowed.is_ok()) {
    return ctx.error(allowed.status());
  }
  auto r = db->remove(id, rev);
  if (!r.is_ok()) return ctx.error(r.status());
  ctx.set_header("ETag", etag_of(r->rev));
  ctx.json(200, ok_json(r->id, r->rev));
}

}  // namespace

void handle_doc(Ctx& ctx, const std::string& db, const std::string& id) {
  // The router lets only db admins write /db/_design/x; this also covers a
  // design document named with an encoded slash (/db/_design%2Fx).
  if ((ctx.is("PUT") || ctx.is("DELETE")) && id.starts_with("_design/") && !ctx.db_admin()) {
    return ctx.error(not_db_admin());
  }
  if (ctx.is("GET")) return get_doc(ctx, db, id);
  if (ctx.is("PUT")) return put_doc(ctx, db, id);
  if (ctx.is("DELETE")) return delete_doc(ctx, db, id);
  if (ctx.is("POST")) {
    // CouchDB's POST /{db}/{docid} is an HTML form upload of attachments.
    std::string ct = ctx.header("Content-Type");
    if (!ct.starts_with("multipart/form-data")) {
      return ctx.error(
          HttpError{415, "bad_content_type", "Content-Type must be multipart/form-data", {}});
    }
    return ctx.error(HttpError::not_implemented(
        "Form uploads of attachments are not supported by this version of divan."));
  }
  ctx.error(HttpError::method_not_allowed("DELETE,GET,HEAD,POST,PUT,COPY"));
}

void handle_attachment(Ctx& ctx, const std::string& db_name, const std::string& id,
                       const std::string&) {
  if (Status s = check_doc_read(ctx, db_name, id); !s.is_ok()) return ctx.error(s);
  if (is_local_id(id)) {
    return ctx.error(HttpError::bad_request("_local documents do not accept attachments."));
  }
  if (ctx.is("PUT") || ctx.is("DELETE")) {
    return ctx.error(
        HttpError::not_implemented("Attachments are not supported by this version of divan."));
  }
  if (!ctx.is("GET")) return ctx.error(HttpError::method_not_allowed("DELETE,GET,HEAD,PUT"));
  auto db = ctx.open_db(db_name);
  if (!db) return;
  GetOptions o;
  if (const std::string* rev = ctx.param("rev")) o.rev = *rev;
  auto doc = db->get(id, o);
  if (!doc.is_ok()) return ctx.error(doc.status());
  // No document has attachments yet.
  ctx.error(HttpError::not_found("Document is missing attachment"));
}

}  // namespace divan::http
