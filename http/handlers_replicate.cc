// Replication endpoints: POST /_replicate, GET /_active_tasks,
// GET /_scheduler/jobs and GET /_scheduler/docs (CouchDB §6.13-6.14).
#include <rapidjson/document.h>


#include "divan/http_peer.h"
#include "divan/replication_scheduler.h"
#include "http/handlers.h"
#include "http/server.h"

namespace divan::http {
namespace {

// A sequence (JSON text) as a JSON value, or null when it is not JSON.
void seq(JsonWriter& w, const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (json.empty() || d.HasParseError()) {
    w.null();
  } else {
    w.raw(json);
  }
}

// A job's progress, in the members _active_tasks and _scheduler/jobs share.
void stats_fields(JsonWriter& w, const ReplicationStats& s) {
  w.key("revisions_checked").number(s.missing_checked);
  w.key("missing_revisions_found").number(s.missing_found);
  w.key("docs_read").number(s.docs_read);
  w.key("docs_written").number(s.docs_written);
  w.key("doc_write_failures").number(s.doc_write_failures);
  w.key("changes_pending");
  if (s.changes_pending) {
    w.number(*s.changes_pending);
  } else {
    w.null();
  }
  // As CouchDB: the last sequence read from the source's feed, the last one
  // processed, and the last one checkpointed (one batch at a time, so the
  // last two are the same).
  w.key("checkpointed_source_seq");
  seq(w, s.end_last_seq);
  w.key("source_seq");
  seq(w, s.read_seq);
  w.key("through_seq");
  seq(w, s.end_last_seq);
}

// The statistics CouchDB's `_scheduler/jobs` calls `info`.
void job_info(JsonWriter& w, const ReplicationJobInfo& job) {
  w.start_object();
  stats_fields(w, job.stats);
  if (!job.error.is_ok()) w.key("error").string(job.error.to_string());
  w.end_object();
}

// The members _active_tasks and _scheduler/jobs share.
void job_fields(Ctx& ctx, JsonWriter& w, const ReplicationJobInfo& job) {
  if (job.doc_id.empty()) {
    w.key("database").null();
    w.key("doc_id").null();
  } else {
    w.key("database").string("_replicator");
    w.key("doc_id").string(job.doc_id);
  }
  w.key("pid").string(job.id);
  w.key("node").string("divan@" + ctx.server().options().bind);
  w.key("source").string(job.source);
  w.key("target").string(job.target);
  w.key("user");
  if (job.owner.empty()) w.null();
  else w.string(job.owner);
  w.key("continuous").boolean(job.continuous);
}

bool only_get(Ctx& ctx) {
  if (ctx.is("GET")) return true;
  ctx.error(HttpError::method_not_allowed("GET,HEAD"));
  return false;
}

// A replication's failure as CouchDB reports it: a missing database is
// db_not_found; a peer that cannot be reached is a 502 naming it.
HttpError replication_error(const Status& s) {
  if (s.code() == ErrorCode::kNotFound) return HttpError{404, "db_not_found", s.reason(), {}};
  if (s.code() == ErrorCode::kIoError) return HttpError{502, "replication_failed", s.reason(), {}};
  return HttpError::from_status(s);
}

// Whether `url` names a remote database ("http://..." or "https://...",
// scheme in any case) rather than a local one.
bool is_remote(std::string_view url) {
  return starts_with_ignoring_case(url, "http://") || starts_with_ignoring_case(url, "https://");
}

// Whether the signed-in user of `ctx` may ask for `spec`. CouchDB lets
// any signed-in user replicate; the peers then check the credentials the
// request carries. A local database, though, is read and written directly,
// past its _security, so naming one as source or target takes a server
// admin. A job named by its id may be cancelled by its owner (checked by
// the caller, which finds the job). Answers and returns false if not.
bool may_replicate(Ctx& ctx, const ReplicationSpec& spec) {
  if (ctx.user().is_server_admin()) return true;
  if (spec.cancel && spec.replication_id) return true;
  for (const PeerEndpoint* e : {&spec.source, &spec.target}) {
    if (!is_remote(e->url)) {
      ctx.error(HttpError{403, "forbidden",
                          "Only server admins may replicate from or to a local database; "
                          "name it by its http:// or https:// URL instead.",
                          {}});
      return false;
    }
  }
  return true;
}

}  // namespace

void handle_replicate(Ctx& ctx) {
  if (!ctx.is("POST")) return ctx.error(HttpError::method_not_allowed("POST"));
  // Anonymous users are refused before anything of the request is read.
  if (ctx.user().is_anonymous() && !ctx.user().is_server_admin()) {
    return ctx.error(HttpError{401, "unauthorized", "You are not an authenticated user.", {}});
  }
  if (!ctx.require_post_json()) return;
  auto spec = parse_replication_spec(ctx.body());
  if (!spec.is_ok()) return ctx.error(spec.status());
  if (!may_replicate(ctx, *spec)) return;
  ReplicationScheduler& scheduler = ctx.server().scheduler();
  if (ctx.user().name) spec->owner = *ctx.user().name;

  if (spec->cancel) {
    std::string id;
    if (spec->replication_id) {
      id = *spec->replication_id;
      // Only its owner or a server admin cancels a job by its id.
      if (!ctx.user().is_server_admin()) {
        bool other = false;  // a job of that id, someone else's
        for (const auto& job : scheduler.jobs()) other = other || (job.id == id && job.owner != spec->owner);
        if (other) {
          return ctx.error(HttpError{403, "forbidden",
                                     "Only server admins and its owner may cancel a replication by its id.", {}});
        }
      }
    } else {
      auto computed = scheduler.job_id(*spec);
      if (!computed.is_ok()) return ctx.error(computed.status());
      id = *computed;
    }
    if (Status s = scheduler.cancel(id); !s.is_ok()) {
      // CouchDB's error name here is "not found", with a space.
      return ctx.error(HttpError{404, "not found", "There is no replication job " + id, {}});
    }
    JsonWriter w;
    w.start_object().key("ok").boolean(true).key("_local_id").string(id).end_object();
    return ctx.json(200, w.take());
  }

  if (spec->options.continuous) {
    auto id = scheduler.start(*spec);
    if (!id.is_ok()) return ctx.error(replication_error(id.status()));
    JsonWriter w;
    w.start_object().key("ok").boolean(true).key("_local_id").string(*id).end_object();
    return ctx.json(202, w.take());
  }

  auto result = scheduler.run(*spec);
  if (!result.is_ok()) return ctx.error(replication_error(result.status()));
  // Cancelled (by a cancel request, or as the server stops) before it
  // finished: not the "ok" of a finished run. (CouchDB 3.x leaves such a
  // request waiting until the client gives up.)
  if (result->cancelled) {
    return ctx.error(HttpError{500, "replication_cancelled",
                               "The replication was cancelled before it finished.", {}});
  }
  // {"ok":true, ...the checkpoint document's fields}, as CouchDB answers.
  std::string body = R"({"ok":true)";
  if (result->no_changes) body += R"(,"no_changes":true)";
  std::string_view log = result->checkpoint_json;
  if (log.size() > 2) {
    body += ',';
    body.append(log.substr(1));
  } else {
    body += '}';
  }
  ctx.json(200, body);
}

void handle_active_tasks(Ctx& ctx) {
  if (!only_get(ctx)) return;
  JsonWriter w;
  w.start_array();
  for (const ReplicationJobInfo& job : ctx.server().scheduler().jobs()) {
    const ReplicationStats& s = job.stats;
    w.start_object();
    w.key("type").string("replication");
    w.key("replication_id").string(job.id);
    job_fields(ctx, w, job);
    stats_fields(w, s);
    w.key("changes_read").number(s.changes_read);
    w.key("process_status").string(std::string(replication_state_name(job.state)));
    w.key("started_on").number(static_cast<std::uint64_t>(job.start_time / 1000000));
    w.key("updated_on").number(static_cast<std::uint64_t>(job.update_time / 1000000));
    w.end_object();
  }
  w.end_array();
  ctx.json(200, w.take());
}

void handle_scheduler(Ctx& ctx, const std::string& what) {
  if (!only_get(ctx)) return;
  if (what == "jobs") {
    auto jobs = ctx.server().scheduler().jobs();
    JsonWriter w;
    w.start_object();
    w.key("total_rows").number(jobs.size());
    w.key("offset").number(0);
    w.key("jobs").start_array();
    for (const ReplicationJobInfo& job : jobs) {
      w.start_object();
      w.key("id").string(job.id);
      job_fields(ctx, w, job);
      w.key("state").string(std::string(replication_state_name(job.state)));
      w.key("info");
      job_info(w, job);
      w.key("history").start_array();
      w.start_object().key("timestamp").string(iso8601_utc(job.start_time)).key("type").string("started").end_object();
      w.end_array();
      w.key("start_time").string(iso8601_utc(job.start_time));
      w.key("last_updated").string(iso8601_utc(job.update_time));
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return ctx.json(200, w.take());
  }
  if (what == "docs") {
    // The _replicator documents and the state written into them.
    auto db = ctx.data_dir().open_database("_replicator");
    JsonWriter w;
    w.start_object();
    std::uint64_t n = 0;
    w.key("docs").start_array();
    if (db.is_ok()) {
      AllDocsOptions o;
      o.include_docs = true;
      auto all = (*db)->all_docs(o);
      if (!all.is_ok()) return ctx.error(all.status());
      for (const auto& row : all->rows) {
        if (!row.doc || row.id.rfind("_design/", 0) == 0) continue;
        rapidjson::Document d;
        d.Parse(row.doc->body.data(), row.doc->body.size());
        if (d.HasParseError() || !d.IsObject()) continue;
        auto text = [&](const char* name) -> std::string {
          auto m = d.FindMember(name);
          if (m == d.MemberEnd()) return {};
          if (m->value.IsString()) return m->value.GetString();
          if (m->value.IsObject() && m->value.HasMember("url") && m->value["url"].IsString()) {
            return m->value["url"].GetString();
          }
          return {};
        };
        w.start_object();
        w.key("database").string("_replicator");
        w.key("doc_id").string(row.id);
        std::string id = text("_replication_id");
        if (id.empty()) w.key("id").null(); else w.key("id").string(id);
        w.key("source").string(redact_url(text("source")));
        w.key("target").string(redact_url(text("target")));
        std::string state = text("_replication_state");
        w.key("state").string(state.empty() ? "initializing" : state);
        std::string reason = text("_replication_state_reason");
        if (reason.empty()) w.key("info").null(); else w.key("info").start_object().key("error").string(reason).end_object();
        std::string updated = text("_replication_state_time");
        if (updated.empty()) w.key("last_updated").null(); else w.key("last_updated").string(updated);
        w.end_object();
        ++n;
      }
    }
    w.end_array();
    w.key("total_rows").number(n);
    w.key("offset").number(0);
    w.end_object();
    return ctx.json(200, w.take());
  }
  ctx.error(HttpError::not_found("missing"));
}

}  // namespace divan::http
