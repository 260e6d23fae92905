"""Issue 20, attacked: the counter's search copy (services/search_copy) left behind by a
worker that dies inside a run, and read through the scope by every reader (R-SEC-1)."""

from __future__ import annotations

import datetime as dt

import prison
import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs.batch import _write_chunk, copy_lost_runs, make_searchable, process_job
from admin_app.models import BatchJob, Customer, Passport
from admin_app.models.base import utcnow
from admin_app.services import batch_jobs
from tests.services.test_search_copy_issue20 import (
    HEADER,
    assert_copy_is_whole,
    names_found,
    plates_found,
    upload_and_claim,
)


def test_issue20_attack_a_run_whose_worker_died_inside_it_is_found_within_a_minute(
    app, acting_as, world
):
    """Its committed chunks' customers were found at once before issue 20; the run stays
    `running` until another worker takes it over (BATCH_STALE_SECONDS, 10 minutes): the
    clock copies them within a minute, without marking the run searchable, so what the
    run writes after the takeover is copied when it ends."""
    s = world.session
    rows = "".join(
        f"{plate};gestorven{n}@example.nl;Jan;;Halverwege{n};Zeist\n"
        for n, plate in enumerate(("XH01ZH", "XH02ZH", "XH03ZH", "XH04ZH"))
    )
    with acting_as("garage-devries") as acting:
        job_id = upload_and_claim(s, acting, HEADER + rows)  # chunks of two rows
        s.commit()  # the clock's queueing
    assert batch_jobs.claim_job(s, job_id, worker="dead")
    s.commit()
    run, order = batch_jobs.start_run(s, s.get(BatchJob, job_id), worker="dead")
    s.commit()
    _write_chunk(s, run, order.pending[0])  # one chunk committed, then the worker died
    s.execute(
        BatchJob.__table__.update()
        .where(BatchJob.id == job_id)
        .values(heartbeat_at=utcnow() - dt.timedelta(seconds=40))
    )
    s.commit()
    assert names_found(s, "halverwege") == set()  # its two customers, not yet copied
    with app.app_context():
        copy_lost_runs()
        db.session.remove()
    s.expire_all()
    committed = set(s.scalars(select(Customer.id).where(Customer.last_name.like("Halverwege%"))))
    cars = set(s.scalars(select(Passport.id).where(Passport.plate.like("XH0%"))))
    assert committed and cars and len(committed) < 4  # its first chunk's
    assert names_found(s, "halverwege") == committed and plates_found(s, "XH0") == cars
    assert s.get(BatchJob, job_id).searchable_at is None  # still running: not marked
    # Taken over (its heartbeat is stale), run to the end and copied by its worker.
    done = process_job(s, job_id, worker="alive", stale_after=dt.timedelta(seconds=30))
    assert done.state == "done"
    make_searchable(s, done)
    assert len(names_found(s, "halverwege")) == 4 and len(plates_found(s, "XH0")) == 4
    assert s.get(BatchJob, job_id).searchable_at is not None
    assert_copy_is_whole(s)


def test_issue20_attack_a_live_run_is_left_to_its_worker(acting_as, world):
    """A run whose chunks still beat is not copied by the clock (its copy is the cost the
    issue took out of the run)."""
    from admin_app.services import search_copy

    s = world.session
    with acting_as("garage-devries") as acting:
        job_id = upload_and_claim(s, acting, HEADER + "XK01ZK;levend@example.nl;A;;B;C\n")
        s.commit()
    assert batch_jobs.claim_job(s, job_id, worker="alive")
    s.commit()
    assert job_id not in {job.id for job in search_copy.runs_to_copy(s, utcnow())}
    later = utcnow() + search_copy.LOST_AFTER + dt.timedelta(seconds=1)
    assert job_id in {job.id for job in search_copy.runs_to_copy(s, later)}


def _jansen_car(world):
    """A live Jansen car with an owner of its own (not the garage's stock owner), one with
    an open recall when there is one (the recall list shows no other)."""
    from admin_app.services.recalls import open_recalls_by_passport

    jansen = world.garage("Autobedrijf Jansen")
    cars = world.session.scalars(
        select(Passport)
        .where(
            Passport.garage_id == jansen.id,
            Passport.stock_car.is_(False),
            Passport.state != "archived",
            # Not one the fleet manager or the Owner of the test may see.
            Passport.fleet_account_id.is_(None),
            Passport.driver_id.is_(None),
            Passport.owner_id.not_in(
                select(Customer.id).where(Customer.email == "eigenaar@example.nl")
            ),
        )
        .order_by(Passport.id)
    ).all()
    recalled = open_recalls_by_passport(world.session, [car.id for car in cars])
    return next((car for car in cars if car.id in recalled), cars[0]), bool(recalled)


