"""Issue 19, R-DR-2: erasing a customer or a person, the refusals, and the scan afterwards."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask_appbuilder import Model
from sqlalchemy import Text, cast, func, or_, select

from admin_app.db import unit_of_work
from admin_app.domain.errors import Conflict, Forbidden, InvalidInput
from admin_app.models import (
    AccessToken,
    BatchJob,
    BatchRow,
    ConsoleUser,
    ContactProposal,
    Customer,
    Erasure,
    FleetAccount,
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
from admin_app.services.passports import PersonDetails
from admin_app.services.personal_data import is_text
from tests.conftest import DB_KIND
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
    fleet = session.scalars(
        select(FleetAccount)
        .join(Passport, Passport.id == FleetAccount.manager_passport_id)
        .where(Passport.owner_id == fleet_manager.id)
    ).first()
    support = actor_of(world, "support")
    # Named, so Support knows which fleet to ask the garage about.
    with pytest.raises(Conflict, match=rf"fleet account.*\({re.escape(fleet.name)}\)"):
        erase.erase_customer(session, support, fleet_manager, "Verzoek", REQUESTED)


def test_issue19_refused_while_he_is_named_on_a_list_not_yet_run(world, acting_as):
    """R-DR-2: a customer list waiting for confirmation names him: refused, naming the
    list and its garage (Support cannot run or cancel it; the garage can)."""
    session = world.session
    car = karel_at(world, acting_as, "garage-jansen", "KW-03-XY")
    job = BatchJob(
        garage_id=car.garage_id, filename="klanten-mei.csv", uploaded_by="x", state="preview"
    )
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
    with pytest.raises(Conflict, match="list that has not run") as refused:
        erase.erase_customer(session, support, car.owner, "Verzoek", REQUESTED)
    words = str(refused.value.message)
    assert "klanten-mei.csv, Autobedrijf Jansen" in words and "cancelled after 30 days" in words


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


def _bytes_hits(session, values=HIS_VALUES) -> list[str]:
    """Every bytes column (a stored file, a stored answer), read as the text it holds: an
    XLSX unzipped, anything else decoded."""
    import io
    import zipfile

    from sqlalchemy import LargeBinary

    needles = {v.lower() for v in values}
    hits = []
    for table in Model.metadata.tables.values():
        for column in table.columns:
            if not isinstance(column.type, LargeBinary):
                continue
            for data in session.scalars(select(column).where(column.is_not(None))):
                text = data.decode("utf-8", "replace")
                if data[:2] == b"PK":
                    with zipfile.ZipFile(io.BytesIO(data)) as archive:
                        text = " ".join(
                            archive.read(name).decode("utf-8", "replace")
                            for name in archive.namelist()
                        )
                if any(n in text.lower() for n in needles):
                    hits.append(f"{table.name}.{column.name}")
    return hits


def test_issue19_attack2_erase_reaches_stored_files_answers_and_other_phone_forms(world, acting_as):
    """R-DR-2: a garage's customer-list export (XLSX, kept 24 h), an API answer kept for
    its Idempotency-Key, his e-mail upper-cased and his phone written without its dash or
    as +31: after the person's erase none of them holds his values any more."""
    import io

    from openpyxl import Workbook

    from admin_app.models import ExportFile
    from admin_app.models.idempotency import IdempotencyKey

    session = world.session
    car = full_history(world, acting_as)
    jansen_user = world.user("garage-jansen")
    book = Workbook()
    book.active.append(["Naam", "E-mail", "Telefoon"])
    book.active.append(["Karel Wiebenga", KAREL["email"], KAREL["phone"]])
    out = io.BytesIO()
    book.save(out)
    later = utcnow() + dt.timedelta(hours=20)
    for fmt, data in (
        ("xlsx", out.getvalue()),
        ("csv", f"Naam;E-mail\nKarel Wiebenga;{KAREL['email']}\n".encode()),
    ):
        session.add(
            ExportFile(
                user_id=jansen_user.id,
                user_name="garage-jansen",
                garage_id=car.garage_id,
                list_name="Klanten",
                endpoint="CustomerView",
                fmt=fmt,
                rows=1,
                state="done",
                data=data,
                expires_at=later,
            )
        )
    session.add(
        IdempotencyKey(
            user_id=jansen_user.id,
            key="create-karel",
            fingerprint="0" * 64,
            state="done",
            status=201,
            headers={"Content-Type": "application/json"},
            body=json.dumps(
                {"owner": {"name": "Karel Wiebenga", "email": KAREL["email"]}}
            ).encode(),
            created_at=utcnow(),
            expires_at=later,
        )
    )
    session.add(
        InspectionInvitation(
            garage_id=car.garage_id,
            passport_id=car.id,
            note="Terugbellen: 0655501234 of +31655501234, mail K.WIEBENGA@EXAMPLE.NL",
        )
    )
    session.commit()
    other_forms = ("0655501234", "+31655501234")
    assert _bytes_hits(session) and found_anywhere(session, other_forms)
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    session.expire_all()
    assert _bytes_hits(session) == []
    assert found_anywhere(session, HIS_VALUES + other_forms) == []


