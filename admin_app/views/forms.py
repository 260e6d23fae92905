"""Forms of the passport screens. They carry the fields; services do the checking."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField

from admin_app.models.customers import CONTACT_FIELDS

PERSON_FIELDS = ("email", *CONTACT_FIELDS)


class PersonForm(FlaskForm):
    first_name = StringField(_l("First name or initials"))
    infix = StringField(_l("Infix"))
    last_name = StringField(_l("Last name"))
    street = StringField(_l("Street"))
    house_number = StringField(_l("House number"))
    postcode = StringField(_l("Postcode"))
    city = StringField(_l("City"))
    phone = StringField(_l("Phone"))
    customer_number = StringField(_l("Customer number"))
    email = StringField(_l("E-mail"))

    def person_data(self) -> dict:
        return {name: self[name].data for name in PERSON_FIELDS if name in self}


class NewPassportForm(PersonForm):
    plate = StringField(_l("Plate"))
    brand = StringField(_l("Brand"))
    model = StringField(_l("Model"))
    apk_expiry = StringField(_l("APK expiry (dd-mm-yyyy)"))
    fleet_account_id = SelectField(
        _l("Fleet account (optional)"), choices=[], validate_choice=False
    )

    FIELD_ORDER = (
        "plate",
        "brand",
        "model",
        "apk_expiry",
        "fleet_account_id",
        "email",
        *CONTACT_FIELDS,
    )


class TransferForm(PersonForm):
    email_again = StringField(_l("E-mail once more (check it)"))
    confirmation_key = HiddenField()

    FIELD_ORDER = (
        "email",
        "email_again",
        "first_name",
        "infix",
        "last_name",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
    )


class UploadForm(FlaskForm):
    file = FileField(_l("Customer list (.xlsx or .csv)"), validators=[FileRequired()])
    send_to_customers = BooleanField(
        _l("Send the passports to the customers right after processing"), default=False
    )


class FleetAccountForm(FlaskForm):
    name = StringField(_l("Company name"))
    email = StringField(_l("Login e-mail of the fleet account"))


class FleetLinkForm(FlaskForm):
    fleet_name = StringField(_l("Fleet account (type its name)"))


class EmailForm(FlaskForm):
    email = StringField(_l("New e-mail address"))
    resend = BooleanField(_l("Send the passport to the new address now"), default=True)


class MoveForm(FlaskForm):
    garage_id = SelectField(_l("Move to garage"), choices=[], validate_choice=False)


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Choose a password"))
    conf_password = PasswordField(_l("Repeat the password"))


class LoginPasswordForm(FlaskForm):
    """The password of an existing login, asked before a mailed link adds to it."""

    password = PasswordField(_l("Your password"))


class ConfirmForm(FlaskForm):
    """A button with a CSRF token, for actions that take no input."""


def show_errors(form: FlaskForm, error) -> bool:
    """Put a domain error's field messages on the form; True when any field took one."""
    placed = False
    for field, messages in (error.errors or {}).items():
        if field in form:
            form[field].errors = [str(m) for m in messages]
            placed = True
    return placed


def submitted(form: FlaskForm, action, *, done, next_url):
    """The one way a console form is handled: validate, then ``attempt`` the action with
    the refusal's messages on the form's fields."""
    if not form.validate_on_submit():
        return None
    return attempt(action, done=done, next_url=next_url, form=form)


def attempt(action, *, done, next_url, form: FlaskForm | None = None):
    """Run ``action`` in one unit of work, then redirect with ``done`` (text, or a function
    of the result; None: no message) to ``next_url`` (a URL, or a function of the result).
    On a refusal nothing is written: the messages go onto the form's fields (or into a
    flash) and None tells the view to show its page again."""
    from flask import flash, redirect

    from admin_app.extensions import db
    from admin_app.services.errors import DomainError
    from admin_app.services.uow import unit_of_work

    try:
        with unit_of_work(db.session):
            result = action()
    except DomainError as error:
        if form is None or not show_errors(form, error):
            flash(str(error.message), "danger")
        return None
    if done:
        flash(str(done(result) if callable(done) else done), "success")
    return redirect(next_url(result) if callable(next_url) else next_url)