def _found_by_every_reader(login_as, api_client, username, car, recalled) -> dict[str, bool]:
    """Whether each reader of the copy shows ``car`` (or its owner) to ``username``."""
    owner = car.owner
    name, email_part, plate_part = owner.last_name, owner.email.split("@")[0], car.plate[1:5]
    browser, api = login_as(username), api_client(username)
    shown = {}
    readers = [("passports", "/passports/list/", "psize_PassportView")]
    if recalled:
        readers.append(("recalls", "/recalls/list/", "psize_RecallListView"))
    for reader, path, page_size in readers:
        for what, value in (("name", name), ("email", email_part), ("plate", plate_part)):
            page = browser.get(path, query_string={"_flt_0_plate": value, page_size: 100})
            assert page.status_code in (200, 404), page.status_code  # an Owner has no list
            shown[f"{reader} {what}"] = f'/passports/show/{car.id}"' in page.get_data(as_text=True)
    customers = browser.get(
        "/customers/list/",
        query_string={"_flt_1_email": owner.email[:6], "psize_CustomerView": 100},
    )
    if customers.status_code == 200:
        html = customers.get_data(as_text=True)
        shown["customers e-mail starts with"] = f'/customers/show/{owner.id}"' in html
    form = browser.get("/inspections/", query_string={"q": plate_part, "invited": "0"})
    if form.status_code == 200:
        html = form.get_data(as_text=True)
        shown["inspection form"] = f'name="passport_id" value="{car.id}"' in html
    query = {"filters": [{"col": "email", "opr": "ct", "value": email_part}], "page_size": 100}
    listed = api.get("/api/v1/passport/?q=" + prison.dumps(query))
    assert listed.status_code in (200, 404), listed.status_code  # nor an API of his cars
    shown["api e-mail contains"] = car.id in (listed.get_json() or {}).get("ids", [])
    return shown


@pytest.mark.parametrize("username", ["garage-devries", "fleet-bakker", "eigenaar"])
def test_issue20_attack_no_reader_of_the_copy_finds_another_tenant_s_car(
    world, login_as, api_client, username
):
    """R-SEC-1 through the screens and the API, not only the service: the copy is a child
    read through its scoped customer or passport in every subquery the readers nest it in."""
    car, recalled = _jansen_car(world)
    shown = _found_by_every_reader(login_as, api_client, username, car, recalled)
    assert not any(shown.values()), shown


def test_issue20_attack_support_finds_that_car_by_every_reader(world, login_as, api_client):
    """The same searches as Support find it (the test above is not empty-handed)."""
    car, recalled = _jansen_car(world)
    shown = _found_by_every_reader(login_as, api_client, "support", car, recalled)
    assert all(shown.values()), shown


def test_issue20_attack_every_writer_of_a_name_or_e_mail_leaves_the_copy_equal(world, acting_as):
    """The screens' and the API's services (a name, Support's e-mail fix, a transfer to a
    new owner) and the erase (R-DR-2: afterwards his name and e-mail are found nowhere, the
    copy included): after each, the copy equals lower(last_name), lower(email), plate."""
    import datetime as dt_module

    from admin_app.services import erasure, passports, transfers
    from admin_app.services.passports import PersonDetails

    s = world.session
    car, _ = _jansen_car(world)
    owner_id = car.owner_id
    with acting_as("garage-jansen") as acting:
        passports.update_customer(s, owner_id, {"last_name": "Öztürk-Zoekbaar"}, actor=acting.actor)
        s.commit()
    assert_copy_is_whole(s)
    # (SQLite's lower() leaves "Ö" as it is, before issue 20 too: the part after it.)
    assert names_found(s, "rk-zoekbaar") == {owner_id}
    with acting_as("support") as acting:
        passports.change_customer_email(
            s, owner_id, "Hersteld.Adres@Example.NL", actor=acting.actor
        )
        s.commit()
    assert_copy_is_whole(s)
    assert names_found(s, "hersteld.adres@") == {owner_id}
    other = s.scalars(  # a garage hands over its stock cars
        select(Passport)
        .where(Passport.garage_id == car.garage_id, Passport.stock_car.is_(True))
        .order_by(Passport.id)
    ).first()
    with acting_as("garage-jansen") as acting:
        transfers.start_transfer(
            s,
            other.id,
            actor=acting.actor,
            person=PersonDetails.from_mapping(
                {"email": "koper.nieuw@example.nl", "last_name": "Kopersma", "first_name": "K"}
            ),
        )
        s.commit()
    assert_copy_is_whole(s)
    assert len(names_found(s, "kopersma")) == 1
    with acting_as("support") as acting:
        customer = s.get(Customer, owner_id)
        erasure.erase_customer(s, acting.actor, customer, "Op zijn verzoek", dt_module.date.today())
        s.commit()
    assert_copy_is_whole(s)
    assert names_found(s, "rk-zoekbaar") == set() and names_found(s, "hersteld.adres") == set()


def test_issue20_attack_an_edit_before_the_run_s_copy_wins(acting_as, world):
    """A customer the run created, renamed at the counter before the run's copy: the copy
    the edit made is newer and stays (ON CONFLICT DO NOTHING), not the run's name."""
    from admin_app.services import passports
    from tests.services.test_search_copy_issue20 import upload_and_run

    s = world.session
    text = HEADER + "XL01ZL;eerst@example.nl;Els;;Lijstnaam;Baarn\n"
    with acting_as("garage-devries") as acting:
        done = upload_and_run(s, acting, text)
        created = s.scalar(select(Customer.id).where(Customer.last_name == "Lijstnaam"))
        passports.update_customer(s, created, {"last_name": "Baliesnaam"}, actor=acting.actor)
        s.commit()
    assert names_found(s, "baliesnaam") == {created}
    make_searchable(s, s.get(BatchJob, done.id))
    assert names_found(s, "baliesnaam") == {created} and names_found(s, "lijstnaam") == set()
    assert_copy_is_whole(s)
