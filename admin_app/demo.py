"""Demo data for `make run` (SPEC "Demo data and logins"). Every login's password: demo.

Deterministic (a seeded random), so screenshots and tests can rely on it.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from admin_app.db import unit_of_work
from admin_app.domain.plates import SIDE_CODES
from admin_app.extensions import db
from admin_app.models import (
    ConsoleUser,
    Customer,
    FleetAccount,
    Garage,
    Passport,
    PassportClaim,
)
from admin_app.models.base import utcnow
from admin_app.roles import ADMIN, FLEET_MANAGER, GARAGE, OWNER, SUPPORT
from admin_app.services.accounts import find_role
from admin_app.services.audit import Actor
from admin_app.services.outbox import queue_mail
from admin_app.services.passports import activation_subject

DEMO_PASSWORD = "demo"
ACTOR = Actor.job("demo-data")

FIRST_NAMES = [
    "Jan",
    "Sanne",
    "Pieter",
    "Fatima",
    "Daan",
    "Emma",
    "Mohamed",
    "Lotte",
    "Bram",
    "Anouk",
    "Kees",
    "Noor",
    "Thijs",
    "Yara",
    "Ruben",
    "Femke",
    "Joost",
    "Iris",
]
LAST_NAMES = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("van den", "Berg"),
    ("", "Yılmaz"),
    ("", "Peters"),
]
STREETS = ["Dorpsstraat", "Kerkstraat", "Schoolstraat", "Molenweg", "Beatrixlaan", "Stationsweg"]
CITIES = [
    ("3511 AB", "Utrecht"),
    ("1012 JS", "Amsterdam"),
    ("2311 EZ", "Leiden"),
    ("8911 BK", "Leeuwarden"),
    ("5611 AA", "Eindhoven"),
]
CARS = [
    ("Volkswagen", "Golf", "benzine"),
    ("Škoda", "Octavia", "diesel"),
    ("Toyota", "Yaris", "hybride"),
    ("Tesla", "Model 3", "elektrisch"),
    ("Kia", "Niro", "elektrisch"),
    ("Peugeot", "208", "benzine"),
    ("Opel", "Corsa", "benzine"),
    ("Renault", "Clio", "benzine"),
]


class PlateMaker:
    """Distinct valid plates across the whole demo (no plate at both garages)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self) -> str:
        while True:
            code = self.rng.choice(SIDE_CODES[3:])
            plate = "".join(
                "".join(
                    self.rng.choice("BDFGHJKLNPRSTVXZ")
                    if g[0] == "L"
                    else self.rng.choice("0123456789")
                    for _ in g
                )
                for g in code
            )
            if plate not in self.used:
                self.used.add(plate)
                return plate


def load_demo_data(*, only_if_empty: bool = True) -> bool:
    session = db.session
    if only_if_empty and session.scalar(select(func.count()).select_from(Garage)):
        return False
    rng = random.Random(20261125)
    plates = PlateMaker(rng)
    # First: the demo's own recalls below join the register's generation (issue 18).
    _vehicle_register(session)
    with unit_of_work(session, ACTOR):
        jansen = Garage(
            name="Autobedrijf Jansen",
            email="werkplaats@autobedrijf-jansen.nl",
            street="Industrieweg",
            house_number="12",
            postcode="3542 AD",
            city="Utrecht",
            phone="030-2345678",
        )
        devries = Garage(
            name="Garage De Vries",
            email="info@garagedevries.nl",
            street="Havenstraat",
            house_number="3",
            postcode="2311 EZ",
            city="Leiden",
            phone="071-5123456",
            advice_followup_default=True,
        )
        session.add_all([jansen, devries])
        session.flush()
        for garage, domain in ((jansen, "example.nl"), (devries, "example.com")):
            _garage_passports(session, garage, domain, rng, plates)
        fleet = _fleet(
            session,
            jansen,
            "Bouwbedrijf Bakker",
            "wagenpark@bouwbedrijf-bakker.nl",
            "p.bakker@bouwbedrijf-bakker.nl",
            rng,
            plates,
        )
        _fleet(
            session,
            devries,
            "Transport Visser",
            "wagenpark@transportvisser.nl",
            "m.visser@transportvisser.nl",
            rng,
            plates,
        )
        _owner_cars(session, jansen, rng, plates)
        _logins(session, jansen, devries, fleet)
        session.flush()
        # One transfer waiting for acceptance at each garage, made the way staff make
        # it: a sold stock car handed to someone who has an Owner login.
        _pending_transfer(session, jansen, "eigenaar@example.nl", rng, plates)
        _pending_transfer(session, devries, "nieuwe.eigenaar@example.com", rng, plates)
        session.flush()
        for garage in (jansen, devries):
            _inspections(session, garage)
        for garage in (jansen, devries):
            _invoices(session, garage, rng)
        _proposals(session, rng)
        # After the proposals: their weekly run recomputes next service dates.
        _fleet_maintenance(session, fleet)
        # Last, with a generator of its own: the rows above stay as they were.
        _apk_reminder_history(session, random.Random(18))
    return True


