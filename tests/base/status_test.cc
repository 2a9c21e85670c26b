#include <doctest/doctest.h>

#include "divan/status.h"

using divan::ErrorCode;
using divan::Result;
using divan::Status;

TEST_SUITE("base") {
  TEST_CASE("a default Status is ok and names itself ok") {
    Status s;
    CHECK(s.is_ok());
    CHECK(s.error() == "ok");
    CHECK(s.to_string() == "ok");
  }

  TEST_CASE("error statuses carry CouchDB's error names and the reason") {
    CHECK(Status::conflict().error() == "conflict");
    CHECK(Status::conflict().reason() == "Document update conflict.");
    CHECK(Status::not_found("missing").to_string() == "not_found: missing");
    CHECK(Status(ErrorCode::kIllegalDocId, "x").error() == "illegal_docid");
    CHECK(Status(ErrorCode::kDocumentTooLarge, "x").error() == "document_too_large");
    CHECK(Status(ErrorCode::kIllegalDatabaseName, "x").error() == "illegal_database_name");
    CHECK(Status(ErrorCode::kInternal, "x").error() == "internal_error");
    CHECK_FALSE(Status::bad_request("x").transient());
    CHECK(Status::io_error("x", true).transient());
  }

  TEST_CASE("a Result holds either a value or an error") {
    Result<int> good = 42;
    REQUIRE(good.is_ok());
    CHECK(*good == 42);
    CHECK(good.status().is_ok());
    Result<int> bad = Status::not_found("missing");
    CHECK_FALSE(bad.is_ok());
    CHECK(bad.status().error() == "not_found");
  }
}
