"""Invoices, next-visit prediction and the weekly contact proposals (R-CP-1…4).

The week of a proposal is the ISO week of the predicted visit. Its list is made on the
Monday 06:00 (Europe/Amsterdam) of the week before, worked on by the garage that week, and
closes on the Sunday 15:00 before the visits' week: then the "yes" invitations go out, so
each arrives before its visit. Everything that runs over all garages is set-based SQL.

One module per step: ``weeks`` (when a list is made and closes), ``invoices`` (what the
garage sends), ``prediction`` (the next visit), ``weekly_list`` (making the proposals),
``deciding`` (yes/no/never, closing the week), ``invitations`` (the mail and its
opt-out) and ``conversion`` (R-CP-4).
"""

from admin_app.domain.clock import AMSTERDAM
from admin_app.services.proposals.conversion import WeekConversion, conversion, conversion_xlsx
from admin_app.services.proposals.deciding import close_due_weeks, decide
from admin_app.services.proposals.invitations import (
    OPT_OUT,
    OPT_OUT_TTL,
    customer_for_opt_out,
    invitation_text,
    opt_out,
)
from admin_app.services.proposals.invoices import create_invoice, import_invoices
from admin_app.services.proposals.prediction import (
    predict_next_service,
    predicted_visit,
    update_next_service,
)
from admin_app.services.proposals.weekly_list import (
    make_proposals,
    propose_advice_followup,
    weekly_run,
)
from admin_app.services.proposals.weeks import (
    deadline,
    is_closed,
    iso_week,
    open_week,
    week_monday,
)

# What the callers use (``from admin_app.services import proposals``). AMSTERDAM is
# domain.clock's; the screens still read the deadline's zone through this name.
__all__ = [
    "AMSTERDAM",
    "OPT_OUT",
    "OPT_OUT_TTL",
    "WeekConversion",
    "close_due_weeks",
    "conversion",
    "conversion_xlsx",
    "create_invoice",
    "customer_for_opt_out",
    "deadline",
    "decide",
    "import_invoices",
    "invitation_text",
    "is_closed",
    "iso_week",
    "make_proposals",
    "open_week",
    "opt_out",
    "predict_next_service",
    "predicted_visit",
    "propose_advice_followup",
    "update_next_service",
    "week_monday",
    "weekly_run",
]
