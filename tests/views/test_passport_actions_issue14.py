"""Issue 14: which actions an actor may take on a passport, with the reason for each one he
may not, come from one service function (services.passports.allowed_actions) that the
profile, the forms and the services go by (R-PP-4…8, R-TR-1…5, R-FL-3)."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.domain.errors import Conflict, Forbidden
from admin_app.models import Passport, Transfer
from admin_app.services import passports as passport_rules
from tests.conftest import CSRF_RE


def _jansen(world, **filters):
    return world.passports(garage_id=world.garage("Autobedrijf Jansen").id, **filters)


def _customer_car(world):
    """An activated car of a customer of Jansen's, not in a fleet."""
    return next(
        p for p in _jansen(world, state="activated") if not p.stock_car and not p.fleet_account_id
    )


def _eigenaars_cars(world):
    return (
        world.session.scalars(
            select(Passport).where(Passport.owner.has(email="eigenaar@example.nl"))
        )
        .unique()
        .all()
    )


def test_issue14_allowed_actions_says_why_per_action(world, acting_as):
    """R-PP-7, R-TR-1, R-TR-4, R-PP-8: one answer per action, a reason for each refusal;
    a refusal of the role itself (Forbidden) is told apart from one of this passport."""
    car = _customer_car(world)
    with acting_as("garage-jansen") as acting:
        allowed = passport_rules.allowed_actions(world.session, acting.actor, car)
        assert set(allowed) == set(passport_rules.ACTIONS)
        assert allowed["archive"] is None and allowed["link"] is None
        assert "support" in str(allowed["email"].reason) and allowed["email"].error is Conflict
        assert "voorraadauto" in str(allowed["transfer"].reason)
        assert allowed["send"].for_this_passport  # activated already: why, not hidden
        assert allowed["move"].error is Forbidden and not allowed["move"].for_this_passport
    with acting_as("support") as acting:
        allowed = passport_rules.allowed_actions(world.session, acting.actor, car)
        assert allowed["email"] is None and allowed["move"] is None
        assert allowed["archive"].error is Forbidden
    fleet_car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    with acting_as("fleet-bakker") as acting:
        assert passport_rules.refusal_of(world.session, acting.actor, fleet_car, "transfer") is None
    with acting_as("garage-jansen") as acting:
        refusal = passport_rules.refusal_of(world.session, acting.actor, fleet_car, "transfer")
        assert "ontkoppel hem eerst" in str(refusal.reason)


def test_issue14_profile_shows_reasons_in_place_of_buttons(world, login_as):
    """R-PP-7: a locked e-mail, a customer's car: the reason stands where the button was."""
    car = _customer_car(world)
    page = login_as("garage-jansen").get(f"/passports/show/{car.id}").get_data(as_text=True)
    assert f"/passports/{car.id}/email" not in page
    assert f"/passports/{car.id}/transfer" not in page
    assert 'class="reason-email' in page and "alleen de supportdesk" in page
    assert 'class="reason-transfer"' in page and "voorraadauto" in page
    assert 'class="reason-move"' not in page  # a garage never moves: no button, no reason
    support = login_as("support").get(f"/passports/show/{car.id}").get_data(as_text=True)
    assert f"/passports/{car.id}/email" in support and f"/passports/{car.id}/move" in support


def test_issue14_forms_not_allowed_redirect_to_the_profile_with_the_reason(world, login_as):
    """The e-mail form of a locked passport, the transfer form of a fleet-linked or
    non-stock car and "Ik heb deze auto verkocht" on a fleet-linked car do not open."""
    garage = login_as("garage-jansen")
    car = _customer_car(world)
    fleet_car = world.passports(fleet_account_id=world.user("fleet-bakker").fleet_account_id)[0]
    for path, profile, words in (
        (f"/passports/{car.id}/email", f"/passports/show/{car.id}", "alleen de supportdesk"),
        (f"/passports/{car.id}/transfer", f"/passports/show/{car.id}", "voorraadauto"),
        (f"/passports/{fleet_car.id}/transfer", f"/passports/show/{fleet_car.id}", "ontkoppel"),
    ):
        opened = garage.get(path)
        assert opened.status_code == 302, path
        assert opened.headers["Location"].endswith(profile), path
        assert words in garage.get(profile).get_data(as_text=True), path
    # The owner's car linked to a fleet: "I sold this car" says why instead of opening.
    mine = _eigenaars_cars(world)[0]
    world.session.get(Passport, mine.id).fleet_account_id = fleet_car.fleet_account_id
    world.session.commit()
    owner = login_as("eigenaar")
    shown = owner.get(f"/my-vehicles/show/{mine.id}").get_data(as_text=True)
    assert f"/my-vehicles/{mine.id}/transfer" not in shown and "ontkoppel" in shown
    opened = owner.get(f"/my-vehicles/{mine.id}/transfer")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(
        f"/my-vehicles/show/{mine.id}"
    )


