"""A customer's data export (issue 19, R-DR-1): one ZIP of what the console holds about him.

Who may ask, and how wide the export looks:
- a garage, for its own customer: that one customer row and what hangs from it at that
  garage (GARAGE_CUSTOMER);
- an Owner, for himself: every customer row with his login's e-mail, at every garage
  (PERSON);
- Support: either, from any customer's page.

The request records a DataExport (ids only) and queues ``jobs.data_exports``; the worker
gathers the sections below without a request scope (it filters by the subject's ids
itself), and streams them into a ZIP on disk under DATA_EXPORT_FOLDER: ``overzicht.html``
(a readable Dutch summary, times in Amsterdam, words for states), ``gegevens.json`` (the
data) and the inspection forms' PDFs. Only the requester downloads it, for LIFETIME; then
``delete_expired_exports`` removes the file. Mails are listed by subject, date and state:
their parameters (which name access links and tokens) never enter the ZIP.

One module per step: ``asking``, ``subject`` (whom it is about), ``contents`` (what goes
in), ``building`` (the worker writes the ZIP), ``downloading`` and ``purging``.
"""

from __future__ import annotations

from admin_app.services.data_exports.asking import (
    STALE_AFTER,
    may_export_person,
    open_export,
    request_customer_export,
    request_own_export,
)
from admin_app.services.data_exports.building import (
    claim,
    fail,
    fail_lost_builds,
    finish,
    set_progress,
    write_export,
)
from admin_app.services.data_exports.downloading import (
    NOT_READY,
    download,
    file_name,
    get_own_export,
)
from admin_app.services.data_exports.purging import delete_expired_exports, forget_exports_about
from admin_app.services.data_exports.subject import subject_of

# What the callers use (``from admin_app.services import data_exports``).
__all__ = [
    "NOT_READY",
    "STALE_AFTER",
    "claim",
    "delete_expired_exports",
    "download",
    "fail",
    "fail_lost_builds",
    "file_name",
    "finish",
    "forget_exports_about",
    "get_own_export",
    "may_export_person",
    "open_export",
    "request_customer_export",
    "request_own_export",
    "set_progress",
    "subject_of",
    "write_export",
]
