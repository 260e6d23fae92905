"""The forms opened from a profile (R-TR-1, R-TR-2, R-FL-5): a form not allowed goes back
to the profile with its reason; the transfer form and the cancel button, for the
garage's profile, the owner's car and the fleet manager's dashboard alike.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from admin_app.extensions import db
from admin_app.models import Passport
from admin_app.services import passports as passport_rules
from admin_app.services import transfers
from admin_app.services.passports import PersonDetails
from admin_app.views.forms import (
    ConfirmForm,
    TransferForm,
    submitted,
)
from admin_app.web.actor import current_actor
from admin_app.web.lookup import scoped_or_404


def not_allowed(view, passport: Passport, action: str):
    """A form opened (GET) for an action the actor may not take on this passport: back to
    the profile with the reason, instead of refusing only after it was filled in."""
    if request.method != "GET":
        return None  # a post is refused by the service, with what was typed kept
    refusal = passport_rules.refusal_of(db.session, current_actor(), passport, action)
    if refusal is None:
        return None
    flash(str(refusal.reason), "warning")
    return redirect(url_for(f"{view.endpoint}.show", pk=passport.id))


def cancel_transfer_of(view, pk, back: str | None = None):
    """Cancel the car's waiting transfer (R-TR-2): the button for whoever may (the
    service decides: the garage, Support, Admin, the fleet manager, the owner who started
    it)."""
    passport = scoped_or_404(Passport, pk)
    back = back or url_for(f"{view.endpoint}.show", pk=pk)
    refusal = passport_rules.refusal_of(db.session, current_actor(), passport, "cancel_transfer")
    if refusal is not None and refusal.for_this_passport:  # none waiting: nothing to confirm
        flash(str(refusal.reason), "warning")
        return redirect(back)
    # A role that may not cancel it is refused by the service, after the form's checks.
    return submitted(
        ConfirmForm(),
        lambda: transfers.cancel_waiting_transfer(db.session, pk, actor=current_actor()),
        done=_l("The transfer is cancelled; the car is back as it was."),
        next_url=back,
    ) or redirect(back)


def transfer_page(view, pk, kind: str = "owner"):
    """The transfer form (R-TR-1, R-FL-5): the new owner's or driver's details, the
    e-mail checked twice."""
    passport = scoped_or_404(Passport, pk)
    refused_here = not_allowed(view, passport, "transfer")
    if refused_here:
        return refused_here
    form = TransferForm()
    answer = None
    if form.is_submitted() and not same_email(form.email.data, form.email_again.data):
        form.validate()
        form.email_again.errors = [str(_l("The two e-mail addresses differ."))]
    else:
        answer = submitted(
            form,
            lambda: transfers.confirm_transfer_form(
                db.session,
                pk,
                actor=current_actor(),
                kind=kind,
                person=PersonDetails.from_mapping(form.person_data()),
                confirmation_key=form.confirmation_key.data or None,
            ),
            done=transfer_outcome,
            next_url=url_for(f"{view.endpoint}.list"),
        )
    if answer is None:
        # A new key each time the form is shown: a refused submit did nothing, and one
        # confirmed before with other details is done; the next confirm is a new one.
        form.confirmation_key.data = transfers.new_confirmation_key()
    return answer or view.render_template(
        "console/form.html",
        form=form,
        fields=form.FIELD_ORDER,
        title=(
            _l("New driver of %(plate)s", plate=passport.plate_display)
            if kind == "driver"
            else _l("Transfer %(plate)s to a new owner", plate=passport.plate_display)
        ),
        submit_label=_l("Confirm the new driver")
        if kind == "driver"
        else _l("Confirm the transfer"),
    )


def same_email(first: str | None, second: str | None) -> bool:
    return (first or "").strip().lower() == (second or "").strip().lower()


def transfer_outcome(started: transfers.TransferStarted):
    """What the person who confirmed a transfer is told happens next: the path the service
    says it took (services/transfers.TransferPath)."""
    email = started.transfer.to_email
    match started.path:
        case transfers.TransferPath.new_driver:
            return _l("%(email)s drives the car now; it stays in the fleet.", email=email)
        case transfers.TransferPath.awaits_activation:
            return _l(
                "%(email)s gets a mail to activate the passport; the car leaves the fleet "
                "when he does.",
                email=email,
            )
        case transfers.TransferPath.awaits_acceptance:
            return _l(
                "%(email)s has a login: the transfer waits until he accepts it (14 days).",
                email=email,
            )
    return _l(
        "The car is transferred; %(email)s gets a mail to activate the passport.", email=email
    )
