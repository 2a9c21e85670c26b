// is_valid_utf8 checks document ids (and names) byte by byte, with ASCII
// taken eight bytes at a time: a bad byte must be caught wherever it sits
// relative to those eight-byte steps.
#include "db/names.h"

#include <doctest/doctest.h>

#include <string>

using divan::db::is_valid_utf8;

TEST_SUITE("db") {
  TEST_CASE("is_valid_utf8 finds a bad byte at every offset after ASCII") {
    for (std::size_t lead = 0; lead < 20; ++lead) {
      CAPTURE(lead);
      const std::string ascii(lead, 'a');
      CHECK(is_valid_utf8(ascii));
      CHECK(is_valid_utf8(ascii + "\xc3\xa9" + ascii));        // é
      CHECK(is_valid_utf8(ascii + "\xf0\x9f\x98\x80" + "xyz"));  // U+1F600
      CHECK_FALSE(is_valid_utf8(ascii + "\xff" + ascii));
      CHECK_FALSE(is_valid_utf8(ascii + "\x80" + "abcdefgh"));  // lone continuation
      CHECK_FALSE(is_valid_utf8(ascii + "\xc3"));                // cut short
      CHECK_FALSE(is_valid_utf8(ascii + "\xc0\xaf" + ascii));   // overlong '/'
      CHECK_FALSE(is_valid_utf8(ascii + "\xed\xa0\x80"));       // surrogate U+D800
      CHECK_FALSE(is_valid_utf8(ascii + "\xf4\x90\x80\x80"));   // above U+10FFFF
    }
  }
}
