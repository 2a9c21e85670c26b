// Parsing multipart/mixed answers (open_revs) in the HTTP tests.
#ifndef DIVAN_TESTS_HTTP_MULTIPART_PARSE_H_
#define DIVAN_TESTS_HTTP_MULTIPART_PARSE_H_

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

namespace divan::testing {

// One part of a multipart body.
struct Part {
  std::map<std::string, std::string> headers;
  std::string body;
};

// Parses a multipart body with boundary `b` strictly as CouchDB writes it:
// "--b" then, per part, "\r\n<headers>\r\n\r\n<body>\r\n--b", then "--".
inline std::vector<Part> parse_multipart(const std::string& body, const std::string& b) {
  std::vector<Part> parts;
  std::string delim = "--" + b;
  REQUIRE(body.starts_with(delim));
  REQUIRE(body.ends_with(delim + "--"));
  std::size_t pos = delim.size();
  while (body.compare(pos, 2, "--") != 0) {
    REQUIRE(body.compare(pos, 2, "\r\n") == 0);
    pos += 2;
    std::size_t head_end = body.find("\r\n\r\n", pos);
    REQUIRE(head_end != std::string::npos);
    Part p;
    std::string head = body.substr(pos, head_end - pos);
    std::size_t hp = 0;
    while (hp < head.size()) {
      std::size_t eol = head.find("\r\n", hp);
      if (eol == std::string::npos) eol = head.size();
      std::string line = head.substr(hp, eol - hp);
      std::size_t colon = line.find(": ");
      REQUIRE(colon != std::string::npos);
      p.headers[line.substr(0, colon)] = line.substr(colon + 2);
      hp = eol + 2;
    }
    std::size_t body_start = head_end + 4;
    std::size_t next = body.find("\r\n" + delim, body_start);
    REQUIRE(next != std::string::npos);
    p.body = body.substr(body_start, next - body_start);
    parts.push_back(std::move(p));
    pos = next + 2 + delim.size();
  }
  REQUIRE(pos + 2 == body.size());
  return parts;
}

}  // namespace divan::testing

#endif  // DIVAN_TESTS_HTTP_MULTIPART_PARSE_H_
