// GET and POST /{db}/_changes: the changes feed in all its modes (see
// changes_feed.h for how a feed runs).
//
// A response that is whole after its first read (most normal requests,
// a longpoll that finds rows at once) is sent as one body. Anything longer
// is streamed with cpp-httplib's chunked content provider, which runs on
// the connection's thread after this handler returns: the feed is shared
// with the provider and lives as long as the response.
#include <httplib.h>

#include <memory>

#include "http/changes_feed.h"
#include "http/handlers.h"

namespace divan::http {

void handle_changes(Ctx& ctx, const std::string& db_name) {
  if (!ctx.is("GET") && !ctx.is("POST")) {
    return ctx.error(HttpError::method_not_allowed("GET,HEAD,POST"));
  }
  // CouchDB requires the JSON Content-Type on every POST, even an empty one.
  if (ctx.is("POST") && !ctx.json_content_type()) return ctx.error(HttpError::bad_content_type());
  auto params = parse_changes_params(ctx);
  if (!params.is_ok()) return ctx.error(params.status());
  const FeedKind kind = params->feed;
  auto db = ctx.open_db(db_name);
  if (!db) return;

  auto feed = std::make_shared<ChangesFeed>(ctx.server(), std::move(db), std::move(params.value()));
  if (Status s = feed->start(); !s.is_ok()) return ctx.error(s);

  httplib::Response& res = ctx.res();
  res.status = 200;
  if (kind == FeedKind::kEventsource) res.set_header("Cache-Control", "no-cache");
  if (feed->complete()) {
    res.set_content(feed->take_output(), feed->content_type());
    return;
  }
  if (ctx.server().stopping()) {
    // A live feed ends at once now; it is answered whole, not streamed, as
    // cpp-httplib may already have stopped calling providers (Server::stop).
    std::string whole;
    const bool ok = feed->run([&whole](std::string_view data) {
      whole.append(data);
      return true;
    });
    if (!ok) return ctx.error(Status::io_error("the changes feed failed"));
    res.set_content(std::move(whole), feed->content_type());
    return;
  }
  if (kind != FeedKind::kNormal) {
    // cpp-httplib compresses a streamed response when the client accepts
    // gzip, and its compressor only flushes at the end (Z_NO_FLUSH): rows
    // and heartbeats of a live feed would sit in it indefinitely. It
    // decides from the request's Accept-Encoding after this handler
    // returns, so live feeds drop that header. The Request is cpp-httplib's
    // own non-const object, handed to handlers as const; nothing else reads
    // the header afterwards.
    const_cast<httplib::Request&>(ctx.req()).headers.erase("Accept-Encoding");
  }
  Server* server = &ctx.server();  // outlives every connection
  res.set_chunked_content_provider(
      feed->content_type(), [feed, server](std::size_t, httplib::DataSink& sink) {
        bool ok = feed->run([&sink](std::string_view data) {
          return sink.is_writable() && sink.write(data.data(), data.size());
        });
        if (ok) sink.done();
        // false: cpp-httplib closes the connection. Also when the server is
        // stopping: the response is complete, but Server::stop() wakes feeds
        // before cpp-httplib stops, so the connection could otherwise go back
        // to waiting for a next request, for up to the keep-alive timeout,
        // and hold up the shutdown.
        return ok && !server->stopping();
      });
}

}  // namespace divan::http
