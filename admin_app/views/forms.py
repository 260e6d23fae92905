"""Forms of the console screens. They carry the fields and check what a rule cannot be
asked to: that a value fits the column it is stored in (PostgreSQL refuses a longer one
with an error, SQLite stores it) and that a choice is one of those offered (issue 13,
R-X-4: a 100,000-character name or a fleet account id "abc" was a 500). Services do
the rest of the checking."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import Length

from admin_app.models import Customer, FleetAccount, IdempotencyKey, Passport
from admin_app.models.customers import CONTACT_FIELDS

PERSON_FIELDS = ("email", *CONTACT_FIELDS)
MAX_ID = 2**31 - 1  # primary keys are 32-bit integers
MAX_PASSWORD = 200  # characters; hashing a longer one only costs time


def fits(model, column: str) -> Length:
    """At most as long as the column the value is stored in."""
    return Length(max=model.__table__.c[column].type.length)


def record_id(text) -> int | None:
    """A record id typed in a form or a URL's query, or None for anything that cannot be
    one (text, negative, beyond 32 bits: these reached the database as a 500)."""
    text = str(text or "").strip()
    return int(text) if text.isdecimal() and 0 < int(text) <= MAX_ID else None


class PersonForm(FlaskForm):
    first_name = StringField(_l("First name or initials"), [fits(Customer, "first_name")])
    infix = StringField(_l("Infix"), [fits(Customer, "infix")])
    last_name = StringField(_l("Last name"), [fits(Customer, "last_name")])
    street = StringField(_l("Street"), [fits(Customer, "street")])
    house_number = StringField(_l("House number"), [fits(Customer, "house_number")])
    postcode = StringField(_l("Postcode"), [fits(Customer, "postcode")])
    city = StringField(_l("City"), [fits(Customer, "city")])
    phone = StringField(_l("Phone"), [fits(Customer, "phone")])
    customer_number = StringField(_l("Customer number"), [fits(Customer, "customer_number")])
    email = StringField(_l("E-mail"), [fits(Customer, "email")])

    def person_data(self) -> dict:
        return {name: self[name].data for name in PERSON_FIELDS if name in self}


class NewPassportForm(PersonForm):
    plate = StringField(_l("Plate"), [Length(max=20)])  # stored normalized in 16
    brand = StringField(_l("Brand"), [fits(Passport, "brand")])
    model = StringField(_l("Model"), [fits(Passport, "model")])
    apk_expiry = StringField(_l("APK expiry (dd-mm-yyyy)"), [Length(max=20)])
    fuel = StringField(_l("Fuel"), [fits(Passport, "fuel")])
    first_registration = StringField(_l("First registration (dd-mm-yyyy)"), [Length(max=20)])
    # The view fills the choices with the garage's fleet accounts; nothing else is taken.
    fleet_account_id = SelectField(_l("Fleet account (optional)"), choices=[])

    FIELD_ORDER = (
        "plate",
        "brand",
        "model",
        "fuel",
        "first_registration",
        "apk_expiry",
        "fleet_account_id",
        "email",
        *CONTACT_FIELDS,
    )


class PassportEditForm(PersonForm):
    """The profile in place (R-PP-1): the car, and its owner's name, address, phone and
    customer number. The e-mail keeps its own form and rules (EmailForm, R-PP-7)."""

    email = None  # not on this form: WTForms leaves the inherited field out
    brand = StringField(_l("Brand"), [fits(Passport, "brand")])
    model = StringField(_l("Model"), [fits(Passport, "model")])
    fuel = StringField(_l("Fuel"), [fits(Passport, "fuel")])
    first_registration = StringField(_l("First registration (dd-mm-yyyy)"), [Length(max=20)])
    apk_expiry = StringField(_l("APK expiry (dd-mm-yyyy)"), [Length(max=20)])
    next_service = StringField(_l("Next service (dd-mm-yyyy)"), [Length(max=20)])
    mobility_renewal = StringField(_l("Mobility service renewal (dd-mm-yyyy)"), [Length(max=20)])
    odometer = StringField(_l("Odometer (km)"), [Length(max=20)])

    VEHICLE_ORDER = (
        "brand",
        "model",
        "fuel",
        "first_registration",
        "apk_expiry",
        "next_service",
        "mobility_renewal",
        "odometer",
    )
    OWNER_ORDER = CONTACT_FIELDS

    def changes(self) -> dict:
        """Every field as typed; the service writes those that differ."""
        return {name: self[name].data for name in (*self.VEHICLE_ORDER, *self.OWNER_ORDER)}

    def fill(self, passport: Passport) -> None:
        """The stored values, as a person types them (dates d-m-yyyy, kilometres in digits)."""
        for name in self.VEHICLE_ORDER:
            value = getattr(passport, name)
            if hasattr(value, "strftime"):
                value = value.strftime("%d-%m-%Y")
            self[name].data = "" if value is None else str(value)
        for name in self.OWNER_ORDER:
            self[name].data = getattr(passport.owner, name) or ""

    def show_register(self, register: dict) -> None:
        """The vehicle register's value in each car field as its placeholder ("RDW: Golf",
        issue 18): left empty, the field is the register's; typed, it is the garage's."""
        for name, value in register.items():
            if value is None or name not in self.VEHICLE_ORDER:
                continue
            shown = value.strftime("%d-%m-%Y") if hasattr(value, "strftime") else value
            self[name].render_kw = {
                **(self[name].render_kw or {}),
                "placeholder": str(_l("RDW: %(value)s", value=shown)),
            }


class TransferForm(PersonForm):
    email_again = StringField(_l("E-mail once more (check it)"), [fits(Customer, "email")])
    confirmation_key = HiddenField(validators=[fits(IdempotencyKey, "key")])

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
    name = StringField(_l("Company name"), [fits(FleetAccount, "name")])
    email = StringField(_l("Login e-mail of the fleet account"), [fits(FleetAccount, "email")])


class FleetLinkForm(FlaskForm):
    fleet_name = StringField(_l("Fleet account (type its name)"), [fits(FleetAccount, "name")])


class EmailForm(FlaskForm):
    email = StringField(_l("New e-mail address"), [fits(Customer, "email")])
    resend = BooleanField(_l("Send the passport to the new address now"), default=True)


class MoveForm(FlaskForm):
    # The view offers the other garages; nothing else is taken.
    garage_id = SelectField(_l("Move to garage"), choices=[])


class ErasureForm(FlaskForm):
    """Support's erase of a customer (issue 19, R-DR-2). The service checks the reason
    and the date, so a refusal lands on the field it is about, with what was typed."""

    which = SelectField(
        _l("What to erase"),
        choices=[
            ("customer", _l("Only this customer, at this garage")),
            ("person", _l("The person, at every garage, with the login")),
        ],
        default="customer",
    )
    requested_on = StringField(_l("Date of the request"), render_kw={"type": "date"})
    reason = StringField(_l("Reason"))
    confirmed = HiddenField()


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Choose a password"), [Length(max=MAX_PASSWORD)])
    conf_password = PasswordField(_l("Repeat the password"), [Length(max=MAX_PASSWORD)])


class LoginPasswordForm(FlaskForm):
    """The password of an existing login, asked before a mailed link adds to it."""

    password = PasswordField(_l("Your password"))


class ConfirmForm(FlaskForm):
    """A button with a CSRF token, for actions that take no input."""


def refused(form: FlaskForm) -> None:
    """Flash why a form was refused, for pages that do not show the form's own fields:
    an expired page, or each field's first error."""
    from flask import flash

    if said_expired(form):
        return
    for field in form:
        if field.errors:
            flash(f"{field.label.text}: {field.errors[0]}", "danger")


