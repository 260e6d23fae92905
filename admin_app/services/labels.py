"""Field labels as the screens show them, one map per record type.

The views use these maps for their columns and the readable audit log
(services/audit.describe_entries) for the fields of a change, so a field is called the
same on its screen and in its history. A leaf module: it imports nothing of the app.
FAB fills a view's label_columns in place with English names for the columns it lacks:
views take a copy (``{**CUSTOMER_LABELS}``), so those names never reach the history.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CUSTOMER_LABELS = {
    "first_name": _l("First name"),
    "infix": _l("Infix"),
    "last_name": _l("Last name"),
    "full_name": _l("Name"),
    "email": _l("E-mail"),
    "street": _l("Street"),
    "house_number": _l("House number"),
    "postcode": _l("Postcode"),
    "city": _l("City"),
    "phone": _l("Phone"),
    "customer_number": _l("Customer number"),
    "garage": _l("Garage"),
    "email_bounced_at": _l("E-mail bounced"),
    "never_contact": _l("No more invitations"),
    "created_at": _l("Created"),
}

GARAGE_LABELS = {
    "name": _l("Name"),
    "email": _l("Garage e-mail (login)"),
    "street": _l("Street"),
    "house_number": _l("House number"),
    "postcode": _l("Postcode"),
    "city": _l("City"),
    "phone": _l("Phone"),
    "advice_followup_default": _l("Advice follow-up: invite by default"),
    "apk_reminders": _l("APK reminders: mail owners before their APK expires"),
    "apk_reminder_weeks": _l("APK reminder: weeks before the expiry date"),
    "apk_reminders_from": _l("APK reminders for expiry dates from"),
    "logo": _l("Logo"),
    "created_at": _l("Created"),
}

USER_LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "username": _l("User name"),
    "email": _l("E-mail"),
    "active": _l("Active"),
    "roles": _l("Roles"),
    "garage": _l("Garage"),
    "fleet_account": _l("Fleet account"),
    "last_login": _l("Last login"),
    "login_count": _l("Logins"),
    "fail_login_count": _l("Failed logins"),
    "created_on": _l("Created"),
    "changed_on": _l("Changed"),
}

PASSPORT_LABELS = {
    "plate_label": _l("Plate"),
    "plate": _l("Plate"),
    "brand": _l("Brand"),
    "model": _l("Model"),
    "fuel": _l("Fuel"),
    "first_registration": _l("First registration"),
    "apk_expiry": _l("APK expiry"),
    "next_service": _l("Next service"),
    "mobility_renewal": _l("Mobility service renewal"),
    "odometer": _l("Odometer"),
    "owner_name": _l("Owner"),
    "owner_email": _l("E-mail"),
    "driver": _l("Driver"),
    "fleet_account": _l("Fleet account"),
    "stock_car": _l("Stock car"),
    "state": _l("State"),
    "state_label": _l("State"),
    "created_via": _l("Created via"),
    "created_via_label": _l("Created via"),
    "garage": _l("Garage"),
    "created_at": _l("Created"),
}

FLEET_ACCOUNT_LABELS = {
    "name": _l("Company name"),
    "email": _l("Login e-mail"),
    "manager_passport": _l("Fleet manager's passport"),
    "linked_count": _l("Linked cars"),
    "apk_digest_stopped_at": _l("Weekly APK overview stopped"),
    "garage": _l("Garage"),
    "created_at": _l("Created"),
}

# Records with no screen of their own: named as the profile's panels and forms name them.
TRANSFER_LABELS = {
    "kind": _l("Kind"),
    "state": _l("State"),
    "to_email": _l("E-mail"),
    "to_name": _l("Name"),
    "created_by": _l("By"),
    "expires_at": _l("Accept before"),
    "decided_at": _l("Decided"),
}

INSPECTION_FORM_LABELS = {
    "kind": _l("Kind"),
    "plate": _l("Plate"),
    "inspector": _l("Inspector"),
    "inspection_date": _l("Inspection date"),
    "version": _l("Version"),
    "send_updates": _l("Send updates to the customer (a mail at every save)"),
    "still_adjusting": _l(
        "Form options (and prices) are still being adjusted: stays editable after the "
        "inspection day, the customer gets a mail at every change"
    ),
    "created_by": _l("By"),
    "saved_at": _l("Saved"),
}

PERFORMED_WORK_LABELS = {
    "description": _l("Description"),
    "done_on": _l("Date"),
    "added_by": _l("By"),
    "added_at": _l("When"),
}
