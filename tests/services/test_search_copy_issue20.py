"""Issue 20: the counter's search copy (services/search_copy). The importer's new customers
and cars are copied after its run, not in its chunks' transactions; every other change is
copied in its own transaction; the copy always equals what it copies, and is read through
the scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from admin_app.db import unit_of_work
from admin_app.domain.plates import display_plate
from admin_app.extensions import db
from admin_app.jobs.batch import copy_lost_runs, make_searchable, process_batch, process_job
from admin_app.models import BatchJob, Customer, CustomerSearch, Passport, PassportSearch
from admin_app.models.base import utcnow
from admin_app.services import batch_jobs, search_copy
from admin_app.web.filters import LIKE_ESCAPE
from tests import factories

HEADER = "kenteken;email;voornaam;tussenvoegsel;achternaam;plaats\n"


def names_found(s, text: str) -> set[int]:
    return set(s.scalars(search_copy.customers_matching(f"%{text.lower()}%", LIKE_ESCAPE)))


def plates_found(s, part: str) -> set[int]:
    return set(s.scalars(search_copy.passports_matching(part)))


def assert_copy_is_whole(s) -> None:
    """Every customer and passport copied, with the values the search compares."""
    customers = select(Customer.id, func.lower(Customer.last_name), func.lower(Customer.email))
    copied = select(CustomerSearch.customer_id, CustomerSearch.last_name, CustomerSearch.email)
    assert set(s.execute(customers).tuples()) == set(s.execute(copied).tuples())
    passports = select(Passport.id, Passport.plate)
    assert set(s.execute(passports).tuples()) == set(
        s.execute(select(PassportSearch.passport_id, PassportSearch.plate)).tuples()
    )


def test_issue20_the_demo_world_is_copied_whole(world):
    assert_copy_is_whole(world.session)


def test_issue20_a_new_customer_and_car_are_found_in_their_own_transaction(empty_world):
    s = empty_world.session
    garage = factories.garage(s)
    car = factories.passport(
        s, garage, owner=factories.customer(s, garage, last_name="Van Oordt", email="R.Oordt@X.nl")
    )
    assert names_found(s, "oordt") == {car.owner_id}
    assert names_found(s, "r.oordt@x") == {car.owner_id}
    assert plates_found(s, car.plate[1:5]) == {car.id}
    assert_copy_is_whole(s)


def test_issue20_a_changed_name_email_or_plate_is_found_at_once_the_old_one_not(empty_world):
    s = empty_world.session
    garage = factories.garage(s)
    car = factories.passport(s, garage, owner=factories.customer(s, garage, last_name="Brink"))
    old_plate = car.plate
    car.owner.last_name, car.owner.email = "Zandvoort", "nieuw.adres@example.nl"
    car.plate = factories.plate()
    s.commit()
    assert names_found(s, "zandvoort") == names_found(s, "nieuw.adres") == {car.owner_id}
    assert names_found(s, "brink") == set()
    assert plates_found(s, car.plate) == {car.id}
    assert plates_found(s, old_plate) == set()
    assert_copy_is_whole(s)


def test_issue20_a_change_rolled_back_leaves_no_copy(empty_world):
    s = empty_world.session
    garage = factories.garage(s)
    s.add(Customer(garage_id=garage.id, last_name="Teruggedraaid", email="weg@example.nl"))
    s.flush()
    assert names_found(s, "teruggedraaid")  # in the transaction it is found
    s.rollback()
    assert names_found(s, "teruggedraaid") == set()
    assert_copy_is_whole(s)


def upload_and_claim(s, acting, text: str) -> int:
    """A confirmed list, claimed as the worker would start it."""
    with unit_of_work(s):
        job = batch_jobs.upload_list(
            s,
            actor=acting.actor,
            filename="lijst.csv",
            data=text.encode(),
            send_to_customers=False,
            chunk_size=2,  # more than one chunk
        )
        batch_jobs.confirm_job(s, job.id, actor=acting.actor)
    assert job.id in batch_jobs.claim_due_jobs(s, utcnow() + dt.timedelta(days=2))
    return job.id


def upload_and_run(s, acting, text: str) -> BatchJob:
    return process_job(s, upload_and_claim(s, acting, text), parallel=2)


def test_issue20_a_list_s_new_rows_are_found_after_its_run_not_in_its_chunks(acting_as, world):
    s = world.session
    rows = "".join(
        f"{plate};zoek{n}@example.nl;Anna;;Vindbaar{n};Utrecht\n"
        for n, plate in enumerate(("XB01ZX", "XB02ZX", "XB03ZX"))
    )
    with acting_as("garage-devries") as acting:
        done = upload_and_run(s, acting, HEADER + rows)
    assert done.state == "done" and done.counts["create"] == 3
    # Done, and not yet copied: the search does not find them (for seconds, in a worker).
    assert done.searchable_at is None
    assert names_found(s, "vindbaar") == set() and plates_found(s, "XB01") == set()
    make_searchable(s, done)
    assert len(names_found(s, "vindbaar")) == 3 and len(plates_found(s, "XB0")) == 3
    assert s.get(BatchJob, done.id).searchable_at is not None
    assert_copy_is_whole(s)


def test_issue20_the_worker_copies_a_list_as_soon_as_its_run_is_done(app, acting_as, world):
    s = world.session
    text = HEADER + "XD01ZD;werker@example.nl;Piet;;Werkersma;Delft\n"
    with acting_as("garage-devries") as acting:
        job_id = upload_and_claim(s, acting, text)
        s.commit()  # the clock's queueing, for the worker's own session
    with app.app_context():
        process_batch(job_id)  # as rq runs it
        db.session.remove()
    s.expire_all()
    assert s.get(BatchJob, job_id).state == "done"
    assert len(names_found(s, "werkersma")) == 1 and len(plates_found(s, "XD01ZD")) == 1


def test_issue20_a_list_s_changed_last_name_is_found_at_once(acting_as, world):
    s = world.session
    text = HEADER + "XF01ZF;hernoemd@example.nl;Bas;;Eerstenaam;Gouda\n"
    with acting_as("garage-devries") as acting:
        make_searchable(s, upload_and_run(s, acting, text))
        renamed = upload_and_run(s, acting, text.replace("Eerstenaam", "Tweedenaam"))
    assert renamed.counts["update"] == 1 and renamed.searchable_at is None
    assert len(names_found(s, "tweedenaam")) == 1  # before the run's copy
    assert names_found(s, "eerstenaam") == set()
    assert_copy_is_whole(s)


def test_issue20_the_clock_copies_a_run_whose_worker_was_lost(app, acting_as, world):
    s = world.session
    text = HEADER + "XG01ZG;verloren@example.nl;Kim;;Verloren;Ede\n"
    with acting_as("garage-devries") as acting:
        done = upload_and_run(s, acting, text)
    # Just done: its own worker copies it, the clock leaves it.
    assert done.id not in {job.id for job in search_copy.runs_to_copy(s, utcnow())}
    later = utcnow() + search_copy.LOST_AFTER + dt.timedelta(seconds=1)
    assert done.id in {job.id for job in search_copy.runs_to_copy(s, later)}
    s.execute(  # the worker died before it copied: its run ended a minute ago
        BatchJob.__table__.update()
        .where(BatchJob.id == done.id)
        .values(finished_at=utcnow() - dt.timedelta(minutes=1))
    )
    s.commit()
    with app.app_context():
        copy_lost_runs()
        db.session.remove()
    s.expire_all()
    assert s.get(BatchJob, done.id).searchable_at is not None
    assert len(names_found(s, "verloren")) == 1
    assert search_copy.runs_to_copy(s, later) == []
    assert_copy_is_whole(s)


def test_issue20_the_search_copy_is_read_through_the_scope(acting_as, world):
    """R-SEC-1: a garage finds only its own customers and cars through the copy."""
    s = world.session
    theirs = s.scalars(
        select(Passport).where(Passport.garage_id != world.garage("Garage De Vries").id)
    ).first()
    name = theirs.owner.last_name
    with acting_as("garage-devries"):
        assert theirs.owner_id not in names_found(s, name)
        assert theirs.id not in plates_found(s, theirs.plate)
    with acting_as("support"):
        assert theirs.owner_id in names_found(s, name)
        assert theirs.id in plates_found(s, theirs.plate)


def test_issue20_the_api_s_plate_filters_read_the_copy_in_any_notation(world, api_client):
    """The API's "starts with" and "contains" on a plate, now on the copy's index: the same
    answers as FAB's own filters in any notation (R-PP-2), and scoped."""
    s = world.session
    car = s.scalars(
        select(Passport).where(Passport.garage_id == world.garage("Garage De Vries").id)
    ).first()
    dashed = display_plate(car.plate).lower()  # "12-abc-3"
    api = api_client("garage-devries")
    for operation, value in (("sw", dashed[:-1]), ("ct", dashed[1:])):
        found = api.get(
            f"/api/v1/passport/?q=(filters:!((col:plate,opr:{operation},value:'{value}')))"
        ).get_json()
        assert car.id in found["ids"], (operation, value)
    assert (
        api_client("garage-jansen")
        .get(f"/api/v1/passport/?q=(filters:!((col:plate,opr:ct,value:'{car.plate}')))")
        .get_json()["count"]
        == 0
    )  # another garage's car, through the copy: not there


