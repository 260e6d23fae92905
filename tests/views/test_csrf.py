"""Flask-WTF CSRFProtect guards every form; the JWT API is exempt by design."""

from sqlalchemy import select

from admin_app.models import Customer


def test_form_post_without_token_is_refused_and_changes_nothing(world, login_as):
    browser = login_as("garage-jansen")
    customer = world.session.scalars(
        select(Customer).where(Customer.garage_id == world.garage("Autobedrijf Jansen").id)
    ).first()
    response = browser.post(f"/customers/edit/{customer.id}", {"last_name": "Gehackt"}, csrf=False)
    assert response.status_code == 400
    world.session.expire_all()
    assert world.session.get(Customer, customer.id).last_name != "Gehackt"
    # Issue 18 (review): the refusal speaks the console's language, not werkzeug's English.
    page = response.get_data(as_text=True)
    assert "De pagina was verlopen" in page and "Niets is opgeslagen" in page
    assert "CSRF" not in page and "Bad Request" not in page


def test_same_form_with_token_saves_and_is_audited(world, login_as):
    from admin_app.models import AuditLog

    browser = login_as("garage-jansen")
    customer = world.session.scalars(
        select(Customer).where(Customer.garage_id == world.garage("Autobedrijf Jansen").id)
    ).first()
    data = {
        "first_name": customer.first_name or "",
        "infix": customer.infix or "",
        "last_name": "Aangepast",
        "street": "",
        "house_number": "",
        "postcode": "",
        "city": "",
        "phone": "",
        "customer_number": "",
    }
    response = browser.post(f"/customers/edit/{customer.id}", data)
    assert response.status_code == 302
    world.session.expire_all()
    assert world.session.get(Customer, customer.id).last_name == "Aangepast"
    entry = world.session.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == "customer", AuditLog.record_id == customer.id)
        .order_by(AuditLog.id.desc())
    ).first()
    assert entry.actor_name == "garage-jansen"
    assert entry.changes["last_name"][1] == "Aangepast"


def test_login_form_needs_the_token_too(app, browser):
    client = browser()
    response = client.post("/login/", {"username": "admin", "password": "demo"}, csrf=False)
    assert response.status_code == 400


def test_get_delete_is_refused(world, login_as):
    from admin_app.models import Garage

    browser = login_as("admin")
    garage = world.garage("Garage De Vries")
    browser.get(f"/users/delete/{world.user('eigenaar').id}")
    world.session.expire_all()
    assert world.user("eigenaar") is not None
    assert world.session.get(Garage, garage.id) is not None
