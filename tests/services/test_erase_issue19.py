"""Issue 19, R-DR-2: erasing a customer or a person, the refusals, and the scan afterwards."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask_appbuilder import Model
from sqlalchemy import Text, cast, func, or_, select

from admin_app.db import unit_of_work
from admin_app.models import (
    AccessToken,
    BatchJob,
    BatchRow,
    ConsoleUser,
    ContactProposal,
    Customer,
    Erasure,
    InspectionForm,
    InspectionFormVersion,
    InspectionInvitation,
    OutboxMessage,
    Passport,
    Transfer,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from admin_app.models.base import utcnow
from admin_app.services import erasure as erase
from admin_app.services import passports as passport_rules
from admin_app.services.audit import Actor, set_actor
from admin_app.services.errors import Conflict, Forbidden, InvalidInput
from admin_app.services.passports import PersonDetails
from admin_app.services.personal_data import is_text
from tests.mails import mail_text

KAREL = {
    "email": "k.wiebenga@example.nl",
    "first_name": "Karel",
    "last_name": "Wiebenga",
    "street": "Lindelaan",
    "house_number": "7",
    "postcode": "9876 XY",
    "city": "Groningen",
    "phone": "06-55501234",
    "customer_number": "KW-4411",
}
# What the scan looks for: his name, e-mail, phone, street and postcode.
HIS_VALUES = ("Karel Wiebenga", "k.wiebenga@example.nl", "06-55501234", "Lindelaan", "9876 XY")
REQUESTED = dt.date(2026, 12, 1)


def actor_of(world, username) -> Actor:
    return Actor.of_user(world.user(username))


def karel_at(world, acting_as, garage_user: str, plate: str) -> Passport:
    """Karel's car at a garage, made as its staff would: the customer row, audit, mail."""
    with acting_as(garage_user) as acting:
        session = world.session
        with unit_of_work(session):
            passport = passport_rules.create_passport(
                session, actor=acting.actor, plate=plate, person=PersonDetails(**KAREL)
            )
            passport_rules.send_passport(session, passport.id, actor=acting.actor)
            passport_id = passport.id
    mail_text(world.session)  # the activation mail as the worker writes it: its link made
    return world.session.get(Passport, passport_id)


def full_history(world, acting_as) -> Passport:
    """Karel with a full history at Jansen (transfers, an inspection form with versions, a
    proposal and invitation, a batch row, mails sent and pending, audit entries, a webhook
    delivery) and a second customer row at De Vries."""
    session = world.session
    car = karel_at(world, acting_as, "garage-jansen", "KW-01-XY")
    karel_at(world, acting_as, "garage-devries", "KW-02-XY")
    customer = car.owner
    garage_id = car.garage_id
    with acting_as("garage-jansen"):
        set_actor(session, actor_of(world, "garage-jansen"))
        customer.phone = KAREL["phone"]  # an audited correction: old → new in the log
        customer.city = "Haren"
        session.flush()
    address = f"{KAREL['street']} {KAREL['house_number']}, {KAREL['postcode']} Haren"
    block = {
        "name": "Karel Wiebenga",
        "email": KAREL["email"],
        "phone": KAREL["phone"],
        "customer_number": KAREL["customer_number"],
        "address": address,
    }
    session.add(
        Transfer(
            passport_id=car.id,
            garage_id=garage_id,
            state="accepted",
            to_customer_id=customer.id,
            to_email=KAREL["email"],
            to_name="Karel Wiebenga",
            created_by="garage-jansen",
        )
    )
    invitation = InspectionInvitation(
        garage_id=garage_id, passport_id=car.id, note="Bel Karel Wiebenga op 06-55501234"
    )
    session.add(invitation)
    session.flush()
    form = InspectionForm(
        garage_id=garage_id,
        passport_id=car.id,
        invitation_id=invitation.id,
        kind="check",
        plate="KW01XY",
        inspector="Henk",
        inspection_date=dt.date(2026, 11, 20),
        version=2,
        content={"customer": block, "vehicle": {"plate": "KW01XY", "brand": "Volvo"}},
        created_by="garage-jansen",
    )
    session.add(form)
    session.flush()
    for number in (1, 2):
        session.add(
            InspectionFormVersion(
                form_id=form.id,
                number=number,
                saved_by="garage-jansen",
                changes=[{"field": "customer.phone", "old": "", "new": KAREL["phone"]}],
                content={"customer": block},
            )
        )
    session.add(
        ContactProposal(
            garage_id=garage_id,
            week="2026-W49",
            week_start=dt.date(2026, 11, 30),
            customer_id=customer.id,
            passport_id=car.id,
            reason="apk",
            predicted_date=dt.date(2027, 1, 5),
            decision="yes",
            advice="Remblokken vervangen",
        )
    )
    job = BatchJob(garage_id=garage_id, filename="klanten.xlsx", uploaded_by="x", state="done")
    session.add(job)
    session.flush()
    session.add(
        BatchRow(
            batch_job_id=job.id,
            row_number=2,
            plate="KW01XY",
            email=KAREL["email"],
            email_key=KAREL["email"],
            values={"E-mail": KAREL["email"], "Naam": "Karel Wiebenga", "Tel": KAREL["phone"]},
            **{k: KAREL[k] for k in ("first_name", "last_name", "street", "postcode", "phone")},
            plan="create",
            outcome="created",
        )
    )
    for state in ("sent", "pending"):
        session.add(
            OutboxMessage(
                garage_id=garage_id,
                recipient=KAREL["email"],
                kind="inspection",
                subject="Uw keuringsrapport, Karel Wiebenga",
                params={"name": "Karel Wiebenga", "form_id": form.id},
                state=state,
            )
        )
    endpoint = WebhookEndpoint(
        garage_id=garage_id, url="https://dms.example/hook", events=[], secret_encrypted="x"
    )
    event = WebhookEvent(
        garage_id=garage_id,
        message_id="msg_karel_1",
        type="customer.updated",
        data={"customer": {"id": customer.id, **KAREL}},
    )
    session.add_all([endpoint, event])
    session.flush()
    session.add(
        WebhookDelivery(
            garage_id=garage_id,
            event_id=event.id,
            endpoint_id=endpoint.id,
            state="delivered",
            give_up_at=utcnow(),
            response_body=json.dumps({"ok": True, "echo": KAREL["email"]}),
        )
    )
    from flask_appbuilder.security.sqla.models import RegisterUser

    session.add(  # a self-registration FAB kept under his address
        RegisterUser(
            first_name="Karel",
            last_name="Wiebenga",
            username=KAREL["email"],
            email=KAREL["email"],
            registration_hash="karel-hash",
        )
    )
    session.commit()
    return car


