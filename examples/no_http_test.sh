#!/usr/bin/env bash
# Checks that a program built with -Dhttp=disabled carries no HTTP code:
# no cpp-httplib symbol in it and no TLS library (libssl) linked.
set -u
exe=${1:?usage: no_http_test.sh PROGRAM}
fail=0
if nm -C "$exe" | grep -q 'httplib::'; then
  echo "no_http: $exe contains cpp-httplib symbols"; fail=1
fi
if ldd "$exe" | grep -q 'libssl'; then
  echo "no_http: $exe links libssl"; fail=1
fi
if ! nm -C "$exe" | grep -q 'divan::DataDir::open'; then
  echo "no_http: $exe does not contain divan's library (is this the right program?)"; fail=1
fi
[ $fail = 0 ] && echo "no_http: ok, $exe links divan without HTTP code"
exit $fail