@pytest.mark.parametrize(
    "requested_on", ["2026-W49-1", "2026W491", "20261201", "1850-01-01", "0001-01-01", "0024-12-01"]
)
def test_issue19_attack2_request_date_only_as_a_plain_date_this_side_of_1900(requested_on):
    """R-DR-2: Python reads an ISO week ("2026-W49-1") and the basic form ("20261201") as
    dates, and "0024-12-01" is 2024 mistyped: the recorded request date is refused rather
    than stored as something Support did not mean."""
    with pytest.raises(InvalidInput) as refused:
        erase.parse_request("Verzoek", requested_on, today=dt.date(2026, 12, 6))
    assert "requested_on" in refused.value.errors


def test_issue19_attack2_refused_while_a_list_naming_him_is_still_being_read(world, acting_as):
    """R-DR-2: a large list is read by the worker first (state "previewing": no rows yet,
    only the uploaded file). Erasing him then would let the preview bring all of him
    back once it is confirmed: refused like a list waiting for confirmation."""
    from pathlib import Path

    from admin_app.services import batch_jobs

    session = world.session
    car = karel_at(world, acting_as, "garage-jansen", "KW-06-XY")
    sample = Path(__file__).parents[1] / "data" / "klantenlijst-met-fouten.csv"
    row = f"KW-06-XY;{KAREL['email'].upper()};Karel;;Wiebenga;Lindelaan;7;9876 XY;Groningen;;;;;"
    data = sample.read_bytes().rstrip(b"\r\n") + b"\r\n" + row.encode("cp1252") + b"\r\n"
    with acting_as("garage-jansen") as acting, unit_of_work(session):
        job = batch_jobs.upload_list(
            session,
            actor=acting.actor,
            filename="klanten.csv",
            data=data,
            send_to_customers=False,
            background_from=10,
        )
    assert job.state == "previewing"
    support = actor_of(world, "support")
    with pytest.raises(Conflict, match="list that has not run"):
        erase.erase_customer(session, support, car.owner, "Verzoek", REQUESTED)


def test_issue19_attack2_a_neighbour_on_his_street_keeps_his_own_address(world, acting_as):
    """R-DR-2: his street alone, or his postcode alone, is not his (a street holds many
    customers, a postcode a dozen houses; "Lindelaan 71" is not "Lindelaan 7"): erasing
    him leaves a neighbour's address in that neighbour's inspection form and webhook
    event as it was, while an object that names him still loses his street."""
    session = world.session
    car = full_history(world, acting_as)
    piet = {
        "name": "Piet Smit",
        "email": "piet.smit@example.nl",
        "street": KAREL["street"],
        "postcode": KAREL["postcode"],
        "address": f"{KAREL['street']} 71, {KAREL['postcode']} Haren",
    }
    form = InspectionForm(
        garage_id=car.garage_id,
        passport_id=car.id,
        kind="check",
        plate="PS01XY",
        inspector="Henk",
        inspection_date=dt.date(2026, 11, 21),
        version=1,
        content={"customer": piet},
        created_by="garage-jansen",
    )
    event = WebhookEvent(
        garage_id=car.garage_id,
        message_id="msg_piet_1",
        type="customer.updated",
        data={"customer": dict(piet)},
    )
    session.add_all([form, event])
    session.commit()
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    session.expire_all()
    assert session.get(InspectionForm, form.id).content == {"customer": piet}
    assert session.get(WebhookEvent, event.id).data == {"customer": piet}
    # His street and postcode are now only in the neighbour's two rows.
    assert found_anywhere(session, HIS_VALUES[:3] + ("Lindelaan 7,",)) == []
    assert found_anywhere(session) == ["inspection_form.content (1)", "webhook_event.data (1)"]


