"""R-CP screens: the week's list with yes/no/never one by one and in bulk, the opt-out
page, the conversion dashboard with its export."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import ContactProposal, Customer
from tests.conftest import CSRF_RE


def test_r_cp_2_decide_one_by_one_and_in_bulk_on_screen(world, login_as):
    browser = login_as("garage-jansen")
    page = browser.client.get("/proposals/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Contactvoorstellen" in html
    jansen = world.garage("Autobedrijf Jansen").id
    open_rows = world.session.scalars(
        select(ContactProposal).where(
            ContactProposal.garage_id == jansen, ContactProposal.closed.is_(False)
        )
    ).all()
    week = open_rows[0].week
    token = CSRF_RE.search(html).group(1)
    first, *rest = open_rows
    saved = browser.client.post(
        "/proposals/decide",
        data={"csrf_token": token, "week": week, f"decision-{first.id}": "no"},
        follow_redirects=True,
    )
    assert "opgeslagen" in saved.get_data(as_text=True)
    browser.client.post(
        "/proposals/decide",
        data={
            "csrf_token": token,
            "week": week,
            "bulk": "never",
            "selected": [str(r.id) for r in rest],
        },
    )
    world.session.expire_all()
    decisions = {p.id: p.decision for p in world.session.scalars(select(ContactProposal))}
    assert decisions[first.id] == "no"
    assert {decisions[r.id] for r in rest} <= {"never"}


def test_r_cp_2_the_opt_out_link_asks_first_then_sets_never(world, app):
    from admin_app.services.proposals import OPT_OUT, OPT_OUT_TTL
    from admin_app.services.tokens import issue_token

    customer = world.session.scalars(select(Customer).limit(1)).one()
    token = issue_token(
        world.session,
        purpose=OPT_OUT,
        ttl=OPT_OUT_TTL,
        recipient=customer.email,
        subject_id=customer.id,
    )
    world.session.commit()
    client = app.test_client()
    page = client.get(f"/opt-out/{token}")
    assert page.status_code == 200
    world.session.refresh(customer)
    assert not customer.never_contact  # a GET changes nothing
    csrf = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    done = client.post(f"/opt-out/{token}", data={"csrf_token": csrf})
    assert "geen uitnodigingen meer" in done.get_data(as_text=True)
    world.session.refresh(customer)
    assert customer.never_contact
    assert client.get(f"/opt-out/{token}x").status_code == 404


def test_r_cp_4_conversion_dashboard_with_chart_and_export(world, login_as):
    browser = login_as("garage-devries")
    page = browser.client.get("/proposals/conversion")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "<rect" in html
    assert "cdn" not in html.lower()
    export = browser.client.get("/proposals/conversion.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