def said_expired(form: FlaskForm) -> bool:
    """Flash that the page had expired when that refused the form (its CSRF token): the
    one refusal no field shows. A page that shows its fields' messages again calls this
    alone; True when it said so. (CSRFProtect refuses a request without a valid token
    before the view, with a 400 of its own: this speaks where a view checks the token.)"""
    from flask import flash

    if "csrf_token" not in form.errors:
        return False
    flash(str(_l("The page had expired; please try again.")), "danger")
    return True


def show_errors(form: FlaskForm, error) -> bool:
    """Put a domain error's field messages on the form; True when any field took one."""
    placed = False
    for field, messages in (error.errors or {}).items():
        if field in form:
            form[field].errors = [str(m) for m in messages]
            placed = True
    return placed


def submitted(form: FlaskForm, action, *, done, next_url, then=None):
    """The one way a console form is handled: validate, then ``attempt`` the action with
    the refusal's messages on the form's fields."""
    if not form.validate_on_submit():
        return None
    return attempt(action, done=done, next_url=next_url, form=form, then=then)


def attempt(action, *, done, next_url, form: FlaskForm | None = None, on_refusal=None, then=None):
    """Run ``action`` in one unit of work, then redirect with ``done`` (text, or a function
    of the result; None: no message) to ``next_url`` (a URL, or a function of the result),
    or answer ``then(result)`` (a page that shows something once, e.g. a new secret).
    On a refusal nothing is written: the messages go onto the form's fields (or into a
    flash, and to ``on_refusal`` for a page that marks its own fields) and None tells the
    view to show its page again. ``answer``, a function of the result, is the response
    instead of the redirect: for what is shown once and must not pass through the session
    cookie (a new API key's secret)."""
    from flask import flash, redirect

    from admin_app.db import unit_of_work
    from admin_app.domain.errors import DomainError
    from admin_app.extensions import db

    try:
        with unit_of_work(db.session):
            result = action()
    except DomainError as error:
        if form is None or not show_errors(form, error):
            flash(str(error.message), "danger")
        if on_refusal is not None:
            on_refusal(error)
        return None
    if done:
        flash(str(done(result) if callable(done) else done), "success")
    if then is not None:
        return then(result)
    return redirect(next_url(result) if callable(next_url) else next_url)
