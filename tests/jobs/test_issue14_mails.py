"""Issue 14, mails (R-X-1, R-CP-2, R-FL-2): what the mail server receives.

Every mail is parsed as a mail program would read it, from the real SMTP sink: its Date
and Message-ID, a text and an HTML part, the garage's logo inline by Content-ID, user text
escaped, one-click unsubscribe on invitations, and a greeting with the name as stored.
"""

from __future__ import annotations

import email
import re
from email import policy
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from admin_app.db import unit_of_work
from admin_app.models import ContactProposal, Customer, Garage, InspectionForm, OutboxMessage
from admin_app.services import fleets, inspections
from admin_app.services.outbox import queue_mail
from tests.jobs.test_no_working_links import _mail_every_kind
from tests.jobs.test_outbox import _deliver, smtp  # noqa: F401  (the SMTP sink fixture)
from tests.mails import mail_text
from tests.services.test_fleets import jansen_activated

# The smallest PNG there is (1×1): what matters is that its bytes arrive unchanged.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
SENDER = "Garage Console <post@mail.garages.test>"
SALUTATIONS = re.compile(r"\b(heer|mevrouw|meneer|mevr|dhr)\b", re.IGNORECASE)


@pytest.fixture()
def sender(app):
    old = app.config["MAIL_FROM"]
    app.config["MAIL_FROM"] = SENDER
    yield SENDER
    app.config["MAIL_FROM"] = old


def _received(sink) -> dict[str, list[email.message.EmailMessage]]:
    """Each mail the sink took, parsed, by recipient."""
    by_recipient: dict[str, list] = {}
    for envelope in sink.messages:
        mail = email.message_from_bytes(envelope.content, policy=policy.default)
        by_recipient.setdefault(envelope.rcpt_tos[0], []).append(mail)
    return by_recipient


