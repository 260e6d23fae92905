"""Issue 18, recalls where people look: a garage's passports whose car has an open
recall, to call their owners in; the open recalls themselves are shown by one partial,
``console/open_recalls.html``, on every screen of a car (profile, inspection form, fleet
dashboard, "Mijn voertuigen")."""

from __future__ import annotations

from flask import url_for
from flask_appbuilder.models.sqla.filters import BaseFilter, FilterEqual, FilterNotEqual
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from admin_app.models import Passport
from admin_app.models.passports import STATE_LABELS
from admin_app.services import recalls, vehicle_values
from admin_app.services.labels import PASSPORT_LABELS
from admin_app.services.list_exports import RECALL_EXPORT
from admin_app.views.base import ConsoleModelView, PageInterface
from admin_app.views.exports import ExportableList
from admin_app.views.passports import FilterPlateNameOrEmail, state_badge
from admin_app.views.register_values import list_register_values
from admin_app.views.widgets import StackedListWidget


class FilterOpenRecall(BaseFilter):
    """The list's base filter: live passports whose car has an open recall."""

    name = _l("Open recall")
    arg_name = "recall"

    def apply(self, query, value):
        return recalls.recalled(query)


class FilterBrandAsCounted(BaseFilter):
    """The brand as the list shows it: typed, else the register's (issue 18), in any
    case — "volkswagen" finds the Golfs nobody typed a brand for."""

    name = _l("Equal to")
    arg_name = "brand"

    def apply(self, query, value):
        text = (value or "").strip().lower()
        return query.filter(vehicle_values.brand_sql() == text) if text else query


class RecallListWidget(StackedListWidget):
    """Cards on a phone, no column of buttons: the plate links to the profile."""

    template = "console/recall_list_widget.html"


def _shown_as_is(value):
    """A cell this view built itself (escaped there)."""
    return value


class RecallListView(ExportableList, ConsoleModelView):
    """ "Terugroepacties": the passports in scope with an open recall, each with what is
    wrong and what the garage does, linked to the profile."""

    route_base = "/recalls"
    # Reading it is reading passports: whoever may list the passports in his scope may
    # list these (the scope narrows both alike).
    class_permission_name = "Passport"
    include_route_methods = {"list", "export"}
    datamodel = PageInterface(Passport)
    base_filters = [["plate", FilterOpenRecall, None]]
    list_template = "console/list_export.html"
    list_widget = RecallListWidget
    export_list = RECALL_EXPORT
    export_filter_words = {"state": STATE_LABELS}
    list_title = _l("Open recalls")
    list_columns = ["plate_label", "brand", "model", "owner_name", "open_recalls", "state"]
    label_columns = {**PASSPORT_LABELS, "open_recalls": _l("Open recall")}
    search_columns = ["plate", "brand", "state"]
    search_filters = {
        "plate": [FilterPlateNameOrEmail],
        "brand": [FilterBrandAsCounted],
        "state": [FilterEqual, FilterNotEqual],
    }
    order_columns = ["brand", "model", "state"]
    base_order = ("plate", "asc")
    formatters_columns = {
        "state": state_badge,
        "plate_label": _shown_as_is,
        "open_recalls": _shown_as_is,
    }

    def _get_list_widget(self, filters, **kwargs):
        widgets = super()._get_list_widget(filters, **kwargs)
        arguments = widgets["list"].template_args
        # Brand and model as they count (issue 18); it reads FAB's rows first.
        list_register_values(self.datamodel.session, arguments)
        pks = arguments["pks"]
        found = recalls.open_recalls_by_passport(self.datamodel.session, pks)
        rows = list(arguments["value_columns"])
        for pk, row in zip(pks, rows, strict=True):
            row["plate_label"] = Markup('<a href="{}">{}</a>').format(
                url_for("PassportView.show", pk=pk), row["plate_label"]
            )
            row["open_recalls"] = recall_cell(found.get(pk, []))
        arguments["value_columns"] = rows
        return widgets


def recall_cell(open_recalls) -> Markup:
    """A car's open recalls in one cell: what is wrong, then its RDW reference."""
    cell = Markup('<span class="open-recall">{}<br><small class="text-muted">{}: {}</small></span>')
    reference = str(_l("RDW reference"))
    return Markup("<br>").join(
        cell.format(recall.description or "—", reference, recall.reference)
        for recall in open_recalls
    )