REGISTER_FILES = (
    "rdw-voertuigen-voorbeeld.csv",
    "rdw-brandstof-voorbeeld.csv",
    "rdw-terugroep-acties-voorbeeld.csv",
    "rdw-terugroep-status-voorbeeld.csv",
)


def _vehicle_register(session) -> None:
    """The sample register files (issue 18), imported as Admin's would be: a passport made
    for one of their plates (7ZTK17) is filled in from the register."""
    from pathlib import Path

    from admin_app.jobs.register import import_now

    folder = Path(__file__).parent / "demo_data" / "register"
    for name in REGISTER_FILES:
        import_now(session, folder / name, actor=ACTOR)


def _demo_recall(session, plate, reference, defect) -> None:
    """An open recall of a demo car, in the register readers see."""
    from admin_app.models import Recall, RecallDetail

    session.add(Recall(plate=plate, reference=reference, status="O"))
    session.add(
        RecallDetail(
            reference=reference,
            defect=defect,
            remedy="De dealer vervangt het onderdeel kosteloos.",
        )
    )


def _apk_reminder_history(session, rng) -> None:
    """Nine weeks of APK reminders, some followed by an APK invoice (issue 18), so the
    conversion page shows what reminders bring in."""
    from admin_app.domain.clock import AMSTERDAM, local_today
    from admin_app.models import ApkReminder, Invoice
    from admin_app.services.apk_reminders import RUN_HOUR

    today = local_today()
    this_monday = today - timedelta(days=today.weekday())
    invoiced: dict[str, list[date]] = {}
    for plate, day in session.execute(select(Invoice.plate, Invoice.invoice_date)):
        invoiced.setdefault(plate, []).append(day)
    reminded: set[int] = set()
    for garage in session.scalars(select(Garage).order_by(Garage.id)).all():
        cars = (
            session.scalars(
                select(Passport)
                .where(
                    Passport.garage_id == garage.id,
                    Passport.stock_car.is_(False),
                    Passport.state.in_(("sent", "activated")),
                    Passport.fleet_account_id.is_(None),
                )
                .order_by(Passport.id)
            )
            .unique()
            .all()
        )
        for weeks_back in range(10, 1, -1):
            monday = this_monday - timedelta(weeks=weeks_back)
            reminded_at = datetime.combine(monday, time(RUN_HOUR), tzinfo=AMSTERDAM).astimezone(UTC)
            # Cars with no other invoice in the 8 weeks after: what came back is the APK.
            quiet = [
                car
                for car in cars
                if car.id not in reminded
                and not any(
                    monday <= day <= monday + timedelta(weeks=8)
                    for day in invoiced.get(car.plate, ())
                )
            ]
            for car in rng.sample(quiet, min(3, len(quiet))):
                reminded.add(car.id)
                session.add(
                    ApkReminder(
                        garage_id=garage.id,
                        passport_id=car.id,
                        customer_id=car.owner_id,
                        apk_expiry=monday + timedelta(weeks=6),
                        reminded_at=reminded_at,
                    )
                )
                if rng.random() < 0.6:
                    session.add(
                        Invoice(
                            garage_id=garage.id,
                            invoice_date=min(today, monday + timedelta(days=rng.randint(7, 40))),
                            plate=car.plate,
                            customer_id=car.owner_id,
                            amount_cents=rng.randint(4_500, 38_000),
                            kind="apk",
                        )
                    )
    session.flush()


