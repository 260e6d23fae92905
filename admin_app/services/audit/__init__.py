"""The audit log (R-SEC-2): every insert, update and delete, in the same transaction.

- `actors`: who acts (`Actor`), kept on the session (`set_actor`, `get_actor`).
- `writing`: the one writer of audit rows — the ORM's flush listener (`record_flush`,
  installed by `install`), `record_bulk` for bulk writes that bypass the ORM, and
  `record_select` when the changed rows never pass through Python (the importer's
  upserts, the weekly next service dates, bounce marks). Start there to write rows.
- `labels` and `reading`: the log as a person reads it (issue 14, `describe_entries`).

Callers import from here: ``from admin_app.services.audit import Actor, record_bulk``.
"""

from __future__ import annotations

from admin_app.services.audit.actors import (
    API_KEY_ACTOR,
    SYSTEM_ACTOR,
    Actor,
    get_actor,
    set_actor,
)
from admin_app.services.audit.labels import (
    BOOKKEEPING,
    REFERENCES,
    SENTENCES,
    field_labels,
    value_labels,
)
from admin_app.services.audit.reading import (
    RECORD_MODELS,
    EntryDescription,
    FieldChange,
    actor_name,
    actor_names,
    describe_entries,
)
from admin_app.services.audit.writing import (
    AUDITED,
    NEVER_LOGGED,
    NOT_WORTH_LOGGING,
    install,
    is_secret,
    record_bulk,
    record_flush,
    record_select,
)

__all__ = [
    "API_KEY_ACTOR",
    "AUDITED",
    "BOOKKEEPING",
    "NEVER_LOGGED",
    "NOT_WORTH_LOGGING",
    "RECORD_MODELS",
    "REFERENCES",
    "SENTENCES",
    "SYSTEM_ACTOR",
    "Actor",
    "EntryDescription",
    "FieldChange",
    "actor_name",
    "actor_names",
    "describe_entries",
    "field_labels",
    "get_actor",
    "install",
    "is_secret",
    "record_bulk",
    "record_flush",
    "record_select",
    "set_actor",
    "value_labels",
]
