// StringPool keeps strings' memory between large bulk writes; what it hands
// out must be empty, and what it keeps must stay within its bounds.
#include "db/string_pool.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using divan::db::StringPool;

TEST_SUITE("db") {
  TEST_CASE("a string pool hands back empty strings that kept their memory") {
    StringPool pool(8, 1024);
    std::vector<std::string> given;
    for (int i = 0; i < 3; ++i) given.push_back(std::string(200, static_cast<char>('a' + i)));
    pool.give(&given);
    CHECK(given.empty());
    CHECK(pool.size() == 3);

    std::vector<std::string> taken;
    pool.take(2, &taken);
    REQUIRE(taken.size() == 2);
    CHECK(pool.size() == 1);
    for (const std::string& s : taken) {
      CHECK(s.empty());
      CHECK(s.capacity() >= 200);
    }
    pool.take(5, &taken);  // only one is left; appended after the others
    CHECK(taken.size() == 3);
    CHECK(pool.size() == 0);
    pool.take(5, &taken);
    CHECK(taken.size() == 3);
  }

  TEST_CASE("a string pool keeps no more strings, and none larger, than its bounds") {
    StringPool pool(4, 1024);
    std::vector<std::string> given;
    given.push_back(std::string(4096, 'x'));  // too large: freed
    for (int i = 0; i < 6; ++i) given.push_back(std::string(100, 'y'));
    pool.give(&given);
    CHECK(given.empty());
    CHECK(pool.size() == 4);
    std::vector<std::string> taken;
    pool.take(10, &taken);
    REQUIRE(taken.size() == 4);
    for (const std::string& s : taken) CHECK(s.capacity() < 1024);
  }

  TEST_CASE("take_spare refills from the pool in blocks and then runs dry") {
    StringPool pool(16, 1024);
    std::vector<std::string> given(5, std::string(300, 'z'));
    pool.give(&given);
    std::vector<std::string> spares;
    std::string first = divan::db::take_spare(pool, &spares, 3);
    CHECK(first.empty());
    CHECK(first.capacity() >= 300);
    CHECK(spares.size() == 2);  // a block of three, one handed out
    CHECK(pool.size() == 2);
    for (int i = 0; i < 4; ++i) CHECK(divan::db::take_spare(pool, &spares, 3).capacity() >= 300);
    std::string none = divan::db::take_spare(pool, &spares, 3);
    CHECK(none.capacity() < 300);  // a plain new string
    CHECK(spares.empty());
  }
}
