"""Issue 14 attacked as a hostile garage or outsider would (R-X-4: bad input is a 4xx in
the contract's shape, never a 500; R-SEC-1/2/3: scope, CSRF, no redirect to another site)."""

from __future__ import annotations

import pytest

from admin_app.db import unit_of_work
from admin_app.services import batch_jobs
from tests.conftest import CSRF_RE

# Unicode digits that str.isdigit() accepts and int() refuses (superscripts, circled).
NOT_DECIMAL = ["%C2%B2", "%E2%91%A0", "1%C2%B3"]


@pytest.mark.parametrize("typed", NOT_DECIMAL)
def test_issue14_attack_opt_out_link_with_a_superscript_digit_is_not_found(app, world, typed):
    """R-CP-2, R-X-4: the one-click opt-out address is public (no login, no CSRF): any
    token in it is a 404, also one of digits int() cannot read (it was a 500 for everyone,
    from the path check every request gets)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    assert client.get(f"/opt-out/{typed}").status_code == 404
    one_click = client.post(f"/opt-out/{typed}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 404
    assert client.get(f"/reset-password/{typed}").status_code < 500


@pytest.mark.parametrize("typed", NOT_DECIMAL)
def test_issue14_attack_list_paging_with_a_superscript_digit_is_ignored(app, login_as, typed):
    """R-X-4: a page or page size that is no number is dropped from a list's address, as
    text is (it was a 500 on every list)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser = login_as("garage-jansen")
    for arg in ("page_PassportView", "psize_PassportView"):
        answer = browser.get(f"/passports/list/?{arg}={typed}")
        assert answer.status_code == 302, arg
        assert typed not in answer.headers["Location"]


@pytest.mark.parametrize("typed", NOT_DECIMAL)
def test_issue14_attack_batch_rows_page_with_a_superscript_digit_shows_a_page(
    app, world, acting_as, login_as, typed
):
    """R-BJ-5, R-X-4: a batch job's rows page with a typed page that int() cannot read
    shows the first page, as text does (it was a 500)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with acting_as("garage-jansen") as acting, unit_of_work(world.session):
        job = batch_jobs.upload_list(
            world.session,
            actor=acting.actor,
            filename="lijst.csv",
            data=b"kenteken;email;achternaam\r\nZX0001;klant@example.nl;Klant\r\n",
            send_to_customers=False,
        )
    answer = login_as("garage-jansen").get(f"/batch-jobs/show/{job.id}?page={typed}")
    assert answer.status_code == 200


def _created_car(world):
    garage = world.garage("Autobedrijf Jansen")
    return world.passports(garage_id=garage.id, state="created")[0]


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example/", " /\t/evil.example/"],
)
def test_issue14_attack_send_now_never_continues_to_another_site(app, world, login_as, target):
    """R-PP-4, R-SEC-3: "Nu versturen" continues to a path on this site only. A browser
    drops tabs and line breaks from an address, so "/<tab>/evil.example" is
    "//evil.example", another site (it was followed); a line break was a 500."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    car = _created_car(world)
    browser = login_as("garage-jansen")
    page = browser.get(f"/passports/show/{car.id}").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    sent = browser.post(f"/passports/{car.id}/send", {"csrf_token": token, "next": target})
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/passports/show/{car.id}")


@pytest.mark.parametrize("typed", ["%", "_", "%_%", "\\"])
def test_issue14_attack_search_wildcards_are_plain_characters(world, login_as, typed):
    """R-PP-2: the counter's search takes what is typed as text: "%" or "_" in a name or
    e-mail is that character, not a LIKE wildcard (the search listed every car of the
    garage; on PostgreSQL a pattern of wildcards defeats the trigram index)."""
    from admin_app.domain.plates import display_plate

    jansen = world.garage("Autobedrijf Jansen")
    browser = login_as("garage-jansen")
    answer = browser.get("/passports/list/", query_string={"_flt_0_plate": typed})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    shown = [p for p in world.passports(garage_id=jansen.id) if display_plate(p.plate) in html]
    assert shown == []


def test_issue14_attack_colleague_sees_why_he_cannot_change_the_garage_email(world, login_as):
    """R-PP-3: where the garage has its own login, a colleague's settings show the reason
    in place of the change button, and a direct GET of the form goes back to the settings
    with that reason (a POST is refused with it, nothing changed)."""
    from admin_app.models import ConsoleUser

    jansen = world.garage("Autobedrijf Jansen")
    world.session.add(
        ConsoleUser(
            username=jansen.email,
            email=jansen.email,
            first_name="Werkplaats",
            last_name="Jansen",
            active=True,
            garage_id=jansen.id,
        )
    )
    world.session.commit()
    browser = login_as("garage-jansen")
    settings = browser.get("/my-garage/mine", follow_redirects=True).get_data(as_text=True)
    assert 'href="/my-garage/email"' not in settings
    assert "Werkplaats Jansen" in settings  # the reason names the login that may
    form = browser.get("/my-garage/email")
    assert form.status_code == 302 and "/my-garage/" in form.headers["Location"]
    refused = browser.post("/my-garage/email", {"email": "mijn.adres@example.nl"})
    assert refused.status_code in (302, 403)
    world.session.expire_all()
    assert world.garage("Autobedrijf Jansen").email == "werkplaats@autobedrijf-jansen.nl"


@pytest.mark.parametrize("typed", ["99999999999999999999999", "-99999999999999999999999"])
def test_issue14_attack_audit_log_search_by_a_huge_record_number(app, login_as, typed):
    """R-SEC-2, R-X-4: the audit log's search by record (a number) with a number no record
    can have shows the list without that search, as other unusable list arguments are
    dropped (the database driver overflowed: a 500)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    answer = login_as("admin").get(f"/audit-log/list/?_flt_0_record_id={typed}")
    assert answer.status_code == 302
    assert "record_id" not in answer.headers["Location"]