def test_issue19_attack2_another_garages_customer_with_his_customer_number_keeps_it(
    world, acting_as
):
    """R-DR-2: a customer number is a garage's own key: at De Vries another customer may
    have the number Karel has at Jansen. Erasing Karel leaves that other customer's."""
    session = world.session
    full_history(world, acting_as)
    devries = world.garage("Garage De Vries")
    other = {"name": "Anna Bos", "email": "anna.bos@example.nl", "customer_number": "KW-4411"}
    event = WebhookEvent(
        garage_id=devries.id,
        message_id="msg_anna_1",
        type="customer.updated",
        data={"customer": dict(other)},
    )
    session.add(event)
    session.commit()
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    session.expire_all()
    assert session.get(WebhookEvent, event.id).data == {"customer": other}
    assert found_anywhere(session) == []
    # His number is left only in Anna's event: his own rows and objects lost it by key.
    assert found_anywhere(session, ("KW-4411",)) == ["webhook_event.data (1)"]


def test_issue19_attack2_his_name_in_anothers_free_text_leaves_the_others_details(world, acting_as):
    """R-DR-2: another customer's object mentions him in free text ("via Karel
    Wiebenga"): that text loses his name, the other customer keeps his own details."""
    session = world.session
    car = full_history(world, acting_as)
    anna = {"name": "Anna Bos", "email": "anna.bos@example.nl", "street": "Lindelaan"}
    event = WebhookEvent(
        garage_id=car.garage_id,
        message_id="msg_anna_2",
        type="customer.updated",
        data={"customer": {**anna, "note": "Klant via Karel Wiebenga"}},
    )
    session.add(event)
    session.commit()
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    session.expire_all()
    assert session.get(WebhookEvent, event.id).data == {"customer": {**anna, "note": "verwijderd"}}


def test_issue19_attack2_performed_work_naming_him_is_walked(world, acting_as):
    """R-DR-2: a garage types the work done in its own words, and sometimes names the
    customer ("Karel Wiebenga belt terug op 06-55501234"): erasing him at that garage
    walks it like every other free text."""
    from admin_app.models import PerformedWork

    session = world.session
    car = full_history(world, acting_as)
    form = session.scalars(select(InspectionForm).where(InspectionForm.passport_id == car.id)).one()
    work = PerformedWork(
        form_id=form.id,
        description="Remblokken; Karel Wiebenga belt terug op 06-55501234",
        done_on=dt.date(2026, 11, 22),
        added_by="garage-jansen",
    )
    session.add(work)
    session.commit()
    customer = session.get(Passport, car.id).owner
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_customer(session, support, customer, "Verzoek van de garage", REQUESTED)
    session.expire_all()
    assert session.get(PerformedWork, work.id).description == "verwijderd"


def test_issue19_attack2_a_plain_login_name_does_not_erase_every_word_like_it(world, acting_as):
    """R-DR-2: an Owner login made by Admin may be named like a word ("karel", as the
    demo's "eigenaar"): erasing him must not empty every other text holding that word,
    such as another Karel's mail. His own actions lose the name by their actor id."""
    session = world.session
    car = karel_at(world, acting_as, "garage-jansen", "KW-07-XY")
    login = ConsoleUser(
        username="karel",
        email=KAREL["email"],
        first_name="Karel",
        last_name="Wiebenga",
        active=True,
    )
    login.roles = [world.user("eigenaar").roles[0]]
    session.add(login)
    other = OutboxMessage(
        garage_id=car.garage_id,
        recipient="karel.deboer@example.nl",
        kind="inspection",
        subject="Welkom, Karel de Boer",
        params={"name": "Karel de Boer"},
        state="sent",
    )
    session.add(other)
    session.commit()
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    session.expire_all()
    other = session.get(OutboxMessage, other.id)
    assert (other.subject, other.params) == ("Welkom, Karel de Boer", {"name": "Karel de Boer"})
    assert session.get(ConsoleUser, login.id).username.endswith("@verwijderd.invalid")


