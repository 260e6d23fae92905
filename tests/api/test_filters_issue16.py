"""Issue 16, R-X-4: filters answer what they say — a relation filter filters, and a filter
the list does not offer is a 400 in the contract's shape, never an unfiltered answer."""

import prison
import pytest
from sqlalchemy import select

from admin_app.models import FleetAccount, Passport, Transfer


def listing(api, resource, *filters, **extra):
    query = {"filters": [dict(zip(("col", "opr", "value"), f, strict=False)) for f in filters]}
    query.update(page_size=100, **extra)
    return api.get(f"/api/v1/{resource}/?q=" + prison.dumps(query))


def test_issue16_relation_filter_outside_the_scope_matches_nothing(world, api_client):
    """R-X-4, R-SEC-1: another garage's fleet account, or none at all, lists no passport
    (was: the 62 passports without a fleet)."""
    jansen_fleet = world.session.scalar(
        select(FleetAccount).where(FleetAccount.garage_id == world.garage("Autobedrijf").id)
    )
    devries = api_client("garage-devries")
    for value in (jansen_fleet.id, 999_999):
        response = listing(devries, "passport", ("fleet_account", "rel_o_m", value))
        assert response.status_code == 200
        assert response.get_json()["count"] == 0, value


def _case(world):
    """Each filter SPEC's contract documents, with a value that matches some rows and
    the test each listed row must pass."""
    jansen = world.garage("Autobedrijf Jansen")
    fleet = world.session.scalar(select(FleetAccount).where(FleetAccount.garage_id == jansen.id))
    car = world.session.scalar(
        select(Passport).where(Passport.garage_id == jansen.id, Passport.state == "sent")
    )
    owner = car.owner
    transfer = world.session.scalar(select(Transfer))
    plate = car.plate
    return [
        ("passport", ("plate", "eq", plate), lambda r: r["plate"] == plate),
        ("passport", ("plate", "sw", plate[:3]), lambda r: r["plate"].startswith(plate[:3])),
        ("passport", ("plate", "ct", plate[2:5]), lambda r: plate[2:5] in r["plate"]),
        ("passport", ("state", "eq", "sent"), lambda r: r["state"] == "sent"),
        ("passport", ("email", "eq", owner.email.upper()), lambda r: r["email"] == owner.email),
        ("passport", ("email", "ct", owner.email[:6]), lambda r: owner.email[:6] in r["email"]),
        (
            "passport",
            ("fleet_account", "rel_o_m", fleet.id),
            lambda r: r["fleet_account_id"] == fleet.id,
        ),
        ("passport", ("garage", "rel_o_m", jansen.id), lambda r: r["garage_id"] == jansen.id),
        ("customer", ("email", "eq", owner.email), lambda r: r["email"] == owner.email),
        (
            "customer",
            ("last_name", "eq", owner.last_name),
            lambda r: r["last_name"] == owner.last_name,
        ),
        (
            "customer",
            ("last_name", "sw", owner.last_name[:2]),
            lambda r: r["last_name"].startswith(owner.last_name[:2]),
        ),
        (
            "transfer",
            ("passport", "rel_o_m", transfer.passport_id),
            lambda r: r["passport_id"] == transfer.passport_id,
        ),
        ("transfer", ("state", "eq", transfer.state), lambda r: r["state"] == transfer.state),
    ]


def test_issue16_every_documented_filter_answers_what_it_says(world, api_client):
    """R-X-4: each documented filter lists some rows, all of them matching (Support sees
    every garage, so the garage filter is asked too)."""
    support = api_client("support")
    for resource, condition, matches in _case(world):
        response = listing(support, resource, condition)
        assert response.status_code == 200, (resource, condition)
        result = response.get_json()["result"]
        assert result and all(matches(row) for row in result), (resource, condition)


@pytest.mark.parametrize(
    "condition",
    [
        ("fleet_account", "eq", 1),  # an operation the column does not offer
        ("plate", "rel_o_m", 1),
        ("stock_car", "eq", True),  # a column the list does not filter
        ("plate", "nope", "1"),
        ("plate", "eq"),  # no value: FAB skipped it and every filter after it
    ],
)
def test_issue16_a_filter_not_offered_is_a_400(world, api_client, condition):
    """R-X-4: refused in the contract's shape, not answered unfiltered."""
    response = listing(api_client("garage-jansen"), "passport", condition)
    assert response.status_code == 400, response.get_json()
    if len(condition) == 2:  # FAB's rison schema refuses it before any filter is read
        assert set(response.get_json()) == {"message", "errors"}
        return
    assert response.get_json() == {
        "message": "Zo kan deze lijst niet gefilterd worden.",
        "errors": {"filters": ["Zo kan deze lijst niet gefilterd worden."]},
    }