def found_anywhere(session, values=HIS_VALUES) -> list[str]:
    """Every text column of every table, searched for any of ``values`` (JSON as stored,
    its non-ASCII escaped, and as text)."""
    hits = []
    for table in Model.metadata.tables.values():
        for column in table.columns:
            if not is_text(column):
                continue
            text = func.lower(cast(column, Text))
            needles = {v.lower() for v in values} | {json.dumps(v)[1:-1].lower() for v in values}
            count = session.scalar(
                select(func.count())
                .select_from(table)
                .where(or_(*(text.contains(n, autoescape=True) for n in needles)))
            )
            if count:
                hits.append(f"{table.name}.{column.name} ({count})")
    return hits


def test_issue19_erasing_the_person_leaves_his_values_nowhere(world, acting_as):
    """R-DR-2: a customer with a full history at two garages, erased as a person: the scan
    of every text column of every table finds no name, e-mail, phone, street or postcode;
    the car's facts stay, his car is archived without owner, the pending mail cancelled."""
    session = world.session
    car = full_history(world, acting_as)
    assert found_anywhere(session)  # the scan can fail: the history holds his values
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        result = erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    assert result.erasure is not None and result.erasure.customers == 2
    session.expire_all()
    assert found_anywhere(session) == []
    car = session.get(Passport, car.id)
    assert (car.plate, car.brand, car.state) == ("KW01XY", car.brand, "archived")
    assert car.owner.last_name == "verwijderd" and car.owner.email.endswith("@verwijderd.invalid")
    states = set(
        session.scalars(select(OutboxMessage.state).where(OutboxMessage.kind == "inspection"))
    )
    assert {"sent", "cancelled"} <= states
    form = session.scalars(select(InspectionForm).where(InspectionForm.passport_id == car.id)).one()
    assert form.content["vehicle"] == {"plate": "KW01XY", "brand": "Volvo"}
    assert form.content["customer"]["name"] == "verwijderd"
    recorded = session.scalars(select(Erasure)).one()
    assert (recorded.scope, recorded.requested_on, recorded.erased_by) == (
        "person",
        REQUESTED,
        "support",
    )


def test_issue19_erasing_twice_changes_nothing_the_second_time(world, acting_as):
    """R-DR-2: idempotent — the second erase finds nothing of him and writes nothing."""
    session = world.session
    full_history(world, acting_as)
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    before = {t.name: session.execute(select(t)).all() for t in Model.metadata.tables.values()}
    with unit_of_work(session):
        again = erase.erase_person(session, support, KAREL["email"], "Nogmaals", REQUESTED)
    assert again.erasure is None
    after = {t.name: session.execute(select(t)).all() for t in Model.metadata.tables.values()}
    assert after == before


