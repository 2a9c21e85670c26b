// multipart/mixed responses, as CouchDB writes them for GET /{db}/{docid}
// ?open_revs=... when the client asks for multipart/mixed (CouchDB's
// replicator always does; couchdb-semantics.md §2.6).
#ifndef DIVAN_HTTP_MULTIPART_H_
#define DIVAN_HTTP_MULTIPART_H_

#include <string>
#include <string_view>

namespace divan::http {

// A new boundary: 32 random hex digits (CouchDB uses a random uuid). JSON
// text cannot contain it by chance in practice.
std::string new_boundary();

// Builds a multipart/mixed body: "--B", then per part
// "\r\nContent-Type: ...\r\n\r\n<json>\r\n--B", then the closing "--".
class MultipartMixed {
 public:
  explicit MultipartMixed(std::string boundary);

  // A part holding one document revision.
  void add_json(std::string_view json);
  // A part holding an error object, e.g. {"missing":"3-abc"}
  // (Content-Type: application/json; error="true").
  void add_error_json(std::string_view json);

  // The response's Content-Type: multipart/mixed; boundary="B".
  std::string content_type() const;
  // The finished body. Call once.
  std::string finish();

 private:
  void add(std::string_view content_type, std::string_view json);

  std::string boundary_;
  std::string body_;
};

}  // namespace divan::http

#endif  // DIVAN_HTTP_MULTIPART_H_
