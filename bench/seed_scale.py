"""Fill PostgreSQL at platform scale (issue 8), with SQL only (no ORM), in minutes.

    scripts/with-postgres.sh .venv/bin/python bench/seed_scale.py      (or: make bench-pages)

On top of the demo data (its logins): 800 garages in all, 1,000,000 passports, 1,500,000
customers (owners, and drivers for one car in two), fleet accounts, done batch jobs,
inspection forms (1 in 20 a draft), invitations, 5,000,000 invoices and a mail outbox of
1,000,000 (issue 15: what the home pages count, bounced addresses and failed mails among
them). "Garage De Vries" becomes the large garage with 50,000 passports; "Autobedrijf
Jansen" a typical one (~1,250); fleet-bakker's fleet account
holds 200 cars. Plates are distinct and valid-looking (two letters, three digits, a letter).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
PASSPORTS = int(os.environ.get("SCALE_PASSPORTS", "1000000"))
GARAGES = 800
LARGE = 50_000
TYPICAL = 1_250

# :n is a row number; a plate from it: letters and digits in the XX-999-X style.
PLATE = (
    "chr(65 + (({n} / 676) % 26)::int) || chr(65 + (({n} / 26) % 26)::int) || "
    "lpad((({n} / 17576) % 1000)::text, 3, '0') || chr(65 + ({n} % 26)::int)"
)

STEPS = [
    (
        "garages",
        """INSERT INTO garage (name, email, city, advice_followup_default, created_at)
           SELECT 'Garage ' || g, 'garage' || g || '@scale.example', 'Utrecht', g % 3 = 0, now()
           FROM generate_series(1, :garages - (SELECT count(*) FROM garage)) g""",
    ),
    (
        "plan of the cars per garage",
        """CREATE TEMP TABLE car_plan AS
           WITH sized AS (
             SELECT id AS garage_id,
                    CASE WHEN name = 'Garage De Vries' THEN :large
                         WHEN name = 'Autobedrijf Jansen' THEN :typical
                         ELSE ((:passports - :large - :typical)
                               / (SELECT count(*) - 2 FROM garage))::int END AS cars
             FROM garage)
           SELECT garage_id, generate_series(1, cars) AS k FROM sized""",
    ),
    (
        "owners (customers)",
        """INSERT INTO customer (garage_id, first_name, last_name, email, city, phone,
                                customer_number, never_contact, created_at)
           SELECT garage_id, 'Jan', 'Achternaam' || (k % 5000), 'eigenaar' || garage_id || '-'
                  || k || '@scale.example', 'Utrecht', '06-' || lpad(k::text, 8, '0'),
                  (100000 + k)::text, false, now()
           FROM car_plan""",
    ),
    (
        "passports",
        """INSERT INTO passport (garage_id, plate, brand, model, owner_id, stock_car, state,
                                created_via, created_at, apk_expiry)
           SELECT c.garage_id, """
        + PLATE.format(n="(c.id + 1000000)")
        + """, 'Volkswagen', 'Golf', c.id, false,
                  (ARRAY['created','sent','activated','activated','activated'])[1 + c.id % 5],
                  'list', now(), current_date + (c.id % 730)::int - 200
           FROM customer c WHERE c.email LIKE 'eigenaar%@scale.example'
           ON CONFLICT DO NOTHING""",
    ),
    (
        "drivers (customers)",
        """INSERT INTO customer (garage_id, last_name, email, never_contact, created_at)
           SELECT garage_id, 'Bestuurder' || id, 'bestuurder' || id || '@scale.example', false,
                  now()
           FROM passport WHERE id % 2 = 0 AND plate ~ '^[A-Z]{2}[0-9]{3}[A-Z]$'
             AND created_via = 'list' AND owner_id IN (
               SELECT id FROM customer WHERE email LIKE 'eigenaar%@scale.example')""",
    ),
    (
        "drivers on cars",
        """UPDATE passport p SET driver_id = c.id FROM customer c
           WHERE c.email = 'bestuurder' || p.id || '@scale.example'""",
    ),
    (
        # As every writer but the importer's run does (services/search_copy): the copy the
        # counter's search reads (issue 20).
        "search copy (customers)",
        """INSERT INTO customer_search (customer_id, last_name, email)
           SELECT id, lower(last_name), lower(email) FROM customer ON CONFLICT DO NOTHING""",
    ),
    (
        "search copy (passports)",
        """INSERT INTO passport_search (passport_id, plate)
           SELECT id, plate FROM passport ON CONFLICT DO NOTHING""",
    ),
    (
        "fleet accounts",
        """INSERT INTO fleet_account (garage_id, name, email, created_at)
           SELECT g.id, 'Wagenpark ' || g.id || '-' || f, 'wagenpark' || g.id || '-' || f
                  || '@scale.example', now()
           FROM garage g CROSS JOIN generate_series(1, 5) f
           WHERE g.email LIKE '%@scale.example'""",
    ),
    (
        "cars in fleets",
        """UPDATE passport p SET fleet_account_id = f.id
           FROM fleet_account f
           WHERE f.garage_id = p.garage_id AND f.email LIKE '%@scale.example'
             AND p.id % 50 = 0
             AND f.email = 'wagenpark' || p.garage_id || '-' || (1 + (p.id / 50) % 5)
                           || '@scale.example'""",
    ),
    (
        "200 cars for fleet-bakker",
        """UPDATE passport SET fleet_account_id = (
               SELECT id FROM fleet_account WHERE name = 'Bouwbedrijf Bakker')
           WHERE id IN (SELECT id FROM passport WHERE garage_id = (
               SELECT garage_id FROM fleet_account WHERE name = 'Bouwbedrijf Bakker')
               AND fleet_account_id IS NULL AND created_via = 'list' ORDER BY id LIMIT 195)""",
    ),
    (
        "batch jobs",
        """INSERT INTO batch_job (garage_id, filename, uploaded_by, uploaded_at,
                                 send_to_customers, state, total_rows, done_rows, counts,
                                 finished_at)
           SELECT g.id, 'klanten-' || j || '.csv', 'medewerker', now() - (j || ' days')::interval,
                  false, 'done', 500, 500,
                  '{"create": 490, "update": 0, "unchanged": 0, "refused": 10}', now()
           FROM garage g CROSS JOIN generate_series(1, 3) j""",
    ),
    (
        "inspection forms",
        """INSERT INTO inspection_form (garage_id, passport_id, kind, plate, inspector,
                                       inspection_date, version, send_updates, still_adjusting,
                                       content, created_by, created_at, saved_at)
           SELECT garage_id, id, 'all_ok', plate, 'Inspecteur', current_date - (id % 400)::int,
                  1, false, false,
                  '{"customer": {}, "vehicle": {}, "dates": {}, "results": [], "advice": []}',
                  'bench', now(), now()
           FROM passport WHERE id % 10 = 0""",
    ),
    (
        "invoices",
        """INSERT INTO invoice (garage_id, invoice_date, plate, customer_id, amount_cents,
                               kind, created_at)
           SELECT p.garage_id,
                  current_date - 30 - (p.id % 200)::int - (k - 1) * (150 + (p.id % 250)::int),
                  p.plate, p.owner_id, 5000 + (p.id * k) % 150000,
                  CASE WHEN k = 3 THEN 'repair' WHEN k = 5 THEN 'apk' ELSE 'maintenance' END,
                  now()
           FROM passport p CROSS JOIN generate_series(1, 5) k""",
    ),
    # What the home pages count (issue 15): a few of each among the many, as in life.
    (
        "bounced addresses (1 owner in 500)",
        """UPDATE customer SET email_bounced_at = now()
           WHERE id % 500 = 0 AND email LIKE 'eigenaar%@scale.example'""",
    ),
    (
        "draft inspection forms (1 in 20)",
        "UPDATE inspection_form SET version = 0, saved_at = NULL WHERE id % 20 = 0",
    ),
    (
        "inspection invitations (1 car in 100), half answered by a form",
        """INSERT INTO inspection_invitation (garage_id, passport_id, registered_at)
           SELECT garage_id, id, now() - (id % 30 || ' days')::interval
           FROM passport WHERE id % 100 = 0""",
    ),
    (
        "forms made for their invitation",
        """UPDATE inspection_form f SET invitation_id = i.id FROM inspection_invitation i
           WHERE i.passport_id = f.passport_id AND i.id % 2 = 0""",
    ),
    (
        "mail outbox: 1,000,000 sent, 1 in 1,000 failed",
        """INSERT INTO outbox_message (garage_id, recipient, kind, subject, params, state,
                                      attempts, next_attempt_at, created_at, sent_at)
           SELECT garage_id, 'eigenaar' || id || '@scale.example', 'activation', 'AutoPaspoort',
                  '{}', CASE WHEN id % 1000 = 0 THEN 'failed' ELSE 'sent' END, 1, now(), now(),
                  now()
           FROM passport""",
    ),
    (
        "recalls (1 in 100 plates open)",
        # In the recall register's generation readers see (issue 18; what a recall is
        # about is in recall_detail, not needed by the pages measured).
        """INSERT INTO recall (generation, plate, reference, status, imported_at)
           SELECT (SELECT coalesce(max(id), 0) FROM register_import
                   WHERE dataset = 'recall_status' AND state = 'done'),
                  plate, 'RDW-BENCH-' || id, CASE WHEN id % 300 = 0 THEN 'P' ELSE 'O' END, now()
           FROM passport WHERE id % 100 = 0
           ON CONFLICT DO NOTHING""",
    ),
    (
        # Issue 15 (R-FL-5): the dashboard's advice column reads the last form's advice.
        "fleet-bakker's cars: a later form with advice for every third",
        """INSERT INTO inspection_form (garage_id, passport_id, kind, plate, inspector,
                                       inspection_date, version, send_updates, still_adjusting,
                                       content, created_by, created_at, saved_at)
           SELECT garage_id, id, 'all_ok', plate, 'Inspecteur', current_date - (id % 60)::int,
                  1, false, false,
                  '{"customer": {}, "vehicle": {}, "dates": {}, "results": [],
                    "advice": [{"description": "Remblokken voor", "price_cents": 18995}]}',
                  'bench', now(), now()
           FROM passport WHERE id % 3 = 0 AND fleet_account_id = (
               SELECT id FROM fleet_account WHERE name = 'Bouwbedrijf Bakker')""",
    ),
    ("statistics", "ANALYZE"),
]


def flask(*args: str) -> None:
    command = [sys.executable, "-m", "flask", "--app", "admin_app:create_app", *args]
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)


def main() -> None:
    # A throwaway database needs no lasting key (development would read instance/secret_key,
    # which only `make run` makes); one for this run, shared by its child processes.
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(64))
    assert os.environ.get("DATABASE_URL", "").startswith("postgresql"), "needs PostgreSQL"
    started = time.perf_counter()
    flask("db", "upgrade")
    flask("sync-roles")
    flask("demo-data", "--if-empty")
    sys.path.insert(0, str(ROOT))
    from admin_app import create_app

    app = create_app()
    with app.app_context():
        from admin_app.extensions import db

        params = {"garages": GARAGES, "large": LARGE, "typical": TYPICAL, "passports": PASSPORTS}
        connection = db.session.connection()
        for name, statement in STEPS:
            step = time.perf_counter()
            connection.execute(text(statement), params)
            db.session.commit()
            connection = db.session.connection()
            print(f"{name}: {time.perf_counter() - step:.1f} s", flush=True)
        counts = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM garage), (SELECT count(*) FROM passport), "
                "(SELECT count(*) FROM customer), (SELECT count(*) FROM fleet_account), "
                "(SELECT count(*) FROM batch_job), (SELECT count(*) FROM inspection_form), "
                "(SELECT count(*) FROM invoice)"
            )
        ).one()
    names = (
        "garages",
        "passports",
        "customers",
        "fleet accounts",
        "batch jobs",
        "inspection forms",
        "invoices",
    )
    print(", ".join(f"{n} {c:,}" for n, c in zip(names, counts, strict=True)))
    print(f"seeded in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