def test_issue19_erasing_one_garages_customer_leaves_his_other_garage_and_login(world, acting_as):
    """R-DR-2: at a garage's request only that customer row goes; his row and car at the
    other garage, and his values there, stay."""
    session = world.session
    full_history(world, acting_as)
    jansen = world.garage("Autobedrijf Jansen")
    rows = session.scalars(select(Customer).where(Customer.email == KAREL["email"])).all()
    at_jansen = next(c for c in rows if c.garage_id == jansen.id)
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_customer(session, support, at_jansen, "Verzoek van de garage", REQUESTED)
    session.expire_all()
    left = session.scalars(select(Customer).where(Customer.email == KAREL["email"])).all()
    assert [c.garage_id for c in left] == [world.garage("Garage De Vries").id]
    assert left[0].phone == KAREL["phone"]
    # The link mailed for his car at Jansen is gone; the one for De Vries still works.
    links = session.scalars(
        select(AccessToken.subject_id).where(AccessToken.recipient == KAREL["email"])
    ).all()
    cars = {
        p.garage_id: p.id
        for p in session.scalars(select(Passport).where(Passport.plate.in_(["KW01XY", "KW02XY"])))
    }
    assert cars[left[0].garage_id] in links and cars[jansen.id] not in links
    hits = found_anywhere(session)
    assert hits and all(
        not hit.startswith(("inspection_form", "batch_row", "webhook", "transfer")) for hit in hits
    ), hits


def test_issue19_refused_while_he_owns_a_car_with_a_pending_transfer(world):
    """R-DR-2: the demo's Owner is receiving a pending transfer: refused, nothing changed."""
    session = world.session
    support = actor_of(world, "support")
    set_actor(session, support)
    with pytest.raises(Conflict, match="pending transfer"):
        erase.erase_person(session, support, "eigenaar@example.nl", "Verzoek", REQUESTED)
    session.rollback()
    assert world.user("eigenaar").email == "eigenaar@example.nl"


def test_issue19_refused_while_he_manages_a_fleet_with_cars(world):
    """R-DR-2: the fleet's manager (the owner of its managing car) is refused."""
    session = world.session
    fleet_manager = session.scalars(
        select(Customer)
        .join(Passport, Passport.owner_id == Customer.id)
        .where(
            Passport.id.in_(select(Model.metadata.tables["fleet_account"].c.manager_passport_id))
        )
    ).first()
    assert fleet_manager is not None
    support = actor_of(world, "support")
    with pytest.raises(Conflict, match="fleet account"):
        erase.erase_customer(session, support, fleet_manager, "Verzoek", REQUESTED)


def test_issue19_refused_while_he_is_named_on_a_list_not_yet_run(world, acting_as):
    """R-DR-2: a customer list waiting for confirmation names him: refused."""
    session = world.session
    car = karel_at(world, acting_as, "garage-jansen", "KW-03-XY")
    job = BatchJob(garage_id=car.garage_id, filename="l.csv", uploaded_by="x", state="preview")
    session.add(job)
    session.flush()
    session.add(
        BatchRow(
            batch_job_id=job.id,
            row_number=2,
            email=KAREL["email"],
            email_key=KAREL["email"],
            plan="update",
        )
    )
    session.flush()
    support = actor_of(world, "support")
    with pytest.raises(Conflict, match="list that has not run"):
        erase.erase_customer(session, support, car.owner, "Verzoek", REQUESTED)


def test_issue19_only_support_erases(world, acting_as):
    """R-DR-2 (SPEC roles): a garage may not erase, not even its own customer."""
    session = world.session
    car = karel_at(world, acting_as, "garage-jansen", "KW-04-XY")
    with pytest.raises(Forbidden):
        erase.erase_customer(
            session, actor_of(world, "garage-jansen"), car.owner, "Verzoek", REQUESTED
        )


@pytest.mark.parametrize(
    ("reason", "requested_on", "field"),
    [
        ("", "2026-12-01", "reason"),
        (12, "2026-12-01", "reason"),
        ("a\x00b", "2026-12-01", "reason"),
        ("x" * 100_000, "2026-12-01", "reason"),
        ("Verzoek", "2999-01-01", "requested_on"),
        ("Verzoek", "1-12-2026", "requested_on"),
        ("Verzoek", None, "requested_on"),
    ],
)
def test_issue19_bad_request_input_names_the_field(reason, requested_on, field):
    """R-DR-2: the reason and request date are checked before anything is erased."""
    with pytest.raises(InvalidInput) as refused:
        erase.parse_request(reason, requested_on, today=dt.date(2026, 12, 6))
    assert field in refused.value.errors


def test_issue19_owner_login_is_erased_with_the_person(world, acting_as):
    """R-DR-2: the person's Owner login is anonymized and can no longer log in."""
    session = world.session
    karel_at(world, acting_as, "garage-jansen", "KW-05-XY")
    login = ConsoleUser(
        username=KAREL["email"],
        email=KAREL["email"],
        first_name="Karel",
        last_name="Wiebenga",
        active=True,
    )
    from admin_app.models.users import ConsoleUser as _  # noqa: F401

    owner_role = world.user("eigenaar").roles[0]
    login.roles = [owner_role]
    session.add(login)
    session.flush()
    support = actor_of(world, "support")
    erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    session.flush()
    assert (login.username, login.active, login.first_name) == (
        f"verwijderd-{login.id}@verwijderd.invalid",
        False,
        "verwijderd",
    )
