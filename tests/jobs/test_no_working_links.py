"""Issue 13 (critical): the outbox holds ids, never a link; after mails of every kind went
out through a real SMTP server, no row of any table holds a working link."""

from __future__ import annotations

import re

from flask_appbuilder import Model
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.models import ContactProposal, InspectionForm, OutboxMessage, Passport
from admin_app.services import accounts, inspections, transfers
from admin_app.services import passports as rules
from admin_app.services.outbox import queue_mail
from admin_app.services.passports import PersonDetails
from tests.jobs.test_outbox import _deliver, smtp  # noqa: F401  (the SMTP sink fixture)

PATHS = ("activate", "access", "transfer/accept", "reset-password", "inspection", "opt-out")
LINK = re.compile(rf"http://localhost/({'|'.join(PATHS)})/(\S+)")
KINDS = {
    "activation",
    "driver_access",
    "transfer_notice",
    "password_reset",
    "inspection",
    "invitation",
}


def _mail_every_kind(world, acting_as) -> None:
    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    with acting_as("garage-jansen") as acting:
        fresh = world.passports(garage_id=jansen.id, state="created")[0]
        with unit_of_work(s):
            rules.send_passport(s, fresh.id, actor=acting.actor)
        stock = world.passports(garage_id=jansen.id, stock_car=True, state="activated")[0]
        with unit_of_work(s):
            transfers.start_transfer(
                s,
                stock.id,
                actor=acting.actor,
                person=PersonDetails.from_mapping(
                    {"email": "support@autopaspoort.example", "last_name": "Koper"}
                ),
            )
        form = s.scalars(
            select(InspectionForm).where(
                InspectionForm.garage_id == jansen.id, InspectionForm.version > 0
            )
        ).first()
        with unit_of_work(s):
            inspections.mail_again(s, form.id, actor=acting.actor)
        with unit_of_work(s):
            accounts.add_colleague(
                s,
                garage_id=jansen.id,
                username="monteur",
                email="monteur@autobedrijf-jansen.nl",
                first_name="Mo",
                last_name="Teur",
            )
    fleet_id = world.user("fleet-bakker").fleet_account_id
    with acting_as("fleet-bakker") as acting, unit_of_work(s):
        car = s.scalars(select(Passport).where(Passport.fleet_account_id == fleet_id)).first()
        transfers.start_transfer(
            s,
            car.id,
            actor=acting.actor,
            kind="driver",
            person=PersonDetails.from_mapping({"email": "rijder@example.nl", "last_name": "R"}),
        )
    proposal = s.scalars(select(ContactProposal).limit(1)).one()  # any garage's
    with acting_as(None), unit_of_work(s):
        accounts.mail_password_link(s, world.user("support"), welcome=False)
        queue_mail(
            s,
            recipient=proposal.customer.email,
            kind="invitation",
            subject="Uitnodiging",
            params={"proposal_id": proposal.id},
            garage_id=proposal.garage_id,
        )


def test_issue13_no_row_of_any_table_holds_a_working_link(app, world, acting_as, smtp):  # noqa: F811
    _mail_every_kind(world, acting_as)
    queued = {m.kind for m in world.session.scalars(select(OutboxMessage)) if m.state == "pending"}
    assert KINDS <= queued
    _deliver(app)
    links = LINK.findall("\n".join(smtp.texts()))
    assert {path for path, _ in links} == set(PATHS)
    raws = {raw for _, raw in links}
    world.session.expire_all()
    with world.session.bind.connect() as connection:
        for table in Model.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                stored = " ".join(str(value) for value in row)
                assert not LINK.search(stored), f"{table.name} holds a link"
                assert not [raw for raw in raws if raw in stored], f"{table.name} holds a token"
