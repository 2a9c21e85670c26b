// The divan binary's command line and config file, and URL decoding.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "divan/auth.h"

#include "http/config.h"
#include "http/context.h"
#include "test_util.h"

using divan::http::Config;
using divan::http::LogLevel;
using divan::http::parse_command_line;
using divan::http::percent_decode;
using divan::http::percent_encode;

TEST_SUITE("http-unit") {
  TEST_CASE("defaults: serve on 127.0.0.1:5984 with ./data") {
    auto c = parse_command_line({});
    REQUIRE(c.is_ok());
    CHECK(c->command == Config::Command::kServe);
    CHECK(c->server.bind == "127.0.0.1");
    CHECK(c->server.port == 5984);
    CHECK(c->server.data_dir == "data");
    CHECK(c->server.log_level == LogLevel::kInfo);
    CHECK_FALSE(c->server.cors.enabled);
  }

  TEST_CASE("flags set every option; help and version are commands") {
    auto c = parse_command_line({"serve", "--bind", "0.0.0.0", "--port", "6000", "--data", "/d",
                                 "--log-level", "debug", "--max-connections", "10",
                                 "--cors-origins", "http://a, http://b"});
    REQUIRE(c.is_ok());
    CHECK(c->server.bind == "0.0.0.0");
    CHECK(c->server.port == 6000);
    CHECK(c->server.data_dir == "/d");
    CHECK(c->server.log_level == LogLevel::kDebug);
    CHECK(c->server.max_connections == 10);
    CHECK(c->server.cors.enabled);
    CHECK(c->server.cors.origins == std::vector<std::string>{"http://a", "http://b"});
    CHECK(parse_command_line({"--help"})->command == Config::Command::kHelp);
    CHECK(parse_command_line({"--version"})->command == Config::Command::kVersion);
  }

  TEST_CASE("bad flags are refused with a message") {
    for (auto args : std::vector<std::vector<std::string>>{
             {"--port"}, {"--port", "x"}, {"--port", "70000"}, {"--nope", "1"},
             {"--log-level", "loud"}, {"--max-connections", "0"}, {"--config", "/no/such/file"}}) {
      auto c = parse_command_line(args);
      CHECK_FALSE(c.is_ok());
      CHECK_FALSE(c.status().reason().empty());
    }
  }

  TEST_CASE("the config file sets the same options, and flags override it") {
    divan::testing::TempDir tmp;
    std::string path = tmp.file("divan.ini");
    std::ofstream(path) << "# comment\n[httpd]\nbind_address = 10.0.0.1\nport = 7000\n"
                        << "[divan]\ndata_dir = /srv/d\n[log]\nlevel = warn\n"
                        << "[couchdb]\nmax_document_size = 1000\n"
                        << "[chttpd]\nmax_http_request_size = 2000\n"
                        << "[cors]\norigins = *\ncredentials = true\n"
                        << "[admins]\nadmin = secret\n";
    auto c = parse_command_line({"--config", path, "--port", "7001"});
    REQUIRE(c.is_ok());
    CHECK(c->server.bind == "10.0.0.1");
    CHECK(c->server.port == 7001);
    CHECK(c->server.data_dir == "/srv/d");
    CHECK(c->server.log_level == LogLevel::kWarn);
    CHECK(c->server.data.max_document_size == 1000);
    CHECK(c->server.max_request_size == 2000);
    CHECK(c->server.cors.credentials);
    CHECK(c->admins.at("admin") == "secret");
    std::ofstream(path) << "[httpd]\nnonsense = 1\n";
    CHECK_FALSE(parse_command_line({"--config", path}).is_ok());
  }

  TEST_CASE("TLS settings come from flags or CouchDB's config keys, certificate and key together") {
    auto c = parse_command_line({"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca-file", "ca.pem"});
    REQUIRE(c.is_ok());
    CHECK(c->server.tls_cert == "c.pem");
    CHECK(c->server.tls_key == "k.pem");
    CHECK(c->server.tls_ca_file == "ca.pem");
    CHECK(parse_command_line({})->server.tls_cert.empty());
    divan::testing::TempDir tmp;
    std::string path = tmp.file("divan.ini");
    std::ofstream(path) << "[ssl]\ncert_file = /etc/c.pem\nkey_file = /etc/k.pem\n"
                        << "[replicator]\nssl_trusted_certificates_file = /etc/ca.pem\n";
    auto f = parse_command_line({"--config", path, "--tls-ca-file", "other.pem"});
    REQUIRE(f.is_ok());
    CHECK(f->server.tls_cert == "/etc/c.pem");
    CHECK(f->server.tls_key == "/etc/k.pem");
    CHECK(f->server.tls_ca_file == "other.pem");
    CHECK(f->server.tls_verify_peers);
    std::ofstream(path) << "[replicator]\nverify_ssl_certificates = false\n";
    CHECK_FALSE(parse_command_line({"--config", path})->server.tls_verify_peers);
    std::ofstream(path) << "[replicator]\nverify_ssl_certificates = maybe\n";
    CHECK_FALSE(parse_command_line({"--config", path}).is_ok());
    for (auto args : std::vector<std::vector<std::string>>{{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}}) {
      auto half = parse_command_line(args);
      REQUIRE_FALSE(half.is_ok());
      CHECK(half.status().reason().find("--tls-cert and --tls-key") != std::string::npos);
    }
  }

  TEST_CASE("admins from flags, the config file and the environment are hashed; clear ones in the file in place") {
    for (const char* bad : {"alice", ":pw", "alice:"}) {
      CAPTURE(bad);
      CHECK(parse_command_line({"--admin", bad}).status().code() == divan::ErrorCode::kBadRequest);
    }
    divan::testing::TempDir tmp;
    std::string ini = tmp.file("divan.ini");
    std::ofstream(ini) << "[admins]\nfile = clear\nover = old\nkept = -pbkdf2-"
                       << divan::pbkdf2_hex("sha", "k", "s", 1).value()
                       << ",s,1\n[chttpd_auth]\niterations = 5\n";
    auto c = parse_command_line({"--config", ini, "--admin", "cli:pw:with:colons", "--admin", "over:new"});
    REQUIRE(c.is_ok());
    CHECK(c->server.auth.iterations == 5);
    CHECK(divan::http::apply_admin_environment("env", "", &*c).code() == divan::ErrorCode::kBadRequest);
    CHECK(divan::http::apply_admin_environment(nullptr, nullptr, &*c).is_ok());
    REQUIRE(divan::http::apply_admin_environment("env", "envpw", &*c).is_ok());
    REQUIRE(divan::http::prepare_admins(&*c, *divan::RandomSource::system()).is_ok());
    const auto& admins = c->server.auth.admins;
    REQUIRE(admins.size() == 5);
    for (auto [name, password] : {std::pair{"file", "clear"}, std::pair{"over", "new"}, std::pair{"kept", "k"},
                                  std::pair{"cli", "pw:with:colons"}, std::pair{"env", "envpw"}}) {
      CAPTURE(name);
      auto cred = divan::Credentials::from_admin_hash(admins.at(name));
      REQUIRE(cred.is_ok());
      CHECK(cred->verify(password));
    }
    CHECK_FALSE(c->server.auth.admin_party);
    // The file's clear passwords were replaced there by hashes (of its own
    // value where a flag overrides it).
    std::ifstream in(ini);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("file = " + admins.at("file") + "\n") != std::string::npos);
    CHECK(text.find("clear") == std::string::npos);
    CHECK(text.find("old") == std::string::npos);
    CHECK(text.find("over = -pbkdf2:sha256-") != std::string::npos);
    CHECK(text.find("iterations = 5") != std::string::npos);

    auto party = parse_command_line({"--insecure-admin-party"});
    REQUIRE(party.is_ok());
    REQUIRE(divan::http::prepare_admins(&*party, *divan::RandomSource::system()).is_ok());
    CHECK(party->server.auth.admin_party);
    CHECK(parse_command_line({"--config", ini, "--bogus"}).status().code() == divan::ErrorCode::kBadRequest);
  }

  TEST_CASE("percent decoding of path segments and query strings") {
    std::string out;
    CHECK(percent_decode("a%2Fb", &out));
    CHECK(out == "a/b");
    CHECK(percent_decode("a+b", &out));
    CHECK(out == "a+b");
    CHECK(percent_decode("a+b", &out, true));
    CHECK(out == "a b");
    CHECK(percent_decode("%e2%82%AC", &out));
    CHECK(out == "\xe2\x82\xac");
    for (const char* bad : {"%", "%2", "%zz", "a%g0"}) CHECK_FALSE(percent_decode(bad, &out));
    CHECK(percent_encode("a/b c") == "a%2Fb%20c");
  }
}