def _pending_of_jansen(world) -> Transfer:
    return world.session.scalars(
        select(Transfer).where(
            Transfer.state == "pending", Transfer.garage_id == world.garage("Autobedrijf Jansen").id
        )
    ).one()


def test_issue14_garage_and_support_cancel_a_pending_transfer(world, login_as):
    """R-TR-2: the profile of a car with a waiting transfer has a cancel button (POST with
    CSRF) for the garage and Support; the car is back as it was, the change audited."""
    from admin_app.models import AuditLog

    for username in ("garage-jansen", "support"):
        world.session.expire_all()
        pending = _pending_of_jansen(world) if username == "garage-jansen" else None
        if pending is None:  # Support: cancel de Vries's one
            pending = world.session.scalars(
                select(Transfer).where(Transfer.state == "pending")
            ).first()
        browser = login_as(username)
        profile = f"/passports/show/{pending.passport_id}"
        page = browser.get(profile).get_data(as_text=True)
        action = f"/passports/{pending.passport_id}/cancel-transfer"
        assert f'action="{action}"' in page, username
        if username == "garage-jansen":  # why no transfer button: the one waiting
            assert "Er wacht al een overdracht van deze auto" in page
        assert browser.post(action, csrf=False).status_code in (302, 400)  # no token: nothing
        world.session.expire_all()
        assert world.session.get(Transfer, pending.id).state == "pending"
        done = browser.post(action, {"csrf_token": CSRF_RE.search(page).group(1)})
        assert done.status_code == 302 and done.headers["Location"].endswith(profile)
        world.session.expire_all()
        assert world.session.get(Transfer, pending.id).state == "cancelled", username
        assert world.session.scalars(
            select(AuditLog).where(
                AuditLog.table_name == "transfer", AuditLog.record_id == pending.id
            )
        ).all()


def test_issue14_owner_cancels_the_sale_he_started_on_my_vehicles(world, login_as):
    """R-TR-2: the owner who sold his car to someone with a login (waiting for acceptance)
    takes the sale back on "Mijn voertuigen"; the receiver of another transfer may not."""
    car = _eigenaars_cars(world)[0]
    owner = login_as("eigenaar")
    form = owner.get(f"/my-vehicles/{car.id}/transfer").get_data(as_text=True)
    import re

    key = re.search(r'id="confirmation_key"[^>]*value="([^"]*)"', form).group(1)
    sold = owner.post(
        f"/my-vehicles/{car.id}/transfer",
        {
            "csrf_token": CSRF_RE.search(form).group(1),
            "confirmation_key": key,
            "email": "nieuwe.eigenaar@example.com",
            "email_again": "nieuwe.eigenaar@example.com",
            "last_name": "Eigenaar",
        },
    )
    assert sold.status_code == 302
    world.session.expire_all()
    pending = world.session.scalars(
        select(Transfer).where(Transfer.passport_id == car.id, Transfer.state == "pending")
    ).one()
    page = owner.get(f"/my-vehicles/show/{car.id}").get_data(as_text=True)
    assert f'action="/my-vehicles/{car.id}/cancel-transfer"' in page
    owner.post(
        f"/my-vehicles/{car.id}/cancel-transfer", {"csrf_token": CSRF_RE.search(page).group(1)}
    )
    world.session.expire_all()
    assert world.session.get(Transfer, pending.id).state == "cancelled"
    # The demo's waiting transfer to eigenaar was started by the garage: no button for him.
    theirs = _pending_of_jansen(world)
    page = owner.get(f"/my-vehicles/show/{theirs.passport_id}").get_data(as_text=True)
    assert "cancel-transfer" not in page


