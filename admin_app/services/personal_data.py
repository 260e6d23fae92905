"""THE registry of personal data (R-DR-2): every text column of every table, personal or not.

A customer's (or an Owner's) values are erased by the rule written next to each personal
column; a column that is not personal says why. ``tests/services/test_erase_issue19.py``
fails, naming the column, when a model gains a text column (String, Text, JSON, or a type
of models/types.py) this table does not classify — so a new place his data can live is
decided on before it ships, not found after an erase missed it.

The rules:
- ``TEXT``: the value becomes "verwijderd" (a column that may not be empty);
- ``NULL``: the value is emptied (an optional column);
- ``EMAIL``: ``verwijderd-<row id>@verwijderd.invalid`` — a unique or not-null address
  column keeps a distinct, well-formed value that reaches nobody (.invalid, RFC 2606);
- ``WALK``: free text or JSON in which his values may occur among others' (an audit
  entry's old → new values, a mail's parameters, a webhook's payload): JSON is walked and
  every string holding one of his values, or under a personal key, becomes "verwijderd";
  the structure and everyone else's values stay.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

from sqlalchemy import JSON, String, Text
from sqlalchemy.types import TypeDecorator

ERASED = "verwijderd"
ERASED_DOMAIN = "verwijderd.invalid"


class Rule(enum.StrEnum):
    NOT_PERSONAL = "not personal"
    TEXT = "verwijderd"
    NULL = "emptied"
    EMAIL = "verwijderd-<id>@verwijderd.invalid"
    WALK = "walked"


N, T, X, E, W = Rule.NOT_PERSONAL, Rule.TEXT, Rule.NULL, Rule.EMAIL, Rule.WALK

# Staff names (who uploaded, inspected, saved) are an employee's, not the customer's: a
# customer's erase leaves them. Vehicle facts (plate, brand, results) stay by design: a
# car's history survives its owner (issue 19).
REGISTRY: dict[str, dict[str, Rule]] = {
    # FAB's own tables: roles, permissions and groups name no person.
    "ab_api_key": dict.fromkeys(("uuid", "name", "key_hash", "lookup_hash", "key_prefix"), N)
    | {"scopes": N},
    "ab_group": {"name": N, "label": N, "description": N},
    "ab_permission": {"name": N},
    "ab_role": {"name": N},
    "ab_view_menu": {"name": N},
    # A login's names and address are his; the password hash is emptied so none logs in.
    "ab_user": {"first_name": T, "last_name": T, "username": E, "email": E, "password": X},
    "ab_register_user": {
        "first_name": T,
        "last_name": T,
        "username": E,
        "email": E,
        "password": X,
        "registration_hash": X,
    },
    # A mailed link's address; his links are deleted outright (a link to nobody is no use).
    "access_token": {"purpose": N, "token_hash": N, "recipient": E},
    "api_key": {"name": N, "key_hash": N, "prefix": N},
    "apk_digest": {"week": N},
    # The entry stays (who changed what when); his values in it are walked away. An Owner's
    # own actions carry his login name as the actor.
    "audit_log": {"actor_name": W, "action": N, "table_name": N, "changes": W},
    "batch_job": {
        "filename": N,  # the garage's file name
        "uploaded_by": N,  # staff
        "state": N,
        "claimed_by": N,  # a worker
        "counts": N,
        "error": W,  # a worker's failure may quote a cell of the list
    },
    "batch_row": {
        "plate": N,
        "shown_plate": N,
        "email": E,
        "email_key": E,
        "values": W,  # the list's raw cells
        "first_name": X,
        "infix": X,
        "last_name": X,
        "street": X,
        "house_number": X,
        "postcode": X,
        "city": X,
        "phone": X,
        "customer_number": X,
        "brand": N,
        "model": N,
        "plan": N,
        "outcome": N,
        "reason": W,  # a refusal may quote the cell
        "reason_code": N,
        "reason_params": W,
    },
    "calendar_feed": {"token_hash": N},
    "checkpoint": {"group_name": N, "name": N},
    "contact_proposal": {"week": N, "reason": N, "decision": N, "advice": N},  # car facts
    "customer": {
        "first_name": X,
        "infix": X,
        "last_name": T,
        "email": E,
        "street": X,
        "house_number": X,
        "postcode": X,
        "city": X,
        "phone": X,
        "customer_number": X,  # the garage's key for him in its own system
    },
    # The counter's search copy of customer's name and e-mail (lower case): not erased by
    # rule, it follows its customer (services/search_copy copies the erase's change in its
    # transaction), so it ends as customer's columns do.
    "customer_search": {"last_name": T, "email": E},
    "passport_search": {"plate": N},
    # Support's reason is its own words about the request (never his values, by the form).
    "erasure": {"scope": N, "reason": N, "erased_by": N},
    # Ids and states only; its ZIP (everything about him) is deleted when he is erased
    # (data_exports.forget_exports_about), its file named by the id.
    "data_export": {"scope": N, "state": N, "file_path": N},
    "export_file": {
        "user_name": W,  # an Owner's login name when he exported
        "list_name": N,
        "endpoint": N,
        "arguments": W,  # a screen's query string may hold a searched address
        "filter_text": W,
        "fmt": N,
        "locale": N,
        "state": N,
        "error": N,
    },
    # A company and its shared mailbox; a garage's business details are not a person's.
    "fleet_account": {"name": N, "email": N},
    "garage": dict.fromkeys(
        ("name", "email", "street", "house_number", "postcode", "city", "phone"), N
    )
    | {"logo_mimetype": N},
    "idempotency_key": {"key": N, "fingerprint": N, "state": N, "headers": N},
    "inspection_form": {
        "kind": N,
        "plate": N,
        "inspector": N,  # staff
        "content": W,  # its customer block (name, e-mail, phone, address)
        "created_by": N,
    },
    "inspection_form_version": {"saved_by": N, "changes": W, "content": W},
    "inspection_invitation": {"note": W},  # free text with the customer's wishes
    "invoice": {"invoice_number": N, "plate": N, "customer_number": X, "kind": N},
    "outbox_message": {
        "recipient": E,
        "kind": N,
        "subject": W,
        "params": W,
        "state": N,
        "last_error": W,  # a mail server's refusal quotes the address
    },
    "passport": dict.fromkeys(("plate", "brand", "model", "fuel", "state", "created_via"), N),
    "passport_claim": {"role": N},
    # The garage's own words for the work; they may name the customer ("belt terug").
    "performed_work": {"description": W, "added_by": N},
    "recall": {"plate": N, "reference": N, "status": N},
    # The public vehicle register (RDW): facts about cars, nobody's name.
    "recall_detail": {"reference": N, "defect": N, "remedy": N, "consequences": N},
    "register_fuel": {"plate": N, "fuel": N},
    "register_import": dict.fromkeys(
        ("dataset", "file_name", "path", "state", "reason", "reason_params", "started_by"), N
    ),
    "register_plate_asked": {"plate": N},
    "register_refresh": {"state": N, "reason": N, "reason_params": N},
    "register_vehicle": dict.fromkeys(
        ("plate", "kind", "brand", "trade_name", "colour", "body"), N
    ),
    "task": {"kind": N, "created_by": N, "state": N, "selection": W, "error": N},
    "task_row": {
        "plate": N,
        "outcome": N,
        "reason": W,
        "reason_params": W,
        "previous_state": N,
    },
    "transfer": {
        "kind": N,
        "state": N,
        "to_email": E,
        "to_name": X,
        "previous_state": N,
        "created_by": W,  # an Owner who started the transfer himself
    },
    # A reply may echo the payload; an error (a refused connection, a TLS failure) may
    # quote the reply.
    "webhook_delivery": {"state": N, "response_body": W, "error": W},
    "webhook_endpoint": {
        "url": N,
        "events": N,
        "secret_encrypted": N,
        "previous_secret_encrypted": N,
        "disabled_reason": N,
        "created_by": N,
    },
    "webhook_event": {"message_id": N, "type": N, "data": W},  # the payload names him
    "weekly_run": {"week": N},
}

# JSON keys whose values are a person's contact details wherever they occur (an audit
# entry's customer fields, a form's customer block, a webhook's customer object).
PERSONAL_KEYS = frozenset(
    {
        "first_name",
        "infix",
        "last_name",
        "email",
        "street",
        "house_number",
        "postcode",
        "city",
        "phone",
        "customer_number",
        "address",
        "to_email",
        "to_name",
        "recipient",
        "username",
        "owner_name",
        "owner_email",
        "driver_name",
        "driver_email",
    }
)


# The keys of an object that say whom it is about.
IDENTITY_KEYS = PERSONAL_KEYS | {"name", "full_name"}


def is_text(column) -> bool:
    """A column that can hold a person's words: String, Text, JSON, or one of ours."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance if hasattr(kind, "impl_instance") else kind.impl
    return isinstance(kind, (String, Text, JSON))


