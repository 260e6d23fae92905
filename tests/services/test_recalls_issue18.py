"""Issue 18, the garage's recall list as services/recalls gives it, without HTTP: the live
passports in the caller's scope whose car has an open recall (R-IN-3, R-SEC-1), their
count, and the file's rows — one per open recall."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import Passport, Recall, RecallDetail
from admin_app.services import recalls

SECOND = "RDW2099001"


def _plates(acting_as, username) -> tuple[set[str], int]:
    with acting_as(username) as acting:
        session = acting.world.session
        plates = {p.plate for p in recalls.recalled(session.query(Passport))}
        return plates, recalls.recalled_count(session)


def test_issue18_recalled_passports_are_the_live_ones_in_scope(world, acting_as):
    """Each garage counts exactly its own live passports with an open recall; a closed
    recall (code P) and an archived passport count for nobody."""
    s = world.session
    jansen = world.garage("Autobedrijf Jansen")
    live = [p for p in world.passports(garage_id=jansen.id) if p.state != "archived"]
    expected = set(recalls.open_recalls(s, [p.plate for p in live]))
    plates, count = _plates(acting_as, "garage-jansen")
    assert plates == expected and count == len(expected) >= 2
    devries_plates, _ = _plates(acting_as, "garage-devries")
    assert devries_plates and not devries_plates & plates

    fleet_plates, _ = _plates(acting_as, "fleet-bakker")
    fleet_id = world.user("fleet-bakker").fleet_account_id
    assert fleet_plates == {p.plate for p in world.passports(fleet_account_id=fleet_id)} & (
        plates | devries_plates
    )
    assert len(fleet_plates) == 1

    # Repaired (P) on one car, the other archived: neither is listed any more.
    repaired, archived = sorted(plates - fleet_plates)[:2]
    for recall in s.scalars(select(Recall).where(Recall.plate == repaired)):
        recall.status = "P"
    s.scalars(select(Passport).where(Passport.plate == archived)).one().state = "archived"
    s.commit()
    assert _plates(acting_as, "garage-jansen") == (plates - {repaired, archived}, count - 2)


def test_issue18_the_file_has_one_row_per_open_recall(world, acting_as):
    """A car with two open recalls is two lines of the file, with each recall's texts."""
    s = world.session
    plates, _ = _plates(acting_as, "garage-jansen")
    car = sorted(plates)[0]
    s.add(RecallDetail(reference=SECOND, defect="Stoelrail kan breken", remedy="Nieuwe rail."))
    s.add(Recall(plate=car, reference=SECOND, status="O"))
    s.commit()
    with acting_as("garage-jansen") as acting:
        query = recalls.recalled(acting.world.session.query(Passport)).order_by(Passport.plate)
        rows = recalls.with_each_open_recall(query).all()
    assert [(row.plate, row.reference) for row in rows if row.plate == car][-1] == (car, SECOND)
    assert len(rows) == len(plates) + 1
    second = next(row for row in rows if row.reference == SECOND)
    assert (second.defect, second.remedy) == ("Stoelrail kan breken", "Nieuwe rail.")
    assert {row.plate for row in rows} == plates
