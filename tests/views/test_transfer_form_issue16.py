"""Issue 16 (R-TR-5, R-FL-5): the transfer form's key follows the Idempotency-Key rule."""

from __future__ import annotations

import re

from sqlalchemy import select

from admin_app.models import Transfer
from tests.conftest import CSRF_RE

KEY_RE = re.compile(r'id="confirmation_key"[^>]*value="([^"]*)"')


def test_issue16_the_driver_form_twice_is_one_change_other_details_ask_again(world, login_as):
    """Sent twice (a double click): one new driver. The same form with other details (Back,
    typed over) is refused and shown again with a new key: confirming that is a new change."""
    car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    manager = login_as("fleet-bakker")
    path = f"/my-fleet/{car.id}/driver"
    page = manager.get(path).get_data(as_text=True)
    form = {
        "csrf_token": CSRF_RE.search(page).group(1),
        "confirmation_key": KEY_RE.search(page).group(1),
        "email": "rijder@example.nl",
        "email_again": "rijder@example.nl",
        "last_name": "Rijder",
    }
    assert [manager.post(path, form).status_code for _ in range(2)] == [302, 302]
    other = {**form, "email": "tweede@example.nl", "email_again": "tweede@example.nl"}
    refused = manager.post(path, other).get_data(as_text=True)
    assert "Dit formulier is al bevestigd met andere gegevens" in refused
    assert 'value="tweede@example.nl"' in refused  # nothing typed is lost
    fresh = KEY_RE.search(refused).group(1)
    assert fresh != form["confirmation_key"]
    assert manager.post(path, {**other, "confirmation_key": fresh}).status_code == 302
    world.session.expire_all()
    drivers = world.session.scalars(
        select(Transfer.to_email).where(Transfer.passport_id == car.id).order_by(Transfer.id)
    ).all()
    assert drivers == ["rijder@example.nl", "tweede@example.nl"]


def test_issue20_the_transfer_form_says_the_path_the_service_took(world, login_as):
    """R-FL-6: a fleet car to a new e-mail waits until he activates; the message is the
    service's path (services/transfers.TransferPath), not re-read from the states after."""
    car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    manager = login_as("fleet-bakker")
    path = f"/my-fleet/{car.id}/transfer"
    page = manager.get(path).get_data(as_text=True)
    form = {
        "csrf_token": CSRF_RE.search(page).group(1),
        "confirmation_key": KEY_RE.search(page).group(1),
        "email": "nieuw@example.nl",
        "email_again": "nieuw@example.nl",
        "last_name": "Nieuw",
    }
    answer = manager.post(path, form, follow_redirects=True).get_data(as_text=True)
    assert (
        "nieuw@example.nl krijgt een mail om het AutoPaspoort te activeren; de auto verlaat "
        "het wagenpark zodra hij dat doet." in answer
    )
