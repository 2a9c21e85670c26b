// parse_replication_spec: a `POST /_replicate` body or `_replicator`
// document, read as CouchDB's couch_replicator_parse does (the parts divan
// supports), with a clear bad_request for anything else.

#include <rapidjson/document.h>

#include "divan/replication_scheduler.h"
#include "replicator/checkpoint.h"

namespace divan {
namespace {

std::string str(const rapidjson::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

Status parse_endpoint(const rapidjson::Value& v, const char* which, PeerEndpoint* out) {
  if (v.IsString()) {
    out->url = str(v);
  } else if (v.IsObject()) {
    auto url = v.FindMember("url");
    if (url == v.MemberEnd() || !url->value.IsString()) {
      return Status::bad_request(std::string("`") + which + ".url` must be a string");
    }
    out->url = str(url->value);
    if (auto h = v.FindMember("headers"); h != v.MemberEnd()) {
      if (!h->value.IsObject()) {
        return Status::bad_request(std::string("`") + which + ".headers` must be an object");
      }
      for (const auto& m : h->value.GetObject()) {
        if (!m.value.IsString()) {
          return Status::bad_request(std::string("`") + which + ".headers` values must be strings");
        }
        out->headers[str(m.name)] = str(m.value);
      }
    }
    if (auto a = v.FindMember("auth"); a != v.MemberEnd()) {
      // {"basic":{...}}: Basic auth; {"cookie":{...}}: a cookie session.
      const char* kind = "basic";
      auto creds = a->value.IsObject() ? a->value.FindMember(kind) : a->value.MemberEnd();
      if (a->value.IsObject() && creds == a->value.MemberEnd()) {
        kind = "cookie";
        creds = a->value.FindMember(kind);
        out->auth = PeerAuth::kSession;
      }
      if (!a->value.IsObject() || creds == a->value.MemberEnd() || !creds->value.IsObject()) {
        return Status::bad_request(std::string("`") + which +
                                   ".auth` must be {\"basic\":{...}} or {\"cookie\":{...}}");
      }
      auto user = creds->value.FindMember("username");
      auto pass = creds->value.FindMember("password");
      if (user == creds->value.MemberEnd() || !user->value.IsString() ||
          pass == creds->value.MemberEnd() || !pass->value.IsString()) {
        return Status::bad_request(std::string("`") + which + ".auth." + kind +
                                   "` needs string username and password");
      }
      out->username = str(user->value);
      out->password = str(pass->value);
    }
  } else {
    return Status::bad_request(std::string("`") + which + "` must be a URL or an object with a url");
  }
  if (out->url.empty()) return Status::bad_request(std::string("`") + which + "` must not be empty");
  return Status::ok();
}

Status get_bool(const rapidjson::Value& obj, const char* name, bool* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::ok();
  if (!it->value.IsBool()) return Status::bad_request(std::string("`") + name + "` must be a boolean");
  *out = it->value.GetBool();
  return Status::ok();
}

}  // namespace

Result<ReplicationSpec> parse_replication_spec(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) return Status::bad_request("Request body must be valid JSON");
  if (!d.IsObject()) return Status::bad_request("Request body must be a JSON object");
  ReplicationSpec spec;
  ReplicationOptions& o = spec.options;
  if (Status s = get_bool(d, "cancel", &spec.cancel); !s.is_ok()) return s;
  if (auto id = d.FindMember("replication_id"); id != d.MemberEnd()) {
    if (!id->value.IsString()) return Status::bad_request("`replication_id` must be a string");
    spec.replication_id = str(id->value);
  }
  auto source = d.FindMember("source");
  auto target = d.FindMember("target");
  // A cancel may name the job by id alone.
  if (!(spec.cancel && spec.replication_id)) {
    if (source == d.MemberEnd()) return Status::bad_request("Missing `source` field");
    if (target == d.MemberEnd()) return Status::bad_request("Missing `target` field");
  }
  if (source != d.MemberEnd()) {
    if (Status s = parse_endpoint(source->value, "source", &spec.source); !s.is_ok()) return s;
  }
  if (target != d.MemberEnd()) {
    if (Status s = parse_endpoint(target->value, "target", &spec.target); !s.is_ok()) return s;
  }
  if (Status s = get_bool(d, "continuous", &o.continuous); !s.is_ok()) return s;
  if (Status s = get_bool(d, "create_target", &o.create_target); !s.is_ok()) return s;
  if (Status s = get_bool(d, "use_checkpoints", &o.use_checkpoints); !s.is_ok()) return s;

  if (auto ids = d.FindMember("doc_ids"); ids != d.MemberEnd() && !ids->value.IsNull()) {
    if (!ids->value.IsArray()) return Status::bad_request("`doc_ids` must be an array of strings");
    for (const auto& id : ids->value.GetArray()) {
      if (!id.IsString() || id.GetStringLength() == 0) {
        return Status::bad_request("`doc_ids` must be an array of non-empty strings");
      }
      o.doc_ids.push_back(str(id));
    }
  }
  if (auto f = d.FindMember("filter"); f != d.MemberEnd() && !f->value.IsNull()) {
    if (!f->value.IsString()) return Status::bad_request("`filter` must be a string");
    std::string filter = str(f->value);
    if (filter != "_doc_ids") {
      return Status::bad_request("filter `" + filter +
                                 "` is not supported: divan replicates with `doc_ids` only");
    }
    if (o.doc_ids.empty()) return Status::bad_request("filter `_doc_ids` needs `doc_ids`");
  }
  for (const char* unsupported : {"selector", "query_params", "winning_revs_only"}) {
    auto it = d.FindMember(unsupported);
    if (it == d.MemberEnd() || it->value.IsNull()) continue;
    if (it->value.IsBool() && !it->value.GetBool()) continue;
    return Status::bad_request(std::string("`") + unsupported + "` is not supported by divan's replicator");
  }
  if (auto since = d.FindMember("since_seq"); since != d.MemberEnd() && !since->value.IsNull()) {
    if (!since->value.IsString() && !since->value.IsUint64()) {
      return Status::bad_request("`since_seq` must be a sequence (a string or a number)");
    }
    o.since_seq = replicator::to_json(since->value);
  }
  if (auto b = d.FindMember("worker_batch_size"); b != d.MemberEnd() && !b->value.IsNull()) {
    if (!b->value.IsUint64() || b->value.GetUint64() == 0) {
      return Status::bad_request("`worker_batch_size` must be a positive integer");
    }
    o.batch_size = b->value.GetUint64();
  }
  return spec;
}

}  // namespace divan
