"""Benchmark: the weekly proposal run for all garages (issue 7), on PostgreSQL.

    make bench-proposals      (a throwaway PostgreSQL cluster)

Fills 800 garages, 1,000,000 vehicles (one customer each), 900,000 of them in the vehicle
register (issue 18), and 5,000,000 invoices with
INSERT … SELECT over generate_series (no ORM), then times what the Monday 06:00 run does:
next service dates for every vehicle from its maintenance invoices, and the proposals of
the coming week for every garage. Run twice: the second run finds the dates unchanged.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
GARAGES = int(os.environ.get("BENCH_GARAGES", "800"))
VEHICLES = int(os.environ.get("BENCH_VEHICLES", "1000000"))
INVOICES_PER_VEHICLE = 5

FILL = [
    (
        "garages",
        """INSERT INTO garage (name, email, advice_followup_default, created_at)
           SELECT 'Garage ' || g, 'garage' || g || '@bench.example', false, now()
           FROM generate_series(1, :garages) g""",
    ),
    (
        "customers",
        """INSERT INTO customer (garage_id, last_name, email, never_contact, created_at)
           SELECT (SELECT min(id) FROM garage) + i % :garages, 'Klant ' || i,
                  'klant' || i || '@bench.example', i % 97 = 0, now()
           FROM generate_series(1, :vehicles) i""",
    ),
    (
        "vehicles",
        """INSERT INTO passport (garage_id, plate, owner_id, stock_car, state, created_via,
                                created_at, apk_expiry)
           SELECT c.garage_id, 'B' || lpad(c.id::text, 9, '0'), c.id, false, 'activated',
                  'list', now(), current_date + (c.id % 730) - 200
           FROM customer c""",
    ),
    (
        # Issue 18: the APK expiry that counts is the later of the typed one and the
        # vehicle register's, so the run reads the register too: nine cars in ten known
        # there, a third of them with a later date than typed.
        "vehicle register",
        """INSERT INTO register_vehicle (generation, plate, brand, trade_name, apk_expiry,
                                        last_seen_on)
           SELECT 0, p.plate, 'VOLKSWAGEN', 'GOLF',
                  p.apk_expiry + CASE WHEN p.id % 3 = 0 THEN 365 ELSE 0 END, current_date
           FROM passport p WHERE p.id % 10 <> 0""",
    ),
    (
        "invoices",
        """INSERT INTO invoice (garage_id, invoice_date, plate, customer_id, amount_cents,
                               kind, created_at)
           SELECT p.garage_id,
                  current_date - 30 - (p.id % 200) - (k - 1) * (150 + p.id % 250),
                  p.plate, p.owner_id, 5000 + (p.id * k) % 150000,
                  CASE WHEN k = 3 THEN 'repair' WHEN k = 5 THEN 'apk' ELSE 'maintenance' END,
                  now()
           FROM passport p CROSS JOIN generate_series(1, :per_vehicle) k""",
    ),
]


def main() -> None:
    # A throwaway database needs no lasting key (development would read instance/secret_key,
    # which only `make run` makes); one for this run, shared by its child processes.
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(64))
    assert os.environ.get("DATABASE_URL", "").startswith("postgresql"), "needs PostgreSQL"
    flask = [sys.executable, "-m", "flask", "--app", "admin_app:create_app"]
    subprocess.run([*flask, "db", "upgrade"], check=True, cwd=ROOT, capture_output=True)
    sys.path.insert(0, str(ROOT))
    from admin_app import create_app

    app = create_app()
    with app.app_context():
        from admin_app.extensions import db
        from admin_app.services import proposals

        session = db.session
        params = {
            "garages": GARAGES,
            "vehicles": VEHICLES,
            "per_vehicle": INVOICES_PER_VEHICLE,
        }
        started = time.perf_counter()
        for name, statement in FILL:
            step = time.perf_counter()
            session.execute(text(statement), params)
            session.commit()
            print(f"fill {name}: {time.perf_counter() - step:.1f} s", flush=True)
        session.execute(text("ANALYZE"))
        session.commit()
        print(f"fill total: {time.perf_counter() - started:.1f} s", flush=True)
        counts = session.execute(
            text(
                "SELECT (SELECT count(*) FROM garage), (SELECT count(*) FROM passport), "
                "(SELECT count(*) FROM invoice)"
            )
        ).one()
        print(f"garages {counts[0]:,}, vehicles {counts[1]:,}, invoices {counts[2]:,}")
        now = dt.datetime.now(dt.UTC)
        week = proposals.proposal_week(now)
        for attempt in (1, 2):
            started = time.perf_counter()
            changed = proposals.update_next_service(session)
            dates = time.perf_counter() - started
            made = proposals.make_proposals(session, week, now)
            session.commit()
            total = time.perf_counter() - started
            print(
                f"run {attempt}: {total:.1f} s (next service dates {dates:.1f} s, "
                f"{changed:,} changed; {made:,} proposals for {week} in "
                f"{total - dates:.1f} s; load {os.getloadavg()[0]:.1f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
