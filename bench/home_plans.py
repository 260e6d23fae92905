"""The query plans of the home pages' counts (issue 15), on the seeded PostgreSQL.

    scripts/with-postgres.sh sh -c '.venv/bin/python bench/seed_scale.py &&
                                    .venv/bin/python bench/home_plans.py'

Runs each home page's service as the large garage and as Support, inside a request with
their scope, and prints EXPLAIN (ANALYZE) of every statement it sends, with its time: a
count that reads a table instead of an index shows here before it shows in p95.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    assert os.environ.get("DATABASE_URL", "").startswith("postgresql"), "needs PostgreSQL"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    sys.path.insert(0, str(ROOT))
    from admin_app import create_app
    from admin_app.extensions import db
    from admin_app.models import ConsoleUser
    from admin_app.models.base import utcnow
    from admin_app.scope import bind_request_scope
    from admin_app.services import dashboard

    app = create_app()
    for username in ("garage-devries", "support"):
        with app.test_request_context("/"):
            session = db.session
            user = session.scalars(
                select(ConsoleUser).where(ConsoleUser.username == username)
            ).one()
            bind_request_scope(user)
            sent: list[tuple[str, object]] = []

            def record(conn, cursor, statement, parameters, context, executemany, sent=sent):
                sent.append((statement, parameters))

            engine = session.get_bind()
            event.listen(engine, "before_cursor_execute", record)
            try:
                if username == "support":
                    dashboard.support_todo(session)
                else:  # what HomeView.index asks for a garage
                    dashboard.garage_todo(session, utcnow())
                    dashboard.passport_counts(session)
                    dashboard.fleet_accounts_with_counts(session)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            print(f"===== {username}: {len(sent)} statements", flush=True)
            connection = session.connection().connection.dbapi_connection
            for statement, parameters in sent:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = [row[0] for row in cursor.fetchall()]
                print(statement.split("\n")[0][:160])
                print("\n".join("    " + line for line in plan), flush=True)
            session.rollback()


if __name__ == "__main__":
    main()
