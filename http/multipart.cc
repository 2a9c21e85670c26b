#include "http/multipart.h"

#include "divan/options.h"

namespace divan::http {

std::string new_boundary() {
  unsigned char bytes[16];
  RandomSource::system()->fill(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

MultipartMixed::MultipartMixed(std::string boundary) : boundary_(std::move(boundary)) {
  body_ = "--" + boundary_;
}

void MultipartMixed::add(std::string_view content_type, std::string_view json) {
  body_ += "\r\nContent-Type: ";
  body_ += content_type;
  body_ += "\r\n\r\n";
  body_ += json;
  body_ += "\r\n--";
  body_ += boundary_;
}

void MultipartMixed::add_json(std::string_view json) { add("application/json", json); }

void MultipartMixed::add_error_json(std::string_view json) {
  add("application/json; error=\"true\"", json);
}

std::string MultipartMixed::content_type() const {
  return "multipart/mixed; boundary=\"" + boundary_ + "\"";
}

std::string MultipartMixed::finish() {
  body_ += "--";
  return std::move(body_);
}

}  // namespace divan::http
