"""R-SEC-3 through the screens: the mailed link never comes from the Host header."""

from sqlalchemy import select

from admin_app.models import OutboxMessage
from tests.conftest import CSRF_RE


def test_reset_link_uses_the_configured_public_url_not_the_host_header(app, world, browser):
    client = browser().client
    evil = "http://evil.example"
    page = client.get("/forgot-password", base_url=evil).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post(
        "/forgot-password", base_url=evil, data={"identifier": "support", "csrf_token": token}
    )
    assert response.status_code == 302
    mail = world.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == "support@autopaspoort.example"
    assert "evil.example" not in mail.body
    assert f"{app.config['PUBLIC_URL']}/reset-password/" in mail.body


def test_unknown_name_gets_the_same_answer_as_a_known_one(app, world, browser):
    answers = []
    for identifier in ("support", "niemand-bekend"):
        client = browser()
        client.fetch_csrf("/forgot-password")
        response = client.post(
            "/forgot-password", {"identifier": identifier}, follow_redirects=True
        )
        answers.append(response.get_data(as_text=True).count("link onderweg"))
    assert answers == [1, 1]


def test_a_forged_link_sends_back_to_the_form_with_a_message(app, world, browser):
    response = browser().get("/reset-password/verzonnen", follow_redirects=True)
    assert "niet geldig" in response.get_data(as_text=True)
