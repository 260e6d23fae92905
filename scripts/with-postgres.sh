#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster (started as the postgres user when
# root), with DATABASE_URL, TEST_DATABASE_URL and TEST_PG_ADMIN_URL set; stop it after.
set -uo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgdir=$(mktemp -d /tmp/console-pg.XXXXXX)
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
run_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
# A random port can be taken (another cluster, a server a test started): try another, and
# show PostgreSQL's own reason when none would do.
for attempt in 1 2 3 4 5; do
  port=$(( 20000 + RANDOM % 20000 ))
  run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-p $port -k $pgdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null && break
  echo "with-postgres: PostgreSQL did not start on port $port (attempt $attempt):" >&2
  tail -5 "$pgdir/log" >&2
  [ "$attempt" = 5 ] && exit 1
done
trap 'run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
run_pg "$pgbin/createdb" -h "$pgdir" -p "$port" -U postgres console_test
export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/console_test"
export TEST_DATABASE_URL="$DATABASE_URL"
export TEST_PG_ADMIN_URL="postgresql://postgres@127.0.0.1:$port/postgres"
"$@"