def test_issue19_use_the_erase_itself_is_in_the_audit_log_in_words(app, world, acting_as):
    """The confirm step promises the erase stays in the audit log with its request date
    and reason: Support reading the log sees an erase, not only "Klant gewijzigd"."""
    from admin_app.models import AuditLog
    from admin_app.services.audit import describe_entries

    session = world.session
    full_history(world, acting_as)
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        done = erase.erase_person(session, support, KAREL["email"], "Op zijn verzoek", REQUESTED)
    entry = session.scalar(
        select(AuditLog).where(
            AuditLog.table_name == "erasure", AuditLog.record_id == done.erasure.id
        )
    )
    assert entry is not None
    with app.app_context():
        (described,) = describe_entries(session, [entry], "nl")
    assert described.what == "Klantgegevens verwijderd (AVG)"
    assert "Datum van het verzoek: 01-12-2026" in described.changes_text
    assert "Reden: Op zijn verzoek" in described.changes_text
    assert "Verwijderde klanten: 2" in described.changes_text
    assert "De persoon, bij elke garage" in described.changes_text
    assert "erasure" not in described.changes_text and "person" not in described.changes_text


def test_issue19_use_erasing_him_leaves_his_neighbours_street_and_postcode(app, world, acting_as):
    """A street and a postcode are shared by neighbours (as a bare last name by a garage):
    erasing Karel must not turn his neighbour's address into "verwijderd" in the log."""
    from admin_app.models import AuditLog

    session = world.session
    car = karel_at(world, acting_as, "garage-jansen", "KW-01-XY")
    neighbour = dict(
        KAREL,
        email="m.dijkstra@example.nl",
        first_name="Mieke",
        last_name="Dijkstra",
        house_number="9",
        phone="06-44409876",
        customer_number="MD-1234",
    )
    with acting_as("garage-jansen") as acting:
        with unit_of_work(session):
            theirs = passport_rules.create_passport(
                session, actor=acting.actor, plate="MD-02-XY", person=PersonDetails(**neighbour)
            )
            neighbour_id = theirs.owner_id
    support = actor_of(world, "support")
    set_actor(session, support)
    with unit_of_work(session):
        erase.erase_customer(session, support, car.owner, "Verzoek van de garage", REQUESTED)
    session.expire_all()
    logged = session.scalar(
        select(AuditLog).where(
            AuditLog.table_name == "customer",
            AuditLog.record_id == neighbour_id,
            AuditLog.action == "insert",
        )
    )
    assert logged.changes["street"][1] == KAREL["street"]
    assert logged.changes["postcode"][1] == KAREL["postcode"]


def test_issue19_use_the_pending_transfer_refusal_names_the_car(world):
    """Support is told to cancel or finish "the transfer": the refusal names its car, which
    may be at another garage than the page Support is on."""
    session = world.session
    plate = session.scalar(
        select(Passport.plate)
        .join(Transfer, Transfer.passport_id == Passport.id)
        .where(Transfer.state == "pending", Transfer.to_email == "eigenaar@example.nl")
    )
    support = actor_of(world, "support")
    set_actor(session, support)
    from admin_app.domain.plates import display_plate

    with pytest.raises(Conflict, match=display_plate(plate)):
        erase.erase_person(session, support, "eigenaar@example.nl", "Verzoek", REQUESTED)
    session.rollback()


@pytest.mark.skipif(DB_KIND != "postgresql", reason="row locks: PostgreSQL")
def test_issue19_two_erases_at_once_erase_once(app, engine, world, acting_as):
    """R-DR-2: Support clicking twice (or two desks at once): the second erase waits for
    the first's row lock, then finds him erased and records no second erasure."""
    import threading

    from sqlalchemy.orm import Session

    car = karel_at(world, acting_as, "garage-jansen", "KW-04-XY")
    customer_id = car.owner_id
    world.session.commit()
    support = actor_of(world, "support")
    first, second = Session(bind=engine), Session(bind=engine)
    answers = {}

    def other_desk():
        with app.app_context(), unit_of_work(second, support):
            done = erase.erase_customer(
                second, support, second.get(Customer, customer_id), "Verzoek", REQUESTED
            )
            answers["second"] = done.erasure is not None

    with app.app_context():
        with unit_of_work(first, support):
            done = erase.erase_customer(
                first, support, first.get(Customer, customer_id), "Verzoek", REQUESTED
            )
            answers["first"] = done.erasure is not None
            thread = threading.Thread(target=other_desk)
            thread.start()
            thread.join(1.0)
            assert thread.is_alive()  # waiting on his row until the first commits
        thread.join(10)
    first.close(), second.close()
    assert answers == {"first": True, "second": False}
    assert (
        world.session.scalar(
            select(func.count(Erasure.id)).where(Erasure.customer_id == customer_id)
        )
        == 1
    )