def _invoices(session, garage, rng) -> None:
    """Two years of invoices per car, as a management system would have them (R-CP)."""
    from admin_app.models import Invoice

    today = date.today()
    cars = (
        session.scalars(
            select(Passport).where(
                Passport.garage_id == garage.id,
                Passport.stock_car.is_(False),
                Passport.state != "archived",
            )
        )
        .unique()
        .all()
    )
    open_monday = _open_monday()
    rows = []
    for index, car in enumerate(cars):
        interval = rng.choice([180, 270, 365, 365, 400])
        # A few cars fall due in the week whose list is open, so the screen has proposals.
        last = (
            open_monday + timedelta(days=index % 5) - timedelta(days=interval)
            if index % 9 == 0
            else today - timedelta(days=rng.randint(70, interval))
        )
        visit = last
        while visit > today - timedelta(days=730):
            rows.append((car, visit, "maintenance", rng.randint(15_000, 95_000)))
            visit -= timedelta(days=interval)
        if rng.random() < 0.6:
            rows.append(
                (
                    car,
                    today - timedelta(days=rng.randint(60, 700)),
                    "repair",
                    rng.randint(8_000, 250_000),
                )
            )
        if rng.random() < 0.5:
            rows.append(
                (
                    car,
                    today - timedelta(days=rng.randint(60, 360)),
                    "apk",
                    rng.randint(4_500, 6_500),
                )
            )
    session.add_all(
        Invoice(
            garage_id=garage.id,
            invoice_date=day,
            plate=car.plate,
            customer_number=car.owner.customer_number,
            customer_id=car.owner_id,
            amount_cents=cents,
            kind=kind,
        )
        for car, day, kind, cents in rows
    )
    session.flush()


def _open_monday() -> date:
    from admin_app.models.base import utcnow
    from admin_app.services.proposals import open_week, week_monday

    return week_monday(open_week(utcnow()))


def _proposals(session, rng) -> None:
    """Ten closed weeks of invitations (some followed by a visit: the conversion
    dashboard), next service dates from the invoices, and the open week's proposals."""
    from admin_app.models import ContactProposal, Invoice
    from admin_app.models.base import utcnow
    from admin_app.services.proposals import (
        deadline,
        iso_week,
        make_proposals,
        open_week,
        update_next_service,
        week_monday,
    )

    monday = week_monday(open_week(utcnow()))
    for garage in session.scalars(select(Garage)).all():
        cars = (
            session.scalars(
                select(Passport).where(
                    Passport.garage_id == garage.id,
                    Passport.stock_car.is_(False),
                    Passport.state == "activated",
                )
            )
            .unique()
            .all()
        )
        for weeks_back in range(11, 1, -1):
            week = iso_week(monday - timedelta(days=7 * weeks_back))
            invited_at = deadline(week)
            for car in rng.sample(cars, min(5, len(cars))):
                session.add(
                    ContactProposal(
                        garage_id=garage.id,
                        week=week,
                        week_start=week_monday(week),
                        customer_id=car.owner_id,
                        passport_id=car.id,
                        reason="periodic",
                        predicted_date=week_monday(week) + timedelta(days=rng.randint(0, 4)),
                        decision="yes",
                        closed=True,
                        invited_at=invited_at,
                    )
                )
                if rng.random() < 0.45:
                    session.add(
                        Invoice(
                            garage_id=garage.id,
                            invoice_date=invited_at.date() + timedelta(days=rng.randint(2, 30)),
                            plate=car.plate,
                            customer_id=car.owner_id,
                            amount_cents=rng.randint(12_000, 160_000),
                            kind="repair",
                        )
                    )
    session.flush()
    update_next_service(session)
    make_proposals(session, open_week(utcnow()), utcnow())


