// Finding the members of a JSON object and the elements of a JSON array as
// the text that was sent (http/bulk_body.h).
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/bulk_body.h"

using divan::http::scan_array_elements;
using divan::http::scan_object_members;

namespace {

std::vector<std::string> elements(std::string_view json) {
  auto r = scan_array_elements(json);
  REQUIRE(r.is_ok());
  return std::vector<std::string>(r->begin(), r->end());
}

}  // namespace

TEST_SUITE("http-unit") {
  TEST_CASE("scan_array_elements gives each element exactly as sent") {
    using V = std::vector<std::string>;
    CHECK(elements("[]") == V{});
    CHECK(elements(" [ ] ") == V{});
    CHECK(elements(R"([{"a":1.50}])") == V{R"({"a":1.50})"});
    CHECK(elements(" [ {\"a\" : [1, {\"b\":[]}]} ,\n\t{} ,[2,3], 12345678901234567890123 ,\"s,]\" , null,true ] ") ==
          V{"{\"a\" : [1, {\"b\":[]}]}", "{}", "[2,3]", "12345678901234567890123", "\"s,]\"", "null", "true"});
  }

  TEST_CASE("scan_array_elements refuses what is not one JSON array") {
    for (const char* bad : {"", "[", "[1,]", "[1] x", "{}", "\"[]\"", "[1 2]"}) {
      CAPTURE(bad);
      auto r = scan_array_elements(bad);
      CHECK_FALSE(r.is_ok());
    }
    CHECK(scan_array_elements("{}").status().reason() == "`docs` parameter must be an array.");
  }

  TEST_CASE("scan_object_members still finds members by name") {
    auto r = scan_object_members(R"({"_id":"a","v":1.50,"_id":"b"})");
    REQUIRE(r.is_ok());
    REQUIRE(r->size() == 3);
    CHECK(divan::http::find_member(*r, "_id")->value == "\"b\"");
    CHECK(divan::http::find_member(*r, "v")->value == "1.50");
  }
}
