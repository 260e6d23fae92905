"""Issue 14 (smaller items seen): buttons say what they do."""

from __future__ import annotations


def test_issue14_forgot_password_button_says_it_mails_a_link(browser):
    page = browser().get("/forgot-password").get_data(as_text=True)
    assert "Stuur mij een link" in page and ">Opslaan<" not in page


def test_issue14_new_driver_form_confirms_a_driver_not_a_transfer(world, login_as):
    fleet_id = world.user("fleet-bakker").fleet_account_id
    car = world.passports(fleet_account_id=fleet_id)[0]
    page = login_as("fleet-bakker").get(f"/my-fleet/{car.id}/driver").get_data(as_text=True)
    assert "Nieuwe bestuurder bevestigen" in page and "Overdracht bevestigen" not in page