def _inspections(session, garage) -> None:
    """Invitations, a saved all-OK form, a form with advice, and open recalls (R-IN)."""

    from admin_app.services import inspections

    actor = Actor(None, "demo-data", roles=frozenset({GARAGE}), garage_id=garage.id)
    activated = (
        session.scalars(
            select(Passport)
            .where(
                Passport.garage_id == garage.id,
                Passport.state == "activated",
                Passport.stock_car.is_(False),
                Passport.fleet_account_id.is_(None),
            )
            .order_by(Passport.id)
        )
        .unique()
        .all()
    )
    for passport in activated[:4]:
        inspections.register_invitation(
            session, passport_id=passport.id, actor=actor, wanted_date=date.today()
        )
    # One reference per garage: a recall's details are one row, whoever's car it is.
    for passport, reference in zip(activated[:2], ("RDW2025301", "RDW2025302"), strict=True):
        _demo_recall(
            session, passport.plate, f"{reference}{garage.id}", "Airbag kan onvoldoende opblazen"
        )
    today = date.today()
    plain = inspections.create_draft(
        session,
        kind="all_ok",
        actor=actor,
        inspector="Piet Monteur",
        inspection_date=today,
        passport_id=activated[0].id,
    )
    inspections.save_form(session, plain.id, actor=actor, today=today)
    advised = inspections.create_draft(
        session,
        kind="all_ok",
        actor=actor,
        inspector="Kees Werkplaats",
        inspection_date=today,
        passport_id=activated[1].id,
    )
    brakes = next(r for r in advised.content["results"] if r["group"] == "Remmen")
    inspections.update_form(
        session,
        advised.id,
        {
            "results": [{**brakes, "status": "advice", "remark": "Nog ca. 3 mm"}],
            "advice": [
                {"description": "Remblokken voor vervangen", "price": "189,95"},
                {"description": "Ruitenwisserbladen", "price": "34,50"},
            ],
        },
        actor=actor,
        today=today,
    )
    inspections.save_form(session, advised.id, actor=actor, today=today)


def _fleet_maintenance(session, fleet) -> None:
    """Bouwbedrijf Bakker's dashboard on any day (R-FL-5, SPEC's demo section): of its 5
    cars one has an APK date passed, one an APK due within 30 days, one an open recall and
    one open advice, the latter with a form from before it joined the fleet too (shown
    without customer block). No rng: the other demo data stays as it was."""
    from admin_app.services import inspections

    today, now = date.today(), utcnow()
    cars = (
        session.scalars(
            select(Passport).where(Passport.fleet_account_id == fleet.id).order_by(Passport.id)
        )
        .unique()
        .all()
    )
    actor = Actor(None, "demo-data", roles=frozenset({GARAGE}), garage_id=fleet.garage_id)
    advised = cars[3]
    linked_at = now - timedelta(days=180)
    before_day = today - timedelta(days=240)
    before = inspections.create_draft(
        session,
        kind="all_ok",
        actor=actor,
        inspector="Piet Monteur",
        inspection_date=before_day,
        passport_id=advised.id,
    )
    inspections.update_form(
        session,
        before.id,
        {"customer": {"name": "J. de Groot", "email": "j.degroot@example.nl"}},
        actor=actor,
        today=before_day,
    )
    version = inspections.save_form(session, before.id, actor=actor, today=before_day)
    before.created_at = before.saved_at = version.saved_at = now - timedelta(days=240)
    day = today - timedelta(days=20)
    form = inspections.create_draft(
        session,
        kind="all_ok",
        actor=actor,
        inspector="Kees Werkplaats",
        inspection_date=day,
        passport_id=advised.id,
    )
    tyres = next(r for r in form.content["results"] if r["group"] == "Banden en wielen")
    inspections.update_form(
        session,
        form.id,
        {
            "results": [{**tyres, "status": "advice", "remark": "Profiel 2,5 mm"}],
            "advice": [{"description": "Banden voor vervangen", "price": "298,00"}],
        },
        actor=actor,
        today=day,
    )
    inspections.save_form(session, form.id, actor=actor, today=day)
    _demo_recall(session, cars[2].plate, "RDW2025201", "Brandstofleiding kan gaan lekken")
    # Dates set last: saving a form copies its dates onto the passport.
    dates = [(-12, 150), (21, 180), (200, 90), (250, 120), (300, 160)]
    for car, (apk, service) in zip(cars, dates, strict=True):
        car.apk_expiry = today + timedelta(days=apk)
        car.next_service = today + timedelta(days=service)
        car.fleet_linked_at = linked_at
    session.flush()


