#!/usr/bin/env bash
# Checks that dependencies between divan's layers point one way, as the build
# links them: base <- storage, rev <- changes <- db <- replicator <- http.
# Fails listing every #include that crosses a layer the wrong way.
set -u
root=${1:?usage: layering_test.sh SOURCE_ROOT}
cd "$root" || exit 2
fail=0
check() {  # check DIR FORBIDDEN_PATTERN WHY
  local hits
  hits=$(grep -rnE "^#include [\"<]($2)" "$1" 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering: $1 must not include $2 ($3):"
    echo "$hits"
    fail=1
  fi
}
check src/base      'storage/|rev/|changes/|db/|replicator/|http/|lmdb\.h|rapidjson|httplib' 'base is the bottom layer'
check src/storage   'rev/|changes/|db/|replicator/|http/|rapidjson|httplib' 'storage knows only base'
check src/rev       'storage/|changes/|db/|replicator/|http/|lmdb\.h|rapidjson|httplib' 'rev trees are pure values'
check src/changes   'storage/|db/|replicator/|http/|lmdb\.h|httplib' 'changes notification is pure'
check src/auth      'storage/|rev/|changes/|db/|replicator/|http/|lmdb\.h|httplib' 'auth rules are pure'
check src/db        'replicator/|http/|lmdb\.h|httplib' 'the core knows neither replicator nor http, and only storage includes lmdb.h'
check include/divan 'lmdb\.h|rapidjson|httplib|openssl|storage/|rev/|changes/|db/' 'public headers carry no library or internal types'
check replicator    'http/|httplib|lmdb\.h' 'the replicator does not know http'
check http          'storage/|rev/|changes/|db/|src/|lmdb\.h' 'the HTTP layer uses the core through include/divan only'
[ "$fail" = 0 ] && echo "layering: ok"
exit $fail
