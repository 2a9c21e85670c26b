// Checkpoint documents and the choice of where a replication starts
// (CouchDB's compare_replication_logs), as pure functions.
#include <doctest/doctest.h>

#include "replicator/checkpoint.h"

using divan::ReplicationStats;
using namespace divan::replicator;

namespace {

ReplicationLog log_of(const std::string& json) {
  auto log = parse_log(json);
  REQUIRE(log.is_ok());
  return *log;
}

}  // namespace

TEST_SUITE("replicator") {
  TEST_CASE("the same session on both sides starts at the source's source_last_seq") {
    auto s = log_of(R"({"_rev":"0-3","session_id":"s1","source_last_seq":42,"history":[]})");
    auto t = log_of(R"({"session_id":"s1","source_last_seq":41,"history":[]})");
    CHECK(s.rev == "0-3");
    CHECK(choose_start_seq(s, t) == std::optional<std::string>("42"));
  }

  TEST_CASE("different sessions start at the newest session both histories hold") {
    // The target missed session s3 (its write failed); s2 is common.
    auto s = log_of(R"({"session_id":"s3","source_last_seq":30,"history":[)"
                    R"({"session_id":"s3","recorded_seq":30},{"session_id":"s2","recorded_seq":"20-abc"},)"
                    R"({"session_id":"s1","recorded_seq":10}]})");
    auto t = log_of(R"({"session_id":"s2","source_last_seq":20,"history":[)"
                    R"({"session_id":"s2","recorded_seq":"20-abc"},{"session_id":"s1","recorded_seq":10}]})");
    CHECK(choose_start_seq(s, t) == std::optional<std::string>("\"20-abc\""));
    // The other way round: the source missed the newest session.
    CHECK(choose_start_seq(t, s) == std::optional<std::string>("\"20-abc\""));
  }

  TEST_CASE("logs with no session in common start from the beginning") {
    auto s = log_of(R"({"session_id":"a","source_last_seq":5,"history":[{"session_id":"a","recorded_seq":5}]})");
    auto t = log_of(R"({"session_id":"b","source_last_seq":9,"history":[{"session_id":"b","recorded_seq":9}]})");
    CHECK_FALSE(choose_start_seq(s, t).has_value());
    CHECK_FALSE(choose_start_seq(log_of("{}"), log_of("{}")).has_value());
  }

  TEST_CASE("PouchDB's checkpoint shape is read too") {
    auto s = log_of(R"({"session_id":"p","last_seq":7,"history":[{"session_id":"p","last_seq":7}],"version":1})");
    auto t = log_of(R"({"session_id":"q","last_seq":7,"history":[{"session_id":"q","last_seq":3},{"session_id":"p","last_seq":7}]})");
    CHECK(choose_start_seq(s, t) == std::optional<std::string>("7"));
  }

  TEST_CASE("a checkpoint that is not a JSON object is a bad_request") {
    CHECK(parse_log("[1]").status().code() == divan::ErrorCode::kBadRequest);
    CHECK(parse_log("{").status().code() == divan::ErrorCode::kBadRequest);
  }

  TEST_CASE("build_log puts this session first, drops its older entry and keeps 50 entries") {
    std::string prev = R"({"session_id":"now","history":[{"session_id":"now","recorded_seq":1})";
    for (int i = 0; i < 60; ++i) prev += R"(,{"session_id":"old)" + std::to_string(i) + R"(","recorded_seq":1})";
    prev += "]}";
    ReplicationStats st;
    st.docs_written = 3;
    st.start_last_seq = "1";
    SessionRecord rec{"now", "Thu, 26 Nov 2026 09:00:00 GMT", "Thu, 26 Nov 2026 09:00:01 GMT", &st, "\"9-x\""};
    auto built = log_of(build_log(rec, log_of(prev).history));
    CHECK(built.session_id == "now");
    CHECK(built.source_last_seq == "\"9-x\"");
    REQUIRE(built.history.size() == 50);
    CHECK(built.history[0].session_id == "now");
    CHECK(built.history[0].recorded_seq == "\"9-x\"");
    CHECK(built.history[1].session_id == "old0");
    CHECK(built.history[0].json.find("\"docs_written\":3") != std::string::npos);
  }

  TEST_CASE("rfc1123_date formats a Unix time as CouchDB does") {
    CHECK(rfc1123_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK(rfc1123_date(1709632800LL * 1000000) == "Tue, 05 Mar 2024 10:00:00 GMT");
  }

  TEST_CASE("with_id_and_rev puts _id and _rev first") {
    CHECK(with_id_and_rev(R"({"a":1})", "_local/x", "0-1") == R"({"_id":"_local/x","_rev":"0-1","a":1})");
    CHECK(with_id_and_rev("{}", "_local/x", "") == R"({"_id":"_local/x"})");
  }
}