def unclassified(tables: Iterable) -> list[str]:
    """``table.column`` of every text column the registry does not classify."""
    return [
        f"{table.name}.{column.name}"
        for table in tables
        for column in table.columns
        if is_text(column) and column.name not in REGISTRY.get(table.name, {})
    ]


def personal_columns(table_name: str, rule: Rule | None = None) -> list[str]:
    return [
        name
        for name, kind in REGISTRY.get(table_name, {}).items()
        if kind != Rule.NOT_PERSONAL and (rule is None or kind == rule)
    ]


def erased_email(row_id) -> str:
    return f"{ERASED}-{row_id}@{ERASED_DOMAIN}"


class Traces:
    """His values as they are searched for in free text and JSON: lowercased, the short
    ones left out (a house number "12" or an infix "van" is not his alone)."""

    MINIMUM = 4

    def __init__(self, values: Iterable[str | None]):
        self.values = sorted(
            {v.strip().lower() for v in values if v and len(v.strip()) >= self.MINIMUM},
            key=len,
            reverse=True,
        )
        # Whole values only: "Lindelaan 7" is not in "Lindelaan 71", "1001" not in "10012".
        self._pattern = (
            re.compile(
                "|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in self.values), re.IGNORECASE
            )
            if self.values
            else None
        )

    def __bool__(self) -> bool:
        return bool(self.values)

    def found_in(self, text: str) -> bool:
        return bool(self._pattern and self._pattern.search(text))


def walk(value, traces: Traces, *, by_key: bool):
    """``value`` with his values replaced by "verwijderd": every string that holds one of
    ``traces``, and (``by_key``: a record about him) every value under a personal key."""
    if isinstance(value, dict):
        # An object whose contact fields name him (his e-mail, name or phone) is his: its
        # street and postcode go by their keys too, which alone are not his traces. Free
        # text that mentions him ("via Karel") does not make another's object his.
        his = by_key or any(
            key in IDENTITY_KEYS and isinstance(item, str) and traces.found_in(item)
            for key, item in value.items()
        )
        return {
            key: (
                _erased_leaf(item)
                if his and key in PERSONAL_KEYS
                else walk(item, traces, by_key=by_key)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [walk(item, traces, by_key=by_key) for item in value]
    if isinstance(value, str) and traces.found_in(value):
        return ERASED
    return value


def _erased_leaf(value):
    """A personal key's value, erased in its shape: an old → new pair stays a pair."""
    if isinstance(value, list):
        return [_erased_leaf(item) for item in value]
    if isinstance(value, dict):
        return {key: _erased_leaf(item) for key, item in value.items()}
    if value is None or value == "":
        return value
    return ERASED
