"""Issue 13: a new login submitted twice at once (a double click, two tabs) is one login
and a clear message, never a 500 — on the garage's colleague form and Admin's user screen."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from admin_app.models import ConsoleUser

TAKEN = "Er bestaat al een login met deze gebruikersnaam of dit e-mailadres."


def _at_once(app, browsers, path, data):
    """POST the same form from each browser in its own thread; the answers in order."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is an answer to look at here
    answers = [None] * len(browsers)

    def submit(i):
        answers[i] = browsers[i].post(path, data, follow_redirects=True)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _both_pass_the_check_first(monkeypatch, owner, name):
    """Hold each request at ``owner.name`` — after the uniqueness check, before the
    insert — until the other arrives: the race a double click runs, every time."""
    barrier = threading.Barrier(2, timeout=20)
    original = getattr(owner, name)

    def wait_for_the_twin(*args, **kwargs):
        barrier.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wait_for_the_twin)


def _logins(world, username):
    world.session.expire_all()
    return world.session.scalar(
        select(func.count()).select_from(ConsoleUser).where(ConsoleUser.username == username)
    )


def test_issue13_double_submitted_colleague_is_a_message(app, world, login_as, monkeypatch):
    from admin_app.services import accounts

    browsers = [login_as("garage-jansen"), login_as("garage-jansen")]
    _both_pass_the_check_first(monkeypatch, accounts, "find_role")
    answers = _at_once(
        app,
        browsers,
        "/colleagues/new",
        {
            "first_name": "Mo",
            "last_name": "Nteur",
            "username": "monteur-2",
            "email": "monteur2@autobedrijf-jansen.nl",
        },
    )
    assert sorted(a.status_code for a in answers) == [200, 200], [a.status_code for a in answers]
    pages = [a.get_data(as_text=True) for a in answers]
    assert sum(TAKEN in page for page in pages) == 1
    assert _logins(world, "monteur-2") == 1


def test_issue13_double_submitted_user_on_the_user_screen_is_a_message(
    app, world, login_as, monkeypatch
):
    from flask_appbuilder.security.sqla.models import Role

    from admin_app.views.users import ConsoleUserView

    garage_role = world.session.scalar(select(Role.id).where(Role.name == "Garage"))
    browsers = [login_as("admin"), login_as("admin")]
    _both_pass_the_check_first(monkeypatch, ConsoleUserView, "pre_add")
    answers = _at_once(
        app,
        browsers,
        "/users/add",
        {
            "first_name": "Mo",
            "last_name": "Nteur",
            "username": "monteur-3",
            "active": "y",
            "email": "monteur3@autobedrijf-jansen.nl",
            "roles": [garage_role],
            "garage": world.garage("Autobedrijf Jansen").id,
            "password": "lang-genoeg-wachtwoord",
            "conf_password": "lang-genoeg-wachtwoord",
        },
    )
    assert [a.status_code for a in answers] == [200, 200]
    pages = [a.get_data(as_text=True) for a in answers]
    assert sum(TAKEN in page for page in pages) == 1
    assert not any("INSERT INTO" in page or "IntegrityError" in page for page in pages)
    assert _logins(world, "monteur-3") == 1


def test_issue13_a_new_user_without_a_role_is_a_message_not_a_500(app, world, login_as):
    """FAB's validator looked for a "groups" field the user screen does not have."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    admin = login_as("admin")
    admin.fetch_csrf("/users/add")
    typed = {"first_name": "Nieuwe", "last_name": "Collega", "username": "zonder-rol"}
    page = admin.post("/users/add", {**typed, "email": "zonder.rol@example.nl"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="zonder-rol"' in html  # what was typed is kept
    assert world.session.query(ConsoleUser).filter_by(username="zonder-rol").count() == 0
