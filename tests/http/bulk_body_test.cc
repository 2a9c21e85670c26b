// Finding the members of a JSON object and the elements of a JSON array as
// the text that was sent (http/bulk_body.h).
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "http/bulk_body.h"

using divan::http::scan_array_elements;
using divan::http::scan_object_members;
using divan::http::scan_object_members_lazily;

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

  TEST_CASE("scan_object_members_lazily agrees with the full scan, or leaves only the array invalid") {
    std::mt19937_64 rng(42);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    // Pieces of documents, with strings that hold brackets, quotes and
    // backslashes, to lead a careless delimiter astray.
    const std::vector<std::string> values = {
        "1.50", "-2E+3", "true", "null", R"("plain")", R"("a]b}c")", R"("q\"uote")",
        R"("back\\")", R"("\\\"x")", R"("\u0041[")", R"([1,[2,{"a":"]"}]])", R"({"k":{"l":[]}})",
        R"("")", R"("\\")"};
    auto doc = [&] {
      std::string d = "{";
      int n = pick(0, 4);
      for (int i = 0; i < n; ++i) {
        d += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":" +
             values[pick(0, static_cast<int>(values.size()) - 1)];
      }
      return d + "}";
    };
    int valid = 0, lazy_only = 0;
    for (int round = 0; round < 20000; ++round) {
      std::string docs = "[";
      int n = pick(0, 5);
      for (int i = 0; i < n; ++i) docs += (i ? (pick(0, 1) ? "," : " ,\n") : "") + doc();
      docs += "]";
      std::vector<std::string> members = {"\"docs\":" + docs, R"("new_edits":false)",
                                          R"("x":[1,"]"])", R"("docs":[])"};
      std::shuffle(members.begin(), members.end(), rng);
      members.resize(pick(1, 4));
      std::string body = "{";
      for (std::size_t i = 0; i < members.size(); ++i) body += (i ? "," : "") + members[i];
      body += pick(0, 3) == 0 ? " }" : "}";
      // Some bodies get damaged: a byte dropped, replaced or added.
      if (pick(0, 2) == 0 && !body.empty()) {
        std::size_t at = static_cast<std::size_t>(pick(0, static_cast<int>(body.size()) - 1));
        static const char kBytes[] = "[]{}\",:\\ a1";
        char c = kBytes[pick(0, static_cast<int>(sizeof kBytes) - 2)];
        switch (pick(0, 2)) {
          case 0: body.erase(at, 1); break;
          case 1: body[at] = c; break;
          default: body.insert(at, 1, c); break;
        }
      }
      CAPTURE(body);
      auto full = scan_object_members(body);
      auto lazy = scan_object_members_lazily(body, "docs");
      if (full.is_ok()) {
        ++valid;
        // The delimiter finds exactly the value the full scan found.
        auto span = divan::http::delimit_member(body, "docs");
        const divan::http::RawMember* docs = divan::http::find_member(*full, "docs");
        // (It gives up on a name written with an escape; here only damage
        // makes such names, and they are none of the generated ones.)
        bool odd_name = false;
        for (const auto& m : *full) odd_name |= m.name != "docs" && m.name != "new_edits" && m.name != "x";
        if (!odd_name) REQUIRE(span.has_value() == (docs != nullptr));
        if (docs != nullptr && span.has_value()) {
          CHECK(span->first == static_cast<std::size_t>(docs->value.data() - body.data()));
          CHECK(span->second - span->first == docs->value.size());
        }
        REQUIRE(lazy.is_ok());
        REQUIRE(lazy->size() == full->size());
        for (std::size_t i = 0; i < full->size(); ++i) {
          CHECK((*lazy)[i].name == (*full)[i].name);
          CHECK((*lazy)[i].value.data() == (*full)[i].value.data());
          CHECK((*lazy)[i].value.size() == (*full)[i].value.size());
        }
        continue;
      }
      if (!lazy.is_ok()) {
        CHECK(lazy.status().code() == full.status().code());
        CHECK(lazy.status().reason() == full.status().reason());
        continue;
      }
      // Accepted by the lazy scan only: its "docs" must be invalid by itself.
      ++lazy_only;
      const divan::http::RawMember* d = divan::http::find_member(*lazy, "docs");
      REQUIRE(d != nullptr);
      rapidjson::Document parsed;
      parsed.Parse(d->value.data(), d->value.size());
      CHECK(parsed.HasParseError());
    }
    // Both kinds of body came up.
    CHECK(valid > 5000);
    CHECK(lazy_only > 100);
  }
}