def _text(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def _html(mail) -> str:
    return mail.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")


def _invite(world, acting_as, proposal) -> None:
    with acting_as(None), unit_of_work(world.session):
        queue_mail(
            world.session,
            recipient=proposal.customer.email,
            kind="invitation",
            subject="Uitnodiging",
            params={"proposal_id": proposal.id},
            garage_id=proposal.garage_id,
        )


def test_issue14_invitation_has_date_message_id_text_html_logo_and_one_click(
    app,
    world,
    acting_as,
    smtp,  # noqa: F811
    sender,
):
    """R-X-1, R-CP-2: Date, a Message-ID on MAIL_FROM's domain, text and HTML alternatives,
    the garage's name and logo (inline, by Content-ID), a customer named <script> escaped
    in the HTML; List-Unsubscribe with List-Unsubscribe-Post (RFC 8058)."""
    s = world.session
    proposal = s.scalars(select(ContactProposal).order_by(ContactProposal.id).limit(1)).one()
    customer, garage = proposal.customer, s.get(Garage, proposal.garage_id)
    customer.first_name, customer.infix, customer.last_name = "<script>", None, "Tester"
    garage.name = "Jansen & Zn <b>"
    garage.logo, garage.logo_mimetype = PNG, "image/png"
    s.commit()
    _invite(world, acting_as, proposal)
    _deliver(app)

    mail = _received(smtp)[customer.email][-1]
    assert parsedate_to_datetime(mail["Date"]).utcoffset() is not None
    assert re.fullmatch(r"<[^@<>\s]+@mail\.garages\.test>", mail["Message-ID"])
    assert mail.get_content_type() == "multipart/alternative"
    plain, related = mail.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png" and image.get_content() == PNG
    assert image["Content-ID"].endswith("@mail.garages.test>")
    assert image.get_content_disposition() == "inline"
    html = html_part.get_content()
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html

    text = _text(mail)
    assert text.startswith("Beste <script> Tester,\n\n")
    assert "Beste &lt;script&gt; Tester," in html
    assert "Jansen &amp; Zn &lt;b&gt;" in html
    assert "<script>" not in html and "<b>" not in html

    link = re.search(r"http://localhost/opt-out/\S+", text).group(0)
    assert mail["List-Unsubscribe"] == f"<{link}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{link}"' in html
    # Issue 18 (review): an answer reaches the garage that signed it, not noreply@.
    (reply_to,) = mail["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == ("Jansen & Zn <b>", garage.email)


def test_issue14_one_click_unsubscribe_needs_no_cookie_or_csrf(
    app,
    world,
    acting_as,
    smtp,  # noqa: F811
    sender,
):
    """R-CP-2 (RFC 8058): the mail program's POST of List-Unsubscribe=One-Click, with no
    cookie and no CSRF token, answers 200 without a redirect and sets "never"; the GET
    still asks first; any other POST still needs the CSRF token; a bad token is a 404."""
    s = world.session
    proposal = s.scalars(select(ContactProposal).order_by(ContactProposal.id).limit(1)).one()
    customer_id = proposal.customer_id
    _invite(world, acting_as, proposal)
    _deliver(app)
    mail = _received(smtp)[proposal.customer.email][-1]
    url = mail["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("http://localhost")

    asked = app.test_client().get(path)
    assert asked.status_code == 200 and 'id="opt-out"' in asked.get_data(as_text=True)
    assert app.test_client().post(path, data={"List-Unsubscribe": "Yes"}).status_code == 400
    s.expire_all()
    assert not s.get(Customer, customer_id).never_contact  # neither changed anything

    done = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    bad = app.test_client().post(path + "x", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Location" not in done.headers
    assert "geen uitnodigingen meer" in done.get_data(as_text=True)
    s.expire_all()
    assert s.get(Customer, customer_id).never_contact
    assert bad.status_code == 404


def test_issue14_every_kind_greets_by_the_stored_name_in_text_and_html(
    app,
    world,
    acting_as,
    smtp,  # noqa: F811
    sender,
):
    """R-X-1: every kind of mail, as received: a Date, a Message-ID on MAIL_FROM's domain,
    text and HTML, "Beste <name as stored>," and never a guessed salutation; no logo, no
    image part."""
    s = world.session
    proposal = s.scalars(select(ContactProposal).order_by(ContactProposal.id).limit(1)).one()
    _mail_every_kind(world, acting_as)
    kinds = {
        m.recipient: m.kind
        for m in s.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending"))
    }
    _deliver(app)
    received = _received(smtp)
    assert set(kinds.values()) >= {
        "activation",
        "driver_access",
        "transfer_notice",
        "password_reset",
        "inspection",
        "invitation",
    }
    for recipient in kinds:
        for mail in received[recipient]:
            assert mail["Date"] and mail["Message-ID"].endswith("@mail.garages.test>")
            assert mail.get_content_type() == "multipart/alternative"
            first_line = _text(mail).split("\n", 1)[0]
            assert re.fullmatch(r"Beste \S.*,", first_line), (recipient, first_line)
            assert first_line.replace("<", "&lt;").replace(">", "&gt;") in _html(mail)
            assert not SALUTATIONS.search(first_line)
            assert not [p for p in mail.walk() if p.get_content_maintype() == "image"]
            # Signed by who writes: the garage, or the platform for its own mails.
            closing, sender = _text(mail).rstrip().split("\n")[-2:]
            assert closing == "Met vriendelijke groet," and sender, (recipient, sender)
            assert sender in {g.name for g in s.scalars(select(Garage))} | {"Garageconsole"}
            assert "Met vriendelijke groet," in _html(mail)
    greeted = {r: {_text(m).split("\n", 1)[0] for m in received[r]} for r in kinds}
    # A transfer to a person known by his last name only, and Support's password reset.
    assert greeted["support@autopaspoort.example"] == {"Beste Koper,", "Beste Sam Helpdesk,"}
    assert greeted["rijder@example.nl"] == {"Beste R,"}  # the fleet's new driver
    assert greeted["monteur@autobedrijf-jansen.nl"] == {"Beste Mo Teur,"}  # a welcome
    assert f"Beste {proposal.customer.full_name}," in greeted[proposal.customer.email]
    sent = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="sent")
    assert any(f"Beste {p.owner.full_name}," in greeted.get(p.owner.email, ()) for p in sent)


def test_issue14_only_an_address_is_greeted_as_customer(app, world, acting_as):
    """R-X-1: "Beste klant" when only the e-mail is known (a form without a name)."""
    from admin_app.services.mails import greeting

    assert greeting("  Tom   de Tester ") == "Dear Tom de Tester,"  # outside a mail: English
    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    form = s.scalars(
        select(InspectionForm).where(
            InspectionForm.garage_id == jansen.id, InspectionForm.version > 0
        )
    ).first()
    version = next(v for v in form.versions if v.number == form.version)
    version.content = {**version.content, "customer": {**version.content["customer"], "name": ""}}
    s.commit()
    with acting_as("garage-jansen") as acting, unit_of_work(s):
        inspections.mail_again(s, form.id, actor=acting.actor)
    with app.app_context():
        assert mail_text(s).startswith("Beste klant,\n\n")


def test_issue14_fleet_welcome_names_the_garage_and_the_fleet_dashboard(
    app,
    world,
    acting_as,
    smtp,  # noqa: F811
    sender,
):
    """R-FL-2: the fleet manager's welcome mail says which garage made his login and links
    to his fleet dashboard."""
    s = world.session
    manager = jansen_activated(world)[0]
    with acting_as("garage-jansen") as acting, unit_of_work(s):
        fleets.create_fleet_account(
            s,
            actor=acting.actor,
            name="Loodgieter <BV>",
            email="wagenpark@loodgieter.nl",
            manager_passport_id=manager.id,
        )
    _deliver(app)
    mail = _received(smtp)["wagenpark@loodgieter.nl"][-1]
    assert mail["Subject"] == "Uw wagenparkaccount bij Autobedrijf Jansen"
    text = _text(mail)
    assert text.startswith("Beste Loodgieter <BV>,\n\nAutobedrijf Jansen heeft u een login")
    assert "wagenparkoverzicht" in text and "http://localhost/my-fleet/list/" in text
    assert "/reset-password/" in text
    html = _html(mail)
    assert '<a href="http://localhost/my-fleet/list/">' in html
    assert "Loodgieter &lt;BV&gt;" in html and "<BV>" not in html
