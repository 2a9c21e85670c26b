#!/usr/bin/env bash
# Sets divan up (scripts/setup.sh) and starts the server on
# http://127.0.0.1:5984 with the data folder ./data. Stop it with Ctrl-C.
# Extra arguments go to `divan serve` (see `build/http/divan --help`).
#
# divan needs a server admin. On the first run this makes one, named
# "admin" with a random password, in ./divan.ini (divan replaces the
# password there by its hash when it starts) and keeps the password in
# ./.admin-password for you (readable only by you).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -e divan.ini ]; then
  umask 077
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s\n' "$password" > .admin-password
  printf '# divan settings (see README.md). Passwords written here in clear are\n# replaced by their hashes when divan starts.\n[admins]\nadmin = %s\n' \
    "$password" > divan.ini
  echo "run: made the server admin 'admin' in divan.ini"
fi
if [ -e .admin-password ]; then
  echo "run: log in as admin with the password in ./.admin-password, e.g."
  echo "       curl -u \"admin:\$(cat .admin-password)\" http://127.0.0.1:5984/_all_dbs"
fi
echo "run: to change it, write 'admin = NEW-PASSWORD' under [admins] in divan.ini and restart"
echo "     (then .admin-password is out of date: delete it)"
exec build/http/divan serve --config divan.ini --bind 127.0.0.1 --port 5984 --data data "$@"
