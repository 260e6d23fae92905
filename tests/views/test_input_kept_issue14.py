"""Issue 14, "input is never lost": a refused form comes back with everything typed, the
refused field marked (R-IN-4, R-PP-2, R-X-4)."""

from __future__ import annotations

import html as html_lib
import re

from admin_app.models import InspectionForm


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