def _pending_transfer(session, garage, email, rng, plates) -> None:

    from admin_app.services import transfers
    from admin_app.services.passports import PersonDetails, owner_login

    stock_owner = session.scalars(
        select(Customer).where(Customer.garage_id == garage.id, Customer.email == garage.email)
    ).first()
    car = _passport(session, garage, stock_owner, rng, plates, state="activated", stock=True)
    session.flush()
    if owner_login(session, email) is None:
        user = ConsoleUser(
            username=email, first_name="Nieuwe", last_name="Eigenaar", email=email, active=True
        )
        user.roles = [find_role(session, OWNER)]
        session.add(user)
        session.flush()
    actor = Actor(None, ACTOR.name, roles=frozenset({GARAGE}), garage_id=garage.id)
    transfers.start_transfer(
        session,
        car.id,
        actor=actor,
        person=PersonDetails.from_mapping(
            {"email": email, "last_name": "Eigenaar", "first_name": "Nieuwe"}
        ),
    )


def _customer(session, garage, rng, *, email=None, domain="example.nl", index=0) -> Customer:
    first = rng.choice(FIRST_NAMES)
    infix, last = rng.choice(LAST_NAMES)
    postcode, city = rng.choice(CITIES)
    customer = Customer(
        garage_id=garage.id,
        first_name=first,
        infix=infix or None,
        last_name=last,
        email=email or f"{first.lower()}.{(infix + last).replace(' ', '').lower()}{index}@{domain}",
        street=rng.choice(STREETS),
        house_number=str(rng.randint(1, 250)),
        postcode=postcode,
        city=city,
        phone=f"06-{rng.randint(10000000, 99999999)}",
        customer_number=str(100000 + index),
    )
    session.add(customer)
    return customer


def _passport(
    session,
    garage,
    owner,
    rng,
    plates,
    *,
    state,
    stock=False,
    driver=None,
    fleet=None,
    via="manual",
) -> Passport:
    brand, model, fuel = rng.choice(CARS)
    today = date.today()
    passport = Passport(
        garage_id=garage.id,
        plate=plates(),
        brand=brand,
        model=model,
        fuel=fuel,
        first_registration=today - timedelta(days=rng.randint(365, 365 * 12)),
        # Dates on both sides of "inspection date + 4 months", some unknown or overdue.
        apk_expiry=rng.choice(
            [
                None,
                today - timedelta(days=20),
                today + timedelta(days=60),
                today + timedelta(days=200),
                today + timedelta(days=400),
            ]
        ),
        next_service=rng.choice([None, today + timedelta(days=30), today + timedelta(days=150)]),
        mobility_renewal=rng.choice(
            [None, today + timedelta(days=90), today + timedelta(days=300)]
        ),
        odometer=rng.randint(5_000, 240_000),
        owner=owner,
        driver=driver,
        fleet_account_id=fleet.id if fleet else None,
        stock_car=stock,
        state=state,
        created_via=via,
    )
    now = utcnow()
    if state in ("sent", "activated", "transfer_pending"):
        passport.sent_at = now - timedelta(days=rng.randint(10, 300))
    if state in ("activated", "transfer_pending") or stock:
        passport.activated_at = now - timedelta(days=rng.randint(1, 9))
    if state == "archived":
        passport.archived_at = now - timedelta(days=rng.randint(1, 60))
    session.add(passport)
    return passport


