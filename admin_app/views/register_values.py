"""A car's values on a screen as they count (services/vehicle_values.py, issue 18): typed,
else the register's, each with whence it came where the garage reads them.
"""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from admin_app.models import Passport
from admin_app.services import vehicle_values
from admin_app.views.formatting import display_value


def show_register_values(session, show_widget, passport: Passport, *, marked=True) -> None:
    """The car's values as they count (services/vehicle_values.py, issue 18) in place of
    the passport's typed columns; ``marked``, each with whence it came (the garage's
    profile). An owner or fleet manager typed none of them: he reads the values only."""
    car = vehicle_values.values_of_one(session, passport)
    args = show_widget.template_args
    columns, values = args["include_columns"], list(args["value_columns"])
    for name, value in car.fields().items():
        if name in columns:
            values[columns.index(name)] = (
                value_with_source(value, car.register_checked_on, later_counts=name == "apk_expiry")
                if marked
                else display_value(value.value)
            )
    args["value_columns"] = values
    args["formatters_columns"] = {
        **args["formatters_columns"],
        **{name: _as_marked for name in vehicle_values.FIELDS},
    }


def list_register_values(session, args) -> None:
    """The list's vehicle values (brand, model, APK expiry, … whichever it shows) as they
    count (typed, else the register's): one register query for the page (issue 18)."""
    pks = args["pks"]
    shown = list(args["value_columns"])  # FAB's generator: read before another query runs
    # Columns, not entities: loading the page's passports again refreshed each one on its
    # own (a statement per row).
    typed = session.execute(
        select(Passport.id, Passport.plate, *vehicle_values.typed_columns()).where(
            Passport.id.in_(pks)
        )
    ).all()
    values = vehicle_values.values_of(session, typed)
    rows = []
    for pk, row in zip(pks, shown, strict=True):
        car = values.get(pk)
        if car is not None:
            row = {
                **row,
                **{name: value.value for name, value in car.fields().items() if name in row},
            }
        rows.append(row)
    args["value_columns"] = rows


def _as_marked(value):
    return value if isinstance(value, Markup) else display_value(value)


SOURCE_WORDS = '{} <span class="text-muted value-source {}">({})</span>'


def value_with_source(value: vehicle_values.Value, checked_on, *, later_counts=False) -> Markup:
    """One value and its source in words: "Golf (RDW, gezien op 5 december 2026)", or a
    typed one, with the register's beside it when that differs ("RDW: 14-03-2027").
    ``later_counts`` (the APK expiry): two dates that differ say which one counts."""
    if value.source is None:
        return Markup("—")
    words = _source_words(value, checked_on)
    if later_counts and value.differs:
        # Two dates side by side, one in orange: without this a garage guessed which one
        # the reminders follow (the later, vehicle_values._value).
        words += Markup('<br><small class="text-muted apk-counts">{}</small>').format(
            _l("The later date counts for APK reminders and contact proposals.")
        )
    return words


def _source_words(value: vehicle_values.Value, checked_on) -> Markup:
    shown = escape(display_value(value.value))
    if value.source == vehicle_values.REGISTER:
        seen = _l("RDW, seen on %(date)s", date=format_date(checked_on, "long"))
        words = Markup(SOURCE_WORDS).format(shown, "source-register", seen)
        if value.differs:  # an APK date typed earlier than the register's: it lost
            typed = _l("typed in: %(value)s", value=display_value(value.typed))
            words += Markup(' <span class="text-muted typed-differs">{}</span>').format(typed)
        return words
    words = Markup(SOURCE_WORDS).format(shown, "source-typed", _l("typed in"))
    if value.differs:
        other = _l("RDW: %(value)s", value=display_value(value.register))
        words += Markup(' <span class="label label-warning register-differs">{}</span>').format(
            other
        )
    return words
