"""Issue 14: the "new form" buttons reopen this person's unsaved draft instead of piling up
empty "Concept" forms (R-IN-2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from admin_app.db import unit_of_work
from admin_app.services import inspections

DAY = dt.date(2026, 11, 20)


def _open(s, acting, passport, *, kind="customer", day=DAY, inspector="Piet Monteur"):
    with unit_of_work(s):
        return inspections.create_draft(
            s,
            kind=kind,
            actor=acting.actor,
            inspector=inspector,
            inspection_date=day,
            passport_id=passport.id if passport else None,
            reopen=True,
        ).id


def test_issue14_a_second_click_reopens_the_unsaved_draft(world, acting_as):
    """R-IN-2: the same car, kind, day and person open the same draft; any difference, or a
    saved form, gives a new one."""
    s = world.session
    first_car, second_car = world.passports(
        garage_id=world.garage("Autobedrijf Jansen").id, state="activated"
    )[:2]
    with acting_as("garage-jansen") as acting:
        draft = _open(s, acting, first_car)
        assert _open(s, acting, first_car, inspector="Kees Test") == draft
        assert inspections.get_form(s, draft).inspector == "Kees Test"
        assert _open(s, acting, second_car) != draft
        assert _open(s, acting, first_car, kind="all_ok") != draft
        assert _open(s, acting, first_car, day=DAY + dt.timedelta(days=1)) != draft
        blank = _open(s, acting, None, kind="blank")
        assert _open(s, acting, None, kind="blank") == blank
        with unit_of_work(s):
            inspections.save_form(s, draft, actor=acting.actor, today=DAY)
        assert _open(s, acting, first_car) != draft


def test_issue14_another_colleague_gets_a_draft_of_his_own(world, acting_as):
    """Two mechanics of one garage each fill in their own form of the same car."""
    s = world.session
    car = world.passports(garage_id=world.garage("Autobedrijf Jansen").id, state="activated")[0]
    with acting_as("garage-jansen") as acting:
        mine = _open(s, acting, car)
        colleague = replace(acting.actor, id=None, name="monteur-2")
        with unit_of_work(s):
            theirs = inspections.create_draft(
                s,
                kind="customer",
                actor=colleague,
                inspector="Mo",
                inspection_date=DAY,
                passport_id=car.id,
                reopen=True,
            ).id
    assert theirs != mine
