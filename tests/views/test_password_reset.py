"""R-SEC-3 through the screens: the mailed link never comes from the Host header."""

from sqlalchemy import select

from admin_app.jobs.accounts import mail_password_reset
from admin_app.models import OutboxMessage
from tests.conftest import CSRF_RE
from tests.mails import mail_text, run_queued


def test_reset_link_uses_the_configured_public_url_not_the_host_header(app, world, browser):
    run_queued(app, mail_password_reset, perform=False)  # left by earlier tests
    client = browser().client
    evil = "http://evil.example"
    page = client.get("/forgot-password", base_url=evil).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post(
        "/forgot-password", base_url=evil, data={"identifier": "support", "csrf_token": token}
    )
    assert response.status_code == 302
    assert run_queued(app, mail_password_reset) == 1
    mail = world.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == "support@autopaspoort.example"
    text = mail_text(world.session, mail)
    assert "evil.example" not in text
    assert f"{app.config['PUBLIC_URL']}/reset-password/" in text


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


def test_issue13_forgot_password_is_limited_per_client(app, world, browser):
    client = browser()
    client.fetch_csrf("/forgot-password")
    codes = [
        client.post("/forgot-password", {"identifier": f"iemand{n}"}).status_code for n in range(11)
    ]
    assert codes[:10] == [302] * 10 and codes[10] == 429


def test_issue13_forgot_password_takes_as_long_for_unknown_names(app, world, browser):
    """The request only queues the look-up: its time tells nothing about who has a login."""
    import statistics
    import time

    app.config["RATELIMIT_ENABLED"] = False
    try:
        timings = {"support": [], "niemand-bekend": []}
        client = browser()
        client.fetch_csrf("/forgot-password")
        for _ in range(20):  # interleaved, so load on the machine hits both alike
            for identifier, spent in timings.items():
                start = time.perf_counter()
                client.post("/forgot-password", {"identifier": identifier})
                spent.append(time.perf_counter() - start)
    finally:
        app.config["RATELIMIT_ENABLED"] = True
    medians = [statistics.median(spent) for spent in timings.values()]
    assert abs(medians[0] - medians[1]) <= 0.010, medians
