"""Issue 18: APK reminders are off for the garages that exist when migration 0023 runs,
and on for garages made after it (also by a plain INSERT that names no setting)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.test_migrations import empty_database, flask  # noqa: F401  (the fixture)


def test_issue18_reminders_off_for_existing_garages_on_for_new_ones(empty_database):  # noqa: F811
    flask(empty_database, "db", "upgrade", "0021")
    engine = create_engine(empty_database)
    insert = text(
        "INSERT INTO garage (name, email, advice_followup_default, created_at) "
        "VALUES (:name, :email, false, CURRENT_TIMESTAMP)"
    )
    with engine.begin() as connection:
        connection.execute(insert, {"name": "Bestaand", "email": "oud@garage.test"})
    engine.dispose()
    flask(empty_database, "db", "upgrade")
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(insert, {"name": "Nieuw", "email": "nieuw@garage.test"})
        rows = connection.execute(
            text("SELECT name, apk_reminders, apk_reminder_weeks FROM garage ORDER BY id")
        ).all()
    engine.dispose()
    assert [(name, bool(on), weeks) for name, on, weeks in rows] == [
        ("Bestaand", False, 6),
        ("Nieuw", True, 6),
    ]
