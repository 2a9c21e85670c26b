// Credentials in replication documents: shown as "*****", and put back
// when a client writes back what it was shown (divan/replication_scheduler.h).
#include <doctest/doctest.h>

#include <string>

#include "divan/replication_scheduler.h"

using divan::redact_replication_doc;
using divan::redact_url;
using divan::restore_redacted_credentials;

TEST_SUITE("replicator") {
  TEST_CASE("redact_url hides the password of a URL and nothing else") {
    CHECK(redact_url("http://bob:secret@host:5984/db") == "http://bob:*****@host:5984/db");
    CHECK(redact_url("https://bob:secret@host/db") == "https://bob:*****@host/db");
    CHECK(redact_url("http://bob@host/db") == "http://bob@host/db");
    CHECK(redact_url("http://host:5984/db") == "http://host:5984/db");
    CHECK(redact_url("localdb") == "localdb");
    // A password with an unencoded '/' or '@' is hidden whole.
    CHECK(redact_url("http://bob:se/cr@t@host/db") == "http://bob:*****@host/db");
  }

  TEST_CASE("redact_replication_doc hides URL passwords, auth passwords and secret headers") {
    const std::string doc =
        R"({"_id":"r","source":"http://u:p1@a/db","target":{"url":"http://v:p2@b/db",)"
        R"("auth":{"basic":{"username":"v","password":"p3"},"cookie":{"username":"w","password":"p4"}},)"
        R"("headers":{"authorization":"Basic cDU=","COOKIE":"AuthSession=p6","X-Trace":"keep"}},)"
        R"("continuous":true,"worker_batch_size":100})";
    std::string shown = redact_replication_doc(doc);
    CHECK(shown ==
          R"({"_id":"r","source":"http://u:*****@a/db","target":{"url":"http://v:*****@b/db",)"
          R"("auth":{"basic":{"username":"v","password":"*****"},"cookie":{"username":"w","password":"*****"}},)"
          R"("headers":{"authorization":"*****","COOKIE":"*****","X-Trace":"keep"}},)"
          R"("continuous":true,"worker_batch_size":100})");
    // Already redacted: the same again.
    CHECK(redact_replication_doc(shown) == shown);
  }

  TEST_CASE("redact_replication_doc leaves text without secrets exactly as it was") {
    for (const char* doc : {R"({"source":"a","target":"http://h/b","n": 1.50})",
                            R"({"source":{"url":"http://u@h/a"},"target":"b"})", "not json", "[1,2]",
                            R"({"other":"http://u:p@h/db"})"}) {
      CAPTURE(doc);
      CHECK(redact_replication_doc(doc) == doc);
    }
  }

  TEST_CASE("restore_redacted_credentials puts back what a read showed as *****") {
    const std::string stored =
        R"({"source":"http://u:p1@a/db","target":{"url":"http://v:p2@b/db",)"
        R"("auth":{"basic":{"username":"v","password":"p3"}},"headers":{"Cookie":"AuthSession=p6"}}})";
    std::string shown = redact_replication_doc(stored);
    REQUIRE(shown.find("p1") == std::string::npos);
    // Written back unchanged, or with other members edited: the secrets return.
    CHECK(restore_redacted_credentials(shown, stored) == stored);
    std::string edited = shown;
    edited.insert(1, R"("continuous":true,)");
    CHECK(restore_redacted_credentials(edited, stored) ==
          R"({"continuous":true,"source":"http://u:p1@a/db","target":{"url":"http://v:p2@b/db",)"
          R"("auth":{"basic":{"username":"v","password":"p3"}},"headers":{"Cookie":"AuthSession=p6"}}})");
    // The string form of an endpoint may become the object form and back.
    CHECK(restore_redacted_credentials(R"({"source":{"url":"http://u:*****@a/db"}})", stored) ==
          R"({"source":{"url":"http://u:p1@a/db"}})");
    // New secrets are kept as given.
    const std::string fresh = R"({"source":"http://u:new@a/db","target":{"url":"http://v:*****@b/db",)"
                              R"("auth":{"basic":{"username":"v","password":"other"}}}})";
    CHECK(restore_redacted_credentials(fresh, stored) ==
          R"({"source":"http://u:new@a/db","target":{"url":"http://v:p2@b/db",)"
          R"("auth":{"basic":{"username":"v","password":"other"}}}})");
  }

  TEST_CASE("restore_redacted_credentials gives no secret to an endpoint that changed") {
    const std::string stored =
        R"({"source":"http://u:p1@a/db","target":{"url":"http://b/db",)"
        R"("auth":{"basic":{"username":"v","password":"p3"}},"headers":{"Authorization":"Basic cDU="}}})";
    for (const char* changed : {
             R"({"source":"http://u:*****@evil/db"})",          // another host
             R"({"source":"http://u:*****@a/other"})",          // another database
             R"({"source":"http://x:*****@a/db"})",             // another user
             R"({"target":{"url":"http://evil/db","auth":{"basic":{"username":"v","password":"*****"}}}})",
             R"({"target":{"url":"http://b/db","auth":{"basic":{"username":"x","password":"*****"}}}})",
             R"({"target":{"url":"http://evil/db","headers":{"Authorization":"*****"}}})",
             R"({"target":{"url":"http://b/db","auth":{"cookie":{"username":"v","password":"*****"}}}})",
         }) {
      CAPTURE(changed);
      CHECK(restore_redacted_credentials(changed, stored) == changed);
    }
    // Nothing to restore from: a new document, or not JSON.
    CHECK(restore_redacted_credentials(R"({"source":"http://u:*****@a/db"})", "{}") ==
          R"({"source":"http://u:*****@a/db"})");
    CHECK(restore_redacted_credentials("nonsense", stored) == "nonsense");
    // The same endpoint's header does come back.
    CHECK(restore_redacted_credentials(R"({"target":{"url":"http://b/db","headers":{"Authorization":"*****"}}})",
                                       stored) ==
          R"({"target":{"url":"http://b/db","headers":{"Authorization":"Basic cDU="}}})");
  }
}
