"""Issue 14, "input is never lost": a refused form comes back with everything typed, the
refused field marked (R-IN-4, R-PP-2, R-X-4)."""

from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import select

from admin_app.models import InspectionForm, Passport
from tests.conftest import CSRF_RE


def _new_form(browser, passport_id=None, kind="customer") -> str:
    data = {"kind": kind, "inspector": "Piet"}
    if passport_id:
        data["passport_id"] = passport_id
    created = browser.post("/inspections/new", data=data)
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    return created.headers["Location"]


def _value_of(page: str, name: str) -> list[str]:
    """The value="" of every input with this name, in page order."""
    found = []
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            found.append(html_lib.unescape(value.group(1)) if value else "")
    return found


def _checked(page: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def test_issue14_refused_inspection_form_keeps_everything_typed(world, login_as):
    """R-IN-4: the issue's steps as garage-jansen — ten checkpoints OK, one urgent with a
    remark, inspector "Kees Test", advice "Remlamp vervangen" at `12,5O`: the refusal comes
    back (4xx) with all of it, the price marked with its message; nothing is stored."""
    browser = login_as("garage-jansen")
    passport = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[
        0
    ]
    url = _new_form(browser, passport.id)
    page = browser.get(url).get_data(as_text=True)
    ids = re.findall(r'name="status-(\d+)"', page)
    ids = list(dict.fromkeys(ids))
    assert len(ids) >= 11
    data = {f"status-{pk}": "ok" for pk in ids[:10]}
    data[f"status-{ids[10]}"] = "urgent"
    data[f"remark-{ids[10]}"] = "Remleiding lekt"
    data.update(
        inspector="Kees Test",
        advice_description=["Remlamp vervangen", "", ""],
        advice_price=["12,5O", "", ""],
        send_updates="1",
        **{"date-apk_expiry": "2027-03-01"},
    )
    refused = browser.post(url, data=data)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "&#39;12,5O&#39; is geen bedrag" in text or "'12,5O' is geen bedrag" in text
    assert _value_of(text, "inspector") == ["Kees Test"]
    for pk in ids[:10]:
        assert _checked(text, f"status-{pk}") == "ok", pk
    assert _checked(text, f"status-{ids[10]}") == "urgent"
    assert _value_of(text, f"remark-{ids[10]}") == ["Remleiding lekt"]
    assert _value_of(text, "advice_description")[0] == "Remlamp vervangen"
    assert _value_of(text, "advice_price")[0] == "12,5O"
    assert _value_of(text, "date-apk_expiry") == ["2027-03-01"]
    assert _checked(text, "send_updates") == "1"
    # The refused price is marked where it was typed.
    price_cell = re.search(r'<td class="has-error">(.*?)</td>', text, re.S)
    assert price_cell and "12,5O" in price_cell.group(1) and "geen bedrag" in price_cell.group(1)
    stored = world.session.get(InspectionForm, int(url.rstrip("/").rsplit("/", 1)[1]))
    assert stored.is_draft and stored.inspector == "Piet" and stored.content["advice"] == []


def test_issue14_blank_inspection_form_refuses_an_invalid_plate(world, login_as):
    """R-PP-2 on the blank form (R-IN-2): plate `XX` is refused with the reason, the typed
    customer and vehicle come back; a valid plate in any notation is stored normalized."""
    browser = login_as("garage-jansen")
    url = _new_form(browser, kind="blank")
    typed = {
        "inspector": "Kees Test",
        "customer-name": "Tom de Tester",
        "customer-email": "tom@example.nl",
        "vehicle-plate": "XX",
        "vehicle-brand": "Volvo",
        "vehicle-odometer": "123456",
    }
    refused = browser.post(url, data=typed)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "6 letters en cijfers" in text or "6 letters and digits" in text, text[:3000]
    for name, value in typed.items():
        assert _value_of(text, name) == [value], name
    assert re.search(r'has-error"><label>[^<]*</label><input[^>]*name="vehicle-plate"', text)
    stored = world.session.get(InspectionForm, int(url.rstrip("/").rsplit("/", 1)[1]))
    assert stored.plate is None and stored.is_draft
    saved = browser.post(url, data={**typed, "vehicle-plate": "v 43 zkj"})
    assert saved.status_code == 302
    world.session.refresh(stored)
    assert stored.plate == "V43ZKJ" and stored.content["vehicle"]["plate"] == "V43ZKJ"


# --- every form of the console: one bad field, everything else comes back -------------

PERSON = {
    "first_name": "Kees",
    "infix": "van",
    "last_name": "Tester",
    "street": "Kerkstraat",
    "house_number": "12a",
    "postcode": "1234 AB",
    "city": "Utrecht",
    "phone": "0612345678",
}


def _fields_of(page: str) -> dict[str, str]:
    """name → value of every input, textarea and selected option of the page's forms."""
    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="radio"' not in tag and 'type="checkbox"' not in tag:
            values.setdefault(name.group(1), html_lib.unescape(value.group(1)) if value else "")
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = html_lib.unescape(text.strip())
    return values


def _form_cases(world):
    """(who, form URL, one bad field, the other fields typed): every form whose refusal
    re-shows the page (R-X-4, issue 14). Forms of one field or only a choice are left out:
    there is nothing else to lose."""
    jansen = world.garage("Autobedrijf Jansen")
    stock = next(
        p
        for p in world.passports(garage_id=jansen.id, state="activated", stock_car=True)
        if not p.fleet_account_id
    )
    customer_car = next(
        p
        for p in world.passports(garage_id=jansen.id, state="activated")
        if not p.stock_car and not p.fleet_account_id
    )
    fleet_car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    owners_car = (
        world.session.scalars(
            select(Passport).where(Passport.owner.has(email="eigenaar@example.nl"))
        )
        .unique()
        .all()[0]
    )
    bad_email = {"email": "koper@@example", "email_again": "koper@@example"}
    unsent = world.passports(garage_id=jansen.id, state="created")[0]
    address = {
        "street": "Nieuwe Weg",
        "house_number": "7",
        "postcode": "3511 AB",
        "city": "Utrecht",
        "phone": "030-1234567",
    }
    login = {"first_name": "Kees", "last_name": "Monteur", "username": "kees.monteur"}
    return [
        ("garage-jansen", f"/passports/{unsent.id}/email", {"email": "geen-adres"}, {}),
        ("garage-jansen", f"/my-garage/edit/{jansen.id}", {"name": ""}, address),
        ("admin", "/garages/add", {"name": ""}, {"email": "balie@nieuwe-garage.nl", **address}),
        ("admin", f"/garages/edit/{jansen.id}", {"name": ""}, address),
        ("admin", "/users/add", {"email": ""}, {**login, "password": "x", "conf_password": "x"}),
        (
            "admin",
            f"/users/edit/{world.user('support').id}",
            {"username": ""},
            {"first_name": "Sam", "email": "support@autopaspoort.example"},
        ),
        (
            "garage-jansen",
            "/passports/new",
            {"plate": "XX"},
            {
                "brand": "Volvo",
                "model": "V70",
                "apk_expiry": "01-02-2027",
                "email": "nieuwe.klant@example.nl",
                "customer_number": "K-991",
                **PERSON,
            },
        ),
        ("garage-jansen", f"/passports/{stock.id}/transfer", bad_email, PERSON),
        ("fleet-bakker", f"/my-fleet/{fleet_car.id}/driver", bad_email, PERSON),
        ("fleet-bakker", f"/my-fleet/{fleet_car.id}/transfer", bad_email, PERSON),
        ("eigenaar", f"/my-vehicles/{owners_car.id}/transfer", bad_email, PERSON),
        (
            "garage-jansen",
            f"/passports/{customer_car.id}/fleet-account",
            {"email": "niet-goed"},
            {"name": "Tester Lease BV"},
        ),
        (
            "garage-jansen",
            f"/fleet-accounts/{fleet_car.fleet_account_id}/settings",
            {"email": "niet-goed"},
            {"name": "Bakker Transport (nieuw)"},
        ),
        (
            "garage-jansen",
            "/colleagues/new",
            {"email": ""},
            {"first_name": "Kees", "last_name": "Monteur", "username": "kees.monteur"},
        ),
        (
            "garage-jansen",
            "/inspections/checkpoints",
            {"name": "x" * 121},
            {"group": "Remmen"},
        ),
        (
            "garage-jansen",
            f"/customers/edit/{customer_car.owner_id}",
            {"last_name": ""},
            {k: v for k, v in PERSON.items() if k != "last_name"},
        ),
    ]


def test_issue14_every_form_keeps_what_was_typed(world, login_as):
    """R-X-4: each form submitted once with one bad field comes back with every other value
    as typed (and the bad one too, to correct it), not a redirect that drops them."""
    lost = []
    browsers = {}
    for who, url, bad, typed in _form_cases(world):
        browser = browsers.get(who) or browsers.setdefault(who, login_as(who))
        page = browser.get(url)
        assert page.status_code == 200, (url, page.status_code)
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        defaults = _fields_of(page.get_data(as_text=True))
        data = {**defaults, **typed, **bad, "csrf_token": token}
        answer = browser.post(url, data)
        shown = _fields_of(answer.get_data(as_text=True))
        if answer.status_code in (301, 302, 303):
            lost.append((url, "redirected", answer.headers.get("Location")))
            continue
        missing = {
            k: v
            for k, v in {**typed, **bad}.items()
            if shown.get(k) != v and "password" not in k  # a password is never shown again
        }
        if missing:
            lost.append((url, missing))
    assert not lost, lost


def test_issue14_refused_performed_work_keeps_the_description(world, login_as):
    """R-IN-4: noting performed work with a wrong date keeps the description typed."""
    browser = login_as("garage-jansen")
    url = _new_form(browser, kind="blank")
    saved = browser.post(url, data={"inspector": "Kees Test", "vehicle-plate": "V-43-ZKJ"})
    assert saved.status_code == 302
    answer = browser.post(
        f"{url}/performed-work", {"description": "Remblokken vervangen", "done_on": "31-31-2026"}
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert _value_of(text, "description") == ["Remblokken vervangen"]
    assert _value_of(text, "done_on") == ["31-31-2026"]
    assert "geen datum" in text


def test_issue14_refused_fleet_link_keeps_the_name_typed(world, login_as):
    """R-FL-3: linking to a fleet account name that does not exist shows the profile again
    with the name as typed and the reason, instead of a redirect that empties the field."""
    car = next(
        p
        for p in world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")
        if not p.stock_car and not p.fleet_account_id
    )
    browser = login_as("garage-jansen")
    answer = browser.post(f"/passports/{car.id}/fleet", {"fleet_name": "Bakker Transprot"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert _value_of(text, "fleet_name") == ["Bakker Transprot"]
    assert "Kies een van uw eigen wagenparken" in text


def test_issue14_refused_email_correction_keeps_the_address_typed(world, login_as):
    """R-BJ-7: a correction on "Onjuiste e-mails" that is refused shows the list again with
    the address as typed in its row (it redirected and showed the bounced one again)."""
    from admin_app.models import Customer

    jansen = world.garage("Autobedrijf Jansen")
    target = (
        world.session.scalars(
            select(Passport)
            .join(Customer, Passport.owner_id == Customer.id)
            .where(
                Customer.email_bounced_at.is_not(None),
                Passport.garage_id == jansen.id,
                Passport.state.in_(("created", "sent")),
            )
        )
        .unique()
        .first()
    )
    browser = login_as("garage-jansen")
    answer = browser.post(
        f"/invalid-emails/{target.id}/fix", {"email": "jan@@voorbeeld", "resend": "y"}
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "jan@@voorbeeld" in _value_of(text, "email")
    world.session.expire_all()
    assert world.session.get(Passport, target.id).owner.email != "jan@@voorbeeld"


def test_issue14_refused_customer_list_upload_keeps_its_choice(world, login_as):
    """R-BJ-1: an upload refused (no file chosen) keeps "send right after processing"
    ticked; a browser never re-fills a file field, so that is all there is to keep."""
    browser = login_as("garage-jansen")
    answer = browser.post("/batch-jobs/upload", {"send_to_customers": "y"})
    text = answer.get_data(as_text=True)
    assert answer.status_code != 302
    assert _checked(text, "send_to_customers") == "y"