def test_issue14_send_now_continues_where_the_user_was_going(world, login_as):
    """R-PP-4: "Nu versturen" in the leave dialog sends, then goes to the link clicked
    (the form's `next`); another site is never a target."""
    created = _jansen(world, state="created")[0]
    browser = login_as("garage-jansen")
    page = browser.get(f"/passports/show/{created.id}").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    sent = browser.post(
        f"/passports/{created.id}/send", {"csrf_token": token, "next": "/passports/list/"}
    )
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/passports/list/")
    world.session.expire_all()
    assert world.session.get(Passport, created.id).state == "sent"
    other = _jansen(world, state="created")[0]
    sent = browser.post(
        f"/passports/{other.id}/send", {"csrf_token": token, "next": "//evil.example/"}
    )
    assert sent.headers["Location"].endswith(f"/passports/show/{other.id}")


def test_issue14_fleet_manager_cancels_a_transfer_out_of_his_fleet(world, login_as):
    """R-FL-6, R-TR-2: a transfer out of the fleet waits for the new owner; the fleet
    manager's dashboard has a cancel button for it, and the car stays in his fleet."""
    fleet_id = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet_id, state="activated")[0]
    manager = login_as("fleet-bakker")
    form = manager.get(f"/my-fleet/{car.id}/transfer").get_data(as_text=True)
    import re

    key = re.search(r'id="confirmation_key"[^>]*value="([^"]*)"', form).group(1)
    sold = manager.post(
        f"/my-fleet/{car.id}/transfer",
        {
            "csrf_token": CSRF_RE.search(form).group(1),
            "confirmation_key": key,
            "email": "nieuwe.rijder@example.nl",
            "email_again": "nieuwe.rijder@example.nl",
            "last_name": "Rijder",
        },
    )
    assert sold.status_code == 302
    dashboard = manager.get("/my-fleet/list/").get_data(as_text=True)
    action = f'action="/my-fleet/{car.id}/cancel-transfer"'
    assert action in dashboard
    done = manager.post(
        f"/my-fleet/{car.id}/cancel-transfer", {"csrf_token": CSRF_RE.search(dashboard).group(1)}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/my-fleet/list/")
    world.session.expire_all()
    back = world.session.get(Passport, car.id)
    assert back.fleet_account_id == fleet_id and back.state == "activated"
    transfer = world.session.scalars(select(Transfer).where(Transfer.passport_id == car.id)).all()
    assert [t.state for t in transfer] == ["cancelled"]
    assert action not in manager.get("/my-fleet/list/").get_data(as_text=True)


def test_issue14_api_answers_the_same_allowed_actions(world, api_client):
    """The API gives the same answer as the profile, in the reader's language: GET
    /api/v1/passport/<id>/actions; another garage's passport is a 404 (R-SEC-1)."""
    car = _customer_car(world)
    api = api_client("garage-jansen")
    body = api.get(f"/api/v1/passport/{car.id}/actions").get_json()
    assert body["id"] == car.id
    assert set(body["result"]) == set(passport_rules.ACTIONS)
    assert body["result"]["archive"] == {"allowed": True, "reason": None}
    assert body["result"]["email"]["allowed"] is False
    assert "supportdesk" in body["result"]["email"]["reason"]
    english = api.get(f"/api/v1/passport/{car.id}/actions?_l_=en").get_json()
    assert "support desk" in english["result"]["email"]["reason"]
    support = api_client("support").get(f"/api/v1/passport/{car.id}/actions").get_json()
    assert support["result"]["email"]["allowed"] is True
    other = world.passports(garage_id=world.garage("Garage De Vries").id)[0]
    assert api.get(f"/api/v1/passport/{other.id}/actions").status_code == 404


def test_issue14_support_cancels_through_the_api_too(world, api_client):
    """SPEC roles: Support cancels a pending transfer — on the profile and through
    POST /api/v1/transfer/<id>/cancel alike (the API answered 403)."""
    pending = world.session.scalars(select(Transfer).where(Transfer.state == "pending")).first()
    answer = api_client("support").post(f"/api/v1/transfer/{pending.id}/cancel")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["result"]["state"] == "cancelled"
