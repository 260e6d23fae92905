"""The fleet manager's dashboard and his cars' forms, as services (issue 15, R-FL-5, R-IN-3)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update

from admin_app.db import unit_of_work
from admin_app.domain.errors import NotFound
from admin_app.models import AuditLog, FleetAccount, InspectionForm, Passport, Recall
from admin_app.services import fleets, inspections
from admin_app.services.audit import describe_entries
from admin_app.services.fleets import DUE_SOON, OVERDUE, due_status
from admin_app.services.recalls import open_recalls

TODAY = dt.date(2026, 3, 15)


@contextmanager
def counted(session):
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def bakker(world):
    fleet = world.session.scalars(
        select(FleetAccount).where(FleetAccount.name == "Bouwbedrijf Bakker")
    ).one()
    return fleet, world.passports(fleet_account_id=fleet.id)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (None, None),
        (TODAY - dt.timedelta(days=400), OVERDUE),
        (TODAY - dt.timedelta(days=1), OVERDUE),
        (TODAY, DUE_SOON),
        (TODAY + dt.timedelta(days=30), DUE_SOON),
        (TODAY + dt.timedelta(days=31), None),
    ],
)
def test_issue15_due_status_marks_passed_and_the_coming_30_days(day, expected):
    """R-FL-5: red for a date passed, amber from today to 30 days ahead, nothing later."""
    assert due_status(day, TODAY) == expected


def test_issue15_open_recalls_by_plate_in_one_query(world):
    """R-IN-3: open recalls only, keyed by plate, any notation, one query for many plates."""
    s = world.session
    open_plates = sorted(set(s.scalars(select(Recall.plate).where(Recall.status == "O"))))
    s.add(Recall(plate=open_plates[0], reference="RDW-REPAIRED", status="P"))
    s.flush()
    asked = [f"{p[:2]}-{p[2:]}".lower() for p in open_plates] + ["99-XXX-9"]
    with counted(s) as statements:
        found = open_recalls(s, asked)
    assert len(statements) == 1
    assert sorted(found) == open_plates
    open_rows = set(s.execute(select(Recall.plate, Recall.reference).where(Recall.status == "O")))
    assert all((r.plate, r.reference) in open_rows for rs in found.values() for r in rs)
    assert "RDW-REPAIRED" not in {r.reference for r in found[open_plates[0]]}
    assert open_recalls(s, []) == {}


def test_issue15_the_inspection_form_reads_recalls_through_the_same_function(
    acting_as, world, monkeypatch
):
    """R-IN-3: one source for the form and the dashboard (the vehicle register changes it)."""
    from admin_app.services.inspections import printed as module  # form_recalls lives there

    asked = []
    real = module.open_recalls
    monkeypatch.setattr(
        module, "open_recalls", lambda s, plates: asked.append(plates) or real(s, plates)
    )
    s = world.session
    with acting_as("garage-jansen"):
        form = s.scalars(select(InspectionForm).where(InspectionForm.version > 0)).first()
        inspections.form_recalls(s, form)
    assert asked == [[form.passport.plate]]


def test_issue15_last_form_advice_takes_the_last_saved_form_in_one_query(acting_as, world):
    """R-FL-5: the advice column is the last saved form's; drafts and earlier forms don't
    count; one query for every car."""
    s = world.session
    _, cars = bakker(world)
    advised = cars[3]
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            draft = inspections.create_draft(
                s,
                kind="all_ok",
                actor=acting.actor,
                inspector="Ali",
                inspection_date=dt.date.today(),
                passport_id=advised.id,
            )
            inspections.update_form(
                s,
                draft.id,
                {"advice": [{"description": "Draft only", "price": "5"}]},
                actor=acting.actor,
            )
    ids = [car.id for car in cars]  # read before counting: the commit expired them
    with counted(s) as statements:
        advice = fleets.last_form_advice(s, ids)
    assert len(statements) == 1
    assert advice[advised.id][1] == ["Banden voor vervangen"]
    assert set(advice) == {advised.id}  # the other cars have no saved form


def test_issue15_dashboard_filters_sorts_and_pages(acting_as, world):
    """R-FL-5: overdue / within 30 days / open advice / open recall; sort; 50 a page."""
    s = world.session
    _, cars = bakker(world)
    today = dt.date.today()
    with acting_as("fleet-bakker") as acting:
        fid = acting.actor.fleet_account_id

        def plates(**kwargs):
            page = fleets.fleet_dashboard(s, fid, today=today, **kwargs)
            return [row.passport.plate for row in page.rows]

        assert plates(show="overdue") == [cars[0].plate]
        assert plates(show="soon") == [cars[1].plate]
        assert plates(show="advice") == [cars[3].plate]
        assert plates(show="recall") == [cars[2].plate]
        assert sorted(plates()) == sorted(c.plate for c in cars)
        assert plates(show="nonsense") == plates()
        by_apk = plates(sort="apk_expiry")
        assert by_apk[:2] == [cars[0].plate, cars[1].plate]
        assert plates(sort="advice")[0] == cars[3].plate
        assert plates(sort="recall")[0] == cars[2].plate
        page = fleets.fleet_dashboard(s, fid, today=today, page=1, page_size=2)
        assert (page.pages, page.page, page.total) == (3, 1, 5)
        assert [r.passport.plate for r in page.rows] == sorted(c.plate for c in cars)[2:4]
        beyond = fleets.fleet_dashboard(s, fid, today=today, page=99, page_size=2)
        assert beyond.page == 2
        row = (
            next(r for r in page.rows + beyond.rows if r.passport.id == cars[3].id)
            if False
            else None
        )
        del row
        marked = fleets.fleet_dashboard(s, fid, today=today, show="overdue").rows[0]
        assert marked.apk_status == OVERDUE
    with acting_as("admin"):
        assert fleets.fleet_dashboard(s, None, today=today).fleet_total == 0


def test_issue15_dashboard_takes_the_same_queries_for_5_or_205_cars(acting_as, world):
    """R-FL-5: advice and recalls one query each per page, not one per car."""
    s = world.session
    fleet, _ = bakker(world)
    fid, today = fleet.id, dt.date.today()

    def queries() -> list[str]:
        with acting_as("fleet-bakker"), counted(s) as statements:
            page = fleets.fleet_dashboard(s, fid, today=today)
            assert page.rows
        return statements

    few = queries()
    others = select(Passport.id).where(
        Passport.garage_id == fleet.garage_id,
        Passport.fleet_account_id.is_(None),
        Passport.state != "archived",
    )
    ids = list(s.scalars(others))[:200]
    s.execute(update(Passport).where(Passport.id.in_(ids)).values(fleet_account_id=fleet.id))
    s.commit()
    with acting_as("fleet-bakker"):
        assert fleets.fleet_dashboard(s, fid, today=today).pages == -(-(5 + len(ids)) // 50)
    # Cars, advice, recalls, the register's values (issue 18), the page's passports.
    assert len(queries()) == len(few) == 5


def test_issue15_fleet_link_time_is_kept_with_every_change_of_fleet(acting_as, world):
    """R-FL-5: linking stamps the time, unlinking clears it (whoever changes the link)."""
    s = world.session
    fleet, cars = bakker(world)
    car = cars[0]
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            fleets.unlink_passport(s, car.id, actor=acting.actor)
        assert car.fleet_linked_at is None
        with unit_of_work(s):
            fleets.link_passport(s, car.id, fleet.id, actor=acting.actor)
        linked = s.get(Passport, car.id).fleet_linked_at
        assert linked is not None
        assert dt.datetime.now(dt.UTC) - linked < dt.timedelta(minutes=1)
    # The audit log shows the link as the fleet's name, not the time column beside it.
    entry = s.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == "passport", AuditLog.record_id == car.id)
        .order_by(AuditLog.id.desc())
    ).first()
    assert "fleet_linked_at" in entry.changes
    with acting_as("garage-jansen"):
        (described,) = describe_entries(s, [entry], "nl")
    assert "fleet_linked_at" not in described.changes_text
    assert "Bouwbedrijf Bakker" in described.changes_text


def test_issue15_fleet_manager_reads_forms_since_the_link_in_full(acting_as, world):
    """R-FL-5: forms made while the car was in the fleet in full; earlier ones not; a car
    of another fleet or none is not his."""
    s = world.session
    _, cars = bakker(world)
    advised = cars[3]
    other = world.passports(garage_id=advised.garage_id, fleet_account_id=None)[0]
    with acting_as("fleet-bakker"):
        forms = inspections.fleet_car_forms(s, advised.id)
        assert [
            (f.form.inspection_date < dt.date.today() - dt.timedelta(days=100), f.full)
            for f in forms
        ] == [(False, True), (True, False)]
        before = inspections.read_only_context(s, forms[1])
        assert "content" not in before and before["full"] is False
        assert "J. de Groot" not in repr(before)
        full = inspections.read_only_context(s, forms[0])
        assert full["content"].customer.name == "Bouwbedrijf Bakker"
        with pytest.raises(NotFound):
            inspections.fleet_car_forms(s, other.id)
        with pytest.raises(NotFound):
            inspections.readable_form(forms, 987654)
    # Linked before link times were kept: every form counts as earlier.
    s.execute(update(Passport).where(Passport.id == advised.id).values(fleet_linked_at=None))
    s.commit()
    with acting_as("fleet-bakker"):
        assert [f.full for f in inspections.fleet_car_forms(s, advised.id)] == [False, False]


def test_issue15_owner_reads_the_forms_made_while_the_car_was_his(acting_as, world):
    """R-FL-5: "Mijn voertuigen" lists the forms made while the car was his, not earlier."""
    s = world.session
    car = next(
        p for p in world.passports(state="activated") if p.owner.email == "eigenaar@example.nl"
    )
    day = dt.date.today()
    with acting_as("garage-jansen") as acting:
        with unit_of_work(s):
            made = []
            for inspector in ("Earlier", "His"):
                form = inspections.create_draft(
                    s,
                    kind="customer",
                    actor=acting.actor,
                    inspector=inspector,
                    inspection_date=day,
                    passport_id=car.id,
                )
                inspections.save_form(s, form.id, actor=acting.actor, today=day)
                made.append(form.id)
    earlier = s.get(InspectionForm, made[0])
    earlier.created_at = car.created_at - dt.timedelta(days=30)
    s.commit()
    other = world.passports(garage_id=car.garage_id, state="sent")[0]
    with acting_as("eigenaar") as acting:
        forms = inspections.owner_car_forms(s, car.id, email=acting.actor.email)
        assert [(f.form.id, f.full) for f in forms] == [(made[1], True)]
        with pytest.raises(NotFound):
            inspections.owner_car_forms(s, other.id, email=acting.actor.email)
