// TLS: `divan serve --tls-cert/--tls-key` serving HTTPS, HttpPeer and
// `divan replicate` verifying an https peer's certificate (against a CA
// file or the system's store), POST /_replicate with --tls-ca-file, and
// HttpPeer's cookie sessions. The certificates are made here, by a test CA
// that exists only for the test, with OpenSSL's C API.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "divan/data_dir.h"
#include "divan/http_peer.h"
#include "http_peer_test_util.h"
#include "raw_http.h"
#include "server_process.h"
#include "test_util.h"

using divan::ErrorCode;
using divan::HttpPeerOptions;
using divan::PeerAuth;
using divan::testing::FakeServer;
using divan::testing::open_peer;
using divan::testing::Resp;
using divan::testing::ServerProcess;
using divan::testing::TempDir;

namespace {

// ---- a test PKI ----

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Key make_key() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  REQUIRE(ctx != nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = EVP_PKEY_keygen_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1 &&
            EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  REQUIRE(ok);
  return Key(key, EVP_PKEY_free);
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  REQUIRE_MESSAGE(ext != nullptr, value);
  REQUIRE(X509_add_ext(cert, ext, -1) == 1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`: a self-signed CA when `issuer` is
// null, else a server certificate for `san` ("IP:...,DNS:...") signed by
// `issuer` with `issuer_key`.
Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, const char* san) {
  static long serial = 1;
  Cert cert(X509_new(), X509_free);
  REQUIRE(cert != nullptr);
  X509* x = cert.get();
  REQUIRE(X509_set_version(x, 2) == 1);  // v3
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr);
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600) != nullptr);
  REQUIRE(X509_set_pubkey(x, key) == 1);
  X509_NAME* name = X509_get_subject_name(x);
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(cn), -1, -1, 0) == 1);
  REQUIRE(X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  add_extension(x, &ctx, NID_subject_key_identifier, "hash");
  if (issuer == nullptr) {
    add_extension(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(x, &ctx, NID_authority_key_identifier, "keyid:always");
    add_extension(x, &ctx, NID_basic_constraints, "CA:FALSE");
    add_extension(x, &ctx, NID_key_usage, "critical,digitalSignature");
    add_extension(x, &ctx, NID_ext_key_usage, "serverAuth");
    add_extension(x, &ctx, NID_subject_alt_name, san);
  }
  REQUIRE(X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0);
  return cert;
}

void write_cert(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  CHECK(PEM_write_X509(f, cert) == 1);
  std::fclose(f);
}

void write_key(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  CHECK(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  std::fclose(f);
}

// The test CA (ca.pem) and, signed by it, a certificate for 127.0.0.1 and
// localhost (server.pem, server.key) and one for another host only
// (other.pem, other.key), in a fresh temp folder.
struct Pki {
  TempDir dir;
  std::string ca = dir.file("ca.pem");
  std::string cert = dir.file("server.pem"), key = dir.file("server.key");
  std::string other_cert = dir.file("other.pem"), other_key = dir.file("other.key");

  Pki() {
    Key ca_key = make_key();
    Cert ca_cert = make_cert(ca_key.get(), "divan test CA", nullptr, nullptr, nullptr);
    write_cert(ca, ca_cert.get());
    Key server_key = make_key();
    write_cert(cert, make_cert(server_key.get(), "127.0.0.1", ca_cert.get(), ca_key.get(),
                               "IP:127.0.0.1,DNS:localhost").get());
    write_key(key, server_key.get());
    Key elsewhere_key = make_key();
    write_cert(other_cert, make_cert(elsewhere_key.get(), "elsewhere.example", ca_cert.get(), ca_key.get(),
                                     "DNS:elsewhere.example").get());
    write_key(other_key, elsewhere_key.get());
  }

  std::vector<std::string> serve_args() const { return {"--tls-cert", cert, "--tls-key", key}; }
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  REQUIRE(out.good());
}

// ---- running the binary ----

struct Run {
  int status = -1;  // exit status; -1 if killed at the deadline or by a signal
  std::string out;  // stdout and stderr
};

// Runs the divan binary with `args` and returns its exit status and output;
// kills it if it has not ended after `limit` (a server that should have
// refused to start). It runs with an admin from the environment, so that a
// server gets as far as its TLS settings.
Run run_divan(const std::vector<std::string>& args,
              std::chrono::seconds limit = std::chrono::seconds(60)) {
  const char* bin = std::getenv("DIVAN_BIN");
  REQUIRE_MESSAGE(bin != nullptr, "DIVAN_BIN is not set");
  std::vector<std::string> argv_s = {bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    setenv("DIVAN_USER", "admin", 1);
    setenv("DIVAN_PASSWORD", "pw", 1);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  Run run;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool killed = false;
  for (;;) {  // until the pipe closes: the child (and anything it started) is done
    pollfd p{fds[0], POLLIN, 0};
    int ready = ::poll(&p, 1, 100);
    if (ready > 0) {
      char buf[4096];
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      run.out.append(buf, static_cast<std::size_t>(n));
    } else if (!killed && std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  }
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  run.status = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// A data folder holding database `name` with `count` documents d0, d1, ...
void make_local_db(const std::string& data, const std::string& name, int count) {
  auto dir = divan::DataDir::open(data);
  REQUIRE(dir.is_ok());
  auto db = (*dir)->create_database(name);
  REQUIRE(db.is_ok());
  for (int i = 0; i < count; ++i) {
    REQUIRE((*db)->put(R"({"_id":"d)" + std::to_string(i) + R"(","n":)" + std::to_string(i) + "}").is_ok());
  }
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("divan serve --tls-cert --tls-key speaks HTTPS to clients that trust its CA, and only HTTPS") {
    Pki pki;
    ServerProcess s(pki.serve_args());
    REQUIRE(s.tls());
    CHECK(contains(s.log(), "listening on https://127.0.0.1:" + std::to_string(s.port())));
    s.set_ca_file(pki.ca);
    Resp root = s.get("/");
    REQUIRE(root.status == 200);
    CHECK(contains(root.body, R"("couchdb":"Welcome")"));
    Resp made = s.put("/db");
    REQUIRE(made.status == 201);
    CHECK(made.header("Location") == s.origin() + "/db");
    CHECK(s.post("/db", R"({"_id":"x"})").status == 201);
    CHECK(s.get("/db/x").status == 200);

    // The system's CAs do not know the test CA: the certificate is refused.
    httplib::Client untrusting(s.origin());
    untrusting.enable_server_certificate_verification(true);
    auto refused = untrusting.Get("/");
    CHECK(!refused);
    CHECK(refused.error() == httplib::Error::SSLServerVerification);

    // Plain HTTP to the HTTPS port gets no HTTP answer.
    httplib::Client plain("127.0.0.1", s.port());
    plain.set_read_timeout(10, 0);
    auto cleartext = plain.Get("/");
    CHECK(!cleartext);
    // ... and the server goes on serving HTTPS.
    CHECK(s.get("/db/x").status == 200);
  }

  TEST_CASE("idle HTTPS connections, before or after their handshake, do not hold up SIGTERM") {
    // cpp-httplib's SSLServer waited for the next request for the whole
    // keep-alive timeout (5 s) after stop(), and a silent client held its
    // thread in the handshake for the read timeout; divan's connection loop
    // ends both waits at once.
    Pki pki;
    ServerProcess s(pki.serve_args());
    httplib::Client idle(s.origin());
    idle.set_ca_cert_path(pki.ca);
    idle.enable_server_certificate_verification(true);
    idle.set_keep_alive(true);
    auto r = idle.Get("/_up");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    // And a connection that has not even begun its handshake.
    const int silent = divan::testing::connect_loopback(s.port());
    REQUIRE(silent >= 0);
    auto start = std::chrono::steady_clock::now();
    CHECK(s.stop() == 0);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(4000));
    ::close(silent);
  }

  TEST_CASE("the config file's [ssl] cert_file and key_file serve HTTPS too") {
    Pki pki;
    const std::string ini = pki.dir.file("divan.ini");
    write_file(ini, "[ssl]\ncert_file = " + pki.cert + "\nkey_file = " + pki.key + "\n");
    ServerProcess s({"--config", ini});
    CHECK(s.tls());
    s.set_ca_file(pki.ca);
    CHECK(s.get("/").status == 200);
  }

  TEST_CASE("divan serve refuses a missing, unreadable, invalid or mismatched certificate or key") {
    Pki pki;
    const std::string garbage = pki.dir.file("garbage.pem");
    write_file(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    const std::string only_cert_ini = pki.dir.file("only_cert.ini");
    write_file(only_cert_ini, "[ssl]\ncert_file = " + pki.cert + "\n");
    struct Case {
      std::vector<std::string> args;
      int status;
      const char* message;
    };
    const std::string missing = pki.dir.file("missing.pem");
    for (const Case& c : {
             Case{{"--tls-cert", pki.cert}, 2, "HTTPS needs both --tls-cert and --tls-key"},
             Case{{"--tls-key", pki.key}, 2, "HTTPS needs both --tls-cert and --tls-key"},
             Case{{"--config", only_cert_ini}, 2, "[ssl] cert_file and key_file"},
             Case{{"--tls-cert", missing, "--tls-key", pki.key}, 1, "cannot read TLS certificate"},
             Case{{"--tls-cert", pki.cert, "--tls-key", missing}, 1, "cannot read TLS private key"},
             Case{{"--tls-cert", garbage, "--tls-key", pki.key}, 1, "is not a PEM certificate"},
             Case{{"--tls-cert", pki.cert, "--tls-key", garbage}, 1, "is not an unencrypted PEM private key"},
             Case{{"--tls-cert", pki.cert, "--tls-key", pki.other_key}, 1, "does not belong to certificate"},
         }) {
      TempDir data;
      std::vector<std::string> args = {"serve", "--port", "0", "--data", data.file("data")};
      args.insert(args.end(), c.args.begin(), c.args.end());
      Run r = run_divan(args, std::chrono::seconds(20));
      INFO(r.out);
      CHECK(r.status == c.status);
      CHECK(contains(r.out, c.message));
      CHECK(!contains(r.out, "listening on"));
      // Refused before anything was made.
      CHECK(!std::filesystem::exists(data.file("data")));
    }
  }

  TEST_CASE("an https HttpPeer verifies the certificate and its host name, with clear permanent errors") {
    Pki pki;
    ServerProcess s(pki.serve_args());
    s.set_ca_file(pki.ca);
    REQUIRE(s.put("/db").status == 201);
    // Credentials only where the connection fails before they are sent.
    const std::string anonymous = "https://127.0.0.1:" + std::to_string(s.port()) + "/db";
    const std::string url = "https://bob:s3cret@127.0.0.1:" + std::to_string(s.port()) + "/db";
    CHECK(open_peer(url)->id() == "https://bob@127.0.0.1:" + std::to_string(s.port()) + "/db");

    HttpPeerOptions trusting;
    trusting.ca_file = pki.ca;
    auto ok = open_peer(anonymous, trusting);
    CHECK(ok->id() == anonymous);
    auto info = ok->info();
    REQUIRE_MESSAGE(info.is_ok(), info.status().to_string());
    CHECK(info->db_name == "db");

    // The system's store does not hold the test CA.
    auto untrusted = open_peer(url)->info();
    REQUIRE(!untrusted.is_ok());
    CHECK(untrusted.status().code() == ErrorCode::kBadRequest);
    CHECK(!untrusted.status().transient());
    CHECK(contains(untrusted.status().reason(), "the server's certificate could not be verified"));
    CHECK(contains(untrusted.status().reason(), "https://bob:*****@127.0.0.1:"));
    CHECK(!contains(untrusted.status().reason(), "s3cret"));

    // Opting out of verification (never the default) connects anyway.
    HttpPeerOptions blind;
    blind.verify_certificates = false;
    CHECK(open_peer(anonymous, blind)->info().is_ok());

    // A CA file that cannot be read.
    HttpPeerOptions lost;
    lost.ca_file = pki.dir.file("nope.pem");
    auto no_ca = open_peer(url, lost)->info();
    REQUIRE(!no_ca.is_ok());
    CHECK(no_ca.status().code() == ErrorCode::kBadRequest);
    CHECK(!no_ca.status().transient());
    CHECK(contains(no_ca.status().reason(), "could not load trusted CA certificates from " + lost.ca_file));

    // A certificate the CA signed, but for another host.
    ServerProcess elsewhere({"--tls-cert", pki.other_cert, "--tls-key", pki.other_key});
    auto wrong_host =
        open_peer("https://bob:s3cret@127.0.0.1:" + std::to_string(elsewhere.port()) + "/db", trusting)->info();
    REQUIRE(!wrong_host.is_ok());
    CHECK(wrong_host.status().code() == ErrorCode::kBadRequest);
    CHECK(!wrong_host.status().transient());
    CHECK(contains(wrong_host.status().reason(), "not a certificate for 127.0.0.1"));
    CHECK(!contains(wrong_host.status().reason(), "s3cret"));

    // https to a plain HTTP server: the handshake fails, which may pass.
    ServerProcess plain;
    auto not_tls = open_peer("https://127.0.0.1:" + std::to_string(plain.port()) + "/db", trusting)->info();
    REQUIRE(!not_tls.is_ok());
    CHECK(not_tls.status().code() == ErrorCode::kIoError);
    CHECK(not_tls.status().transient());
    CHECK(contains(not_tls.status().reason(), "TLS handshake failed"));
  }

  TEST_CASE("divan replicate to an https divan trusts --ca-file, and refuses without it or for another host") {
    Pki pki;
    ServerProcess s(pki.serve_args());
    s.set_ca_file(pki.ca);
    TempDir local;
    const std::string data = local.file("data");
    make_local_db(data, "src", 3);
    const std::string target = s.origin() + "/copy";

    Run refused = run_divan({"replicate", "src", target, "--create-target", "--data", data, "--quiet"});
    INFO(refused.out);
    CHECK(refused.status == 1);
    CHECK(contains(refused.out, "the server's certificate could not be verified"));
    CHECK(s.get("/copy").status == 404);  // nothing written, not even the database

    Run done = run_divan({"replicate", "src", target, "--create-target", "--data", data, "--quiet",
                          "--ca-file", pki.ca});
    INFO(done.out);
    CHECK(done.status == 0);
    CHECK(contains(done.out, "3 written"));
    for (int i = 0; i < 3; ++i) CHECK(s.get("/copy/d" + std::to_string(i)).status == 200);

    // The same CA, but a certificate for another host name.
    ServerProcess elsewhere({"--tls-cert", pki.other_cert, "--tls-key", pki.other_key});
    Run wrong_host = run_divan({"replicate", "src", elsewhere.origin() + "/copy", "--create-target", "--data",
                                data, "--quiet", "--ca-file", pki.ca});
    INFO(wrong_host.out);
    CHECK(wrong_host.status == 1);
    CHECK(contains(wrong_host.out, "not a certificate for 127.0.0.1"));
  }

  TEST_CASE("POST /_replicate pulls from an https divan when the server trusts its CA with --tls-ca-file") {
    Pki pki;
    ServerProcess secure(pki.serve_args());
    secure.set_ca_file(pki.ca);
    REQUIRE(secure.put("/src").status == 201);
    for (const char* id : {"a", "b"}) REQUIRE(secure.post("/src", std::string(R"({"_id":")") + id + "\"}").status == 201);
    const std::string body = R"({"source":")" + secure.origin() + R"(/src","target":"dst","create_target":true})";

    ServerProcess trusting({"--tls-ca-file", pki.ca});
    Resp r = trusting.post("/_replicate", body);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(trusting.get("/dst/a").status == 200);
    CHECK(trusting.get("/dst/b").status == 200);

    // Without the CA file the system's store is used, which refuses it.
    ServerProcess untrusting;
    Resp refused = untrusting.post("/_replicate", body);
    INFO(refused.body);
    CHECK(refused.status == 400);
    CHECK(contains(refused.body, "certificate could not be verified"));
    CHECK(untrusting.get("/dst").status == 404);

    // CouchDB's [replicator] verify_ssl_certificates = false turns the check
    // off (with a warning at start).
    divan::testing::TempDir tmp;
    const std::string ini = tmp.file("divan.ini");
    std::ofstream(ini) << "[replicator]\nverify_ssl_certificates = false\n";
    ServerProcess unchecking({"--config", ini});
    Resp unchecked = unchecking.post("/_replicate", body);
    INFO(unchecked.body);
    CHECK(unchecked.status == 200);
    CHECK(unchecking.get("/dst/a").status == 200);
    CHECK(contains(unchecking.log(), "do not check the certificates"));
  }

  TEST_CASE("POST /_replicate logs in to a secured https divan with auth.cookie") {
    Pki pki;
    ServerProcess secure({"--tls-cert", pki.cert, "--tls-key", pki.key, "--admin", "admin:pw;&="});
    secure.set_ca_file(pki.ca);
    const httplib::Headers admin = {httplib::make_basic_authentication_header("admin", "pw;&=")};
    REQUIRE(secure.request("PUT", "/src", "", "application/json", admin).status == 201);
    REQUIRE(secure.request("POST", "/src", R"({"_id":"a"})", "application/json", admin).status == 201);
    REQUIRE(secure.get("/src/a").status == 401);  // not without credentials

    ServerProcess puller({"--tls-ca-file", pki.ca});
    auto body = [&](const std::string& password) {
      return R"({"source":{"url":")" + secure.origin() +
             R"(/src","auth":{"cookie":{"username":"admin","password":")" + password +
             R"("}}},"target":"dst","create_target":true})";
    };
    Resp r = puller.post("/_replicate", body("pw;&="));
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(puller.get("/dst/a").status == 200);
    CHECK(contains(secure.log(), "POST /_session 200"));

    Resp refused = puller.post("/_replicate", body("wrong-pw"));
    INFO(refused.body);
    CHECK(refused.status == 401);
    CHECK(!contains(refused.body, "wrong-pw"));
  }

  TEST_CASE("a cookie session logs in with a form, sends the cookie, adopts new ones, and logs in again on 401") {
    // A fake server with sessions: tokens it accepts, what it was sent.
    struct State {
      std::mutex mu;
      std::string password = "p&ss w0rd=%";
      std::vector<std::string> valid;
      int logins = 0;
      std::string login_type, login_body;
      std::vector<std::string> cookies, authorizations;  // of GET /db, in order
    } st;
    FakeServer f;
    f.serve_welcome();
    f.http().Post("/_session", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(st.mu);
      ++st.logins;
      st.login_type = req.get_header_value("Content-Type");
      st.login_body = req.body;
      if (req.get_param_value("name") != "ann" || req.get_param_value("password") != st.password) {
        res.status = 401;
        res.set_header("Set-Cookie", "AuthSession=; Path=/; HttpOnly; Max-Age=0");
        res.set_content(R"({"error":"unauthorized","reason":"Name or password is incorrect."})", "application/json");
        return;
      }
      std::string token = "tok" + std::to_string(st.logins);
      st.valid.push_back(token);
      res.set_header("Set-Cookie", "AuthSession=" + token + "; Version=1; Path=/; HttpOnly; Max-Age=600");
      res.set_content(R"({"ok":true,"name":"ann","roles":[]})", "application/json");
    });
    f.http().Get("/db", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(st.mu);
      std::string cookie = req.get_header_value("Cookie");
      st.cookies.push_back(cookie);
      st.authorizations.push_back(req.get_header_value("Authorization"));
      bool ok = false;
      for (const auto& t : st.valid) ok = ok || cookie == "AuthSession=" + t;
      if (!ok) {
        res.status = 401;
        res.set_content(R"({"error":"unauthorized","reason":"You are not authorized to access this db."})",
                        "application/json");
        return;
      }
      if (cookie == "AuthSession=tok1") {  // refreshed, as CouchDB does after a tenth of its life
        st.valid.push_back("tok1r");
        res.set_header("Set-Cookie", "AuthSession=tok1r; Version=1; Path=/; HttpOnly; Max-Age=600");
      }
      res.set_content(R"({"db_name":"db","update_seq":0,"instance_start_time":"0"})", "application/json");
    });
    f.start();

    HttpPeerOptions o;
    o.auth = PeerAuth::kSession;
    o.username = "ann";
    o.password = "p&ss w0rd=%";
    auto peer = open_peer(f.url("db"), o);
    REQUIRE(peer->info().is_ok());
    {
      std::lock_guard<std::mutex> lock(st.mu);
      CHECK(st.logins == 1);
      CHECK(st.login_type == "application/x-www-form-urlencoded");
      CHECK(st.login_body == "name=ann&password=p%26ss%20w0rd%3D%25");
      CHECK(st.cookies == std::vector<std::string>{"AuthSession=tok1"});
      CHECK(st.authorizations == std::vector<std::string>{""});  // no Basic beside the cookie
    }
    // The refreshed cookie is the one sent next.
    REQUIRE(peer->info().is_ok());
    {
      std::lock_guard<std::mutex> lock(st.mu);
      CHECK(st.cookies.back() == "AuthSession=tok1r");
      CHECK(st.logins == 1);
      st.valid.clear();  // every session expires
    }
    // A 401: one new login, then the request again with the new cookie.
    REQUIRE(peer->info().is_ok());
    {
      std::lock_guard<std::mutex> lock(st.mu);
      CHECK(st.logins == 2);
      CHECK(st.cookies == std::vector<std::string>{"AuthSession=tok1", "AuthSession=tok1r", "AuthSession=tok1r",
                                                   "AuthSession=tok2"});
      st.valid.clear();
      st.password = "changed";
    }
    // A refused login ends the call with unauthorized, after one try, and
    // names no password.
    auto refused = peer->info();
    REQUIRE(!refused.is_ok());
    CHECK(refused.status().code() == ErrorCode::kUnauthorized);
    CHECK(!refused.status().transient());
    CHECK(contains(refused.status().reason(), "Name or password is incorrect."));
    CHECK(contains(refused.status().reason(), "/_session"));
    CHECK(!contains(refused.status().reason(), "w0rd"));
    CHECK(!contains(refused.status().reason(), "changed"));
    std::lock_guard<std::mutex> lock(st.mu);
    CHECK(st.logins == 3);
    CHECK(st.cookies.size() == 5);
  }

  TEST_CASE("a cookie session falls back to Basic auth on a server without _session (404 or 405)") {
    for (int status : {404, 405}) {
      CAPTURE(status);
      std::mutex mu;
      int logins = 0;
      std::vector<std::string> authorizations, cookies;
      FakeServer f;
      f.serve_welcome();
      if (status == 405) {
        f.http().Post("/pre/_session", [&](const httplib::Request&, httplib::Response& res) {
          std::lock_guard<std::mutex> lock(mu);
          ++logins;
          res.status = 405;
          res.set_content(R"({"error":"method_not_allowed","reason":"Only GET allowed"})", "application/json");
        });
      }
      f.http().Get("/pre/db", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(mu);
        authorizations.push_back(req.get_header_value("Authorization"));
        cookies.push_back(req.get_header_value("Cookie"));
        res.set_content(R"({"db_name":"db","update_seq":0,"instance_start_time":"0"})", "application/json");
      });
      f.http().Get("/pre/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"couchdb":"Welcome"})", "application/json");
      });
      f.start();
      HttpPeerOptions o;
      o.auth = PeerAuth::kSession;
      // The URL's credentials, and a server root under a path prefix.
      auto peer = open_peer("http://ann:pw@127.0.0.1:" + std::to_string(f.port()) + "/pre/db", o);
      REQUIRE(peer->info().is_ok());
      REQUIRE(peer->info().is_ok());
      std::lock_guard<std::mutex> lock(mu);
      CHECK(logins == (status == 405 ? 1 : 0));
      CHECK(authorizations == std::vector<std::string>(2, "Basic YW5uOnB3"));  // ann:pw
      CHECK(cookies == std::vector<std::string>(2, ""));
    }
  }

  TEST_CASE("a session login goes to the server root of the URL, and a server error there may pass") {
    std::mutex mu;
    std::vector<std::string> logins;
    FakeServer f;
    f.http().Post(R"(/.*_session)", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      logins.push_back(req.path);
      res.status = 503;
      res.set_content(R"({"error":"service_unavailable","reason":"busy"})", "application/json");
    });
    f.start();
    HttpPeerOptions o;
    o.auth = PeerAuth::kSession;
    o.username = "ann";
    o.password = "s3cret";
    auto info = open_peer(f.url("a/b/db"), o)->info();
    REQUIRE(!info.is_ok());
    CHECK(info.status().code() == ErrorCode::kIoError);
    CHECK(info.status().transient());
    CHECK(!contains(info.status().reason(), "s3cret"));
    std::lock_guard<std::mutex> lock(mu);
    CHECK(logins == std::vector<std::string>{"/a/b/_session"});
  }
}
