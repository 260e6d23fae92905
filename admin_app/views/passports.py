from __future__ import annotations

from flask_appbuilder.models.sqla.filters import BaseFilter, FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from admin_app.models import AuditLog, Customer, Passport
from admin_app.services.plates import normalize_plate
from admin_app.views.base import ConsoleModelView


class FilterPlateNameOrEmail(BaseFilter):
    """One search box for the counter: a plate in any notation, a name or an e-mail."""

    name = _l("Plate, name or e-mail")
    arg_name = "pne"

    def apply(self, query, value):
        text = (value or "").strip()
        if not text:
            return query
        plate = normalize_plate(text)
        like = f"%{text.lower()}%"
        owners = select(Customer.id).where(
            or_(func.lower(Customer.last_name).like(like), func.lower(Customer.email).like(like))
        )
        conditions = [Passport.owner_id.in_(owners)]
        if plate:
            conditions.append(Passport.plate.like(f"{plate}%"))
        return query.filter(or_(*conditions))


class PassportView(ConsoleModelView):
    route_base = "/passports"
    class_permission_name = "Passport"
    # Creating, editing and archiving come with their rules (R-PP-1…8).
    include_route_methods = {"list", "show", "action", "action_post"}
    datamodel = SQLAInterface(Passport)
    list_title = _l("Passports")
    show_title = _l("Passport")
    list_columns = [
        "plate_label",
        "brand",
        "model",
        "owner_name",
        "owner_email",
        "state_label",
        "fleet_account",
        "garage",
    ]
    show_columns = [
        "plate_label",
        "brand",
        "model",
        "fuel",
        "first_registration",
        "apk_expiry",
        "next_service",
        "mobility_renewal",
        "odometer",
        "owner_name",
        "owner_email",
        "driver",
        "fleet_account",
        "stock_car",
        "state_label",
        "created_via_label",
        "garage",
        "created_at",
    ]
    label_columns = {
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
    search_columns = ["plate", "state"]
    search_filters = {"plate": [FilterPlateNameOrEmail], "state": [FilterEqual]}
    base_order = ("id", "desc")
    show_template = "console/passport_show.html"

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["history"] = passport_history(self.datamodel.session, item)
        return widgets


def passport_history(session, passport: Passport) -> list[AuditLog]:
    """The passport's audit trail, with its owner's and driver's profile changes."""
    customer_ids = [cid for cid in (passport.owner_id, passport.driver_id) if cid]
    return session.scalars(
        select(AuditLog)
        .where(
            or_(
                (AuditLog.table_name == "passport") & (AuditLog.record_id == passport.id),
                (AuditLog.table_name == "customer") & (AuditLog.record_id.in_(customer_ids)),
            )
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(100)
    ).all()


class MyVehiclesView(ConsoleModelView):
    """The owner's "my vehicles": the scope leaves only the cars he owns or drives."""

    route_base = "/my-vehicles"
    class_permission_name = "MyVehicles"
    include_route_methods = {"list", "show", "action", "action_post"}
    datamodel = SQLAInterface(Passport)
    list_title = _l("My vehicles")
    show_title = _l("Vehicle")
    list_columns = ["plate_label", "brand", "model", "apk_expiry", "next_service", "garage"]
    show_columns = [
        "plate_label",
        "brand",
        "model",
        "fuel",
        "first_registration",
        "apk_expiry",
        "next_service",
        "mobility_renewal",
        "owner_name",
        "garage",
    ]
    label_columns = PassportView.label_columns
    search_columns = ["plate"]
    base_order = ("id", "desc")