def _garage_passports(session, garage, domain, rng, plates) -> None:
    stock_owner = Customer(
        garage_id=garage.id, first_name=None, last_name=garage.name, email=garage.email
    )
    session.add(stock_owner)
    plan = (
        ["stock"] * 8
        + ["created"] * 12
        + ["sent"] * 14
        + ["activated"] * 18
        + ["bounced"] * 4
        + ["archived"] * 4
    )
    for index, kind in enumerate(plan, start=1):
        if kind == "stock":
            _passport(session, garage, stock_owner, rng, plates, state="activated", stock=True)
            continue
        owner = _customer(session, garage, rng, domain=domain, index=index)
        if kind == "bounced":
            owner.email = f"onbekend{index}@{domain}"
            owner.email_bounced_at = utcnow() - timedelta(days=2)
            _passport(session, garage, owner, rng, plates, state="sent", via="list")
            continue
        _passport(
            session,
            garage,
            owner,
            rng,
            plates,
            state=kind,
            via=rng.choice(["manual", "list", "api"]),
        )
    session.flush()
    # A few activation mails waiting in the outbox (no SMTP server in the demo).
    for passport in session.scalars(
        select(Passport)
        .where(Passport.garage_id == garage.id, Passport.state == "sent")
        .order_by(Passport.id)
        .limit(3)
    ):
        queue_mail(
            session,
            recipient=passport.owner.email,
            kind="activation",
            subject=activation_subject(passport.plate_display, garage.name),
            params={"passport_id": passport.id},
            garage_id=garage.id,
        )


def _fleet(session, garage, name, email, manager_email, rng, plates) -> FleetAccount:
    manager = _customer(session, garage, rng, email=manager_email)
    manager_passport = _passport(session, garage, manager, rng, plates, state="activated")
    company = Customer(
        garage_id=garage.id, last_name=name, email=email.replace("wagenpark@", "administratie@")
    )
    session.add(company)
    session.flush()
    fleet = FleetAccount(
        garage_id=garage.id, name=name, email=email, manager_passport_id=manager_passport.id
    )
    session.add(fleet)
    session.flush()
    for index in range(5):
        driver = _customer(session, garage, rng, domain=email.split("@")[1], index=900 + index)
        _passport(
            session, garage, company, rng, plates, state="activated", driver=driver, fleet=fleet
        )
    session.flush()
    return fleet


def _owner_cars(session, garage, rng, plates) -> None:
    owner = _customer(session, garage, rng, email="eigenaar@example.nl")
    owner.first_name, owner.infix, owner.last_name = "Eva", None, "Eigenaar"
    for _ in range(2):
        _passport(session, garage, owner, rng, plates, state="activated")
    session.flush()


@functools.cache
def _demo_password_hash() -> str:
    return generate_password_hash(DEMO_PASSWORD)


def _logins(session, jansen, devries, fleet) -> None:
    password = _demo_password_hash()
    for username, role, first, last, email, garage_id, fleet_id in (
        ("admin", ADMIN, "Ada", "Beheer", "admin@autopaspoort.example", None, None),
        (
            "garage-jansen",
            GARAGE,
            "Gert",
            "Jansen",
            "balie@autobedrijf-jansen.nl",
            jansen.id,
            None,
        ),
        (
            "garage-devries",
            GARAGE,
            "Dirk",
            "de Vries",
            "balie@garagedevries.nl",
            devries.id,
            None,
        ),
        ("fleet-bakker", FLEET_MANAGER, "Peter", "Bakker", fleet.email, None, fleet.id),
        ("support", SUPPORT, "Sam", "Helpdesk", "support@autopaspoort.example", None, None),
        ("eigenaar", OWNER, "Eva", "Eigenaar", "eigenaar@example.nl", None, None),
    ):
        user = ConsoleUser(
            username=username,
            first_name=first,
            last_name=last,
            email=email,
            active=True,
            password=password,
            garage_id=garage_id,
            fleet_account_id=fleet_id,
        )
        user.roles = [find_role(session, role)]
        session.add(user)
        if role == OWNER:
            # Eva activated her cars with their mailed links: she holds them.
            session.flush()
            for passport in session.scalars(
                select(Passport)
                .join(Customer, Customer.id == Passport.owner_id)
                .where(Customer.email == email, Passport.state == "activated")
            ):
                session.add(PassportClaim(passport_id=passport.id, role="owner", user_id=user.id))