def test_issue20_a_whole_plate_is_found_while_its_list_is_not_yet_copied(acting_as, world):
    """The counter types a whole plate (or e-mail) most: found on passport itself at once,
    as before the copy, also between a list's chunk and its run's copy."""
    s = world.session
    text = HEADER + "XH01ZH;heel@example.nl;Lies;;Heelkenteken;Breda\n"
    with acting_as("garage-devries") as acting:
        done = upload_and_run(s, acting, text)
        assert done.searchable_at is None
        car = s.scalars(select(Passport).where(Passport.plate == "XH01ZH")).one()
        assert plates_found(s, "XH01ZH") == {car.id}
        assert plates_found(s, "XH01Z") == set()  # a part: after the run's copy
        make_searchable(s, done)
        assert plates_found(s, "XH01Z") == plates_found(s, "XH01ZH") == {car.id}


def test_issue20_a_last_name_s_start_is_found_across_garages_by_support_only(world, login_as):
    """The customer list's "starts with" on a last name: across every garage (Support) on
    the copy's index, in a garage's own range on customer's (R-SEC-1 either way)."""
    s = world.session
    devries = world.garage("Garage De Vries").id
    theirs = s.scalars(select(Customer).where(Customer.garage_id != devries)).first()
    ours = s.scalars(select(Customer).where(Customer.garage_id == devries)).first()
    for customer in (theirs, ours):
        customer.last_name = f"Zoekvoorvoegsel{customer.id}"
    s.commit()
    cell = {c: f"Zoekvoorvoegsel{c.id}</td>" for c in (theirs, ours)}  # the full name's end
    path = "/customers/list/?_flt_0_last_name=zoekvoorvoegsel"
    support = login_as("support").get(path).get_data(as_text=True)
    assert cell[theirs] in support and cell[ours] in support
    garage = login_as("garage-devries").get(path).get_data(as_text=True)
    assert cell[ours] in garage and cell[theirs] not in garage
