"""Search filters shared by screens and the API: e-mail addresses compare without case,
as customers are identified (and as the lower(email) indexes are built)."""

from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext
from sqlalchemy import func, select

from admin_app.models import Customer, Passport
from admin_app.scope import current_scope
from admin_app.services.search_copy import customers_matching, plates_like

# Typed search text goes into LIKE patterns as text: its "%" and "_" are those characters,
# not wildcards (a "%" listed every row and, on PostgreSQL, read around the trigram index).
LIKE_ESCAPE = "/"


def like_text(value) -> str:
    """``value`` stripped and lower-cased, for a pattern with ``escape=LIKE_ESCAPE``."""
    text = str(value or "").strip().lower()
    for character in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(character, LIKE_ESCAPE + character)
    return text


class _Email(BaseFilter):
    """E-mail filters compare case-insensitively, as customers are identified."""

    def _among(self, customers):
        """The filtered rows whose customer is in ``customers`` (a SELECT of ids)."""
        return Customer.id.in_(customers)

    def _matching(self, condition):
        return condition

    def _equal(self, value):
        return self._matching(func.lower(Customer.email) == str(value).strip().lower())

    def _like(self, pattern: str):
        # By the search copy's trigram index (services/search_copy).
        return self._among(customers_matching(pattern, LIKE_ESCAPE, fields=("email",)))

    def _contains(self, value):
        return self._like(f"%{like_text(value)}%")


class _OwnerEmail(_Email):
    def _among(self, customers):
        return Passport.owner_id.in_(customers)

    def _matching(self, condition):
        return self._among(select(Customer.id).where(condition).correlate(None))


class FilterOwnerEmailEqual(_OwnerEmail):
    name = lazy_gettext("Equal to")
    arg_name = "eq"

    def apply(self, query, value):
        return query.filter(self._equal(value))


class FilterOwnerEmailContains(_OwnerEmail):
    name = lazy_gettext("Contains")
    arg_name = "ct"

    def apply(self, query, value):
        return query.filter(self._contains(value))


class FilterEmailEqual(_Email):
    name = lazy_gettext("Equal to")
    arg_name = "eq"

    def apply(self, query, value):
        return query.filter(self._equal(value))


class FilterEmailStartsWith(_Email):
    name = lazy_gettext("Starts with")
    arg_name = "sw"

    def apply(self, query, value):
        return query.filter(self._like(f"{like_text(value)}%"))


class FilterNameStartsWith(BaseFilter):
    """A last name starting with the text, without case."""

    name = lazy_gettext("Starts with")
    arg_name = "sw"

    def apply(self, query, value):
        text = like_text(value)
        if not text:
            return query
        prefix = f"{text}%"
        scope = current_scope()
        if scope is not None and scope.sees_everything:
            # Across every garage (Support, Admin): the search copy's trigram index. On
            # customer's own columns it read all 1.5M customers of the platform-scale
            # seed (190 ms for a count; 52 ms through the copy).
            names = customers_matching(prefix, LIKE_ESCAPE, fields=("last_name",))
            return query.filter(Customer.id.in_(names))
        # A garage's own range on its (garage, lower(last_name)) index: under a millisecond,
        # where the copy's platform-wide trigrams took 52 ms for the same garage.
        return query.filter(func.lower(Customer.last_name).like(prefix, escape=LIKE_ESCAPE))


class _Plate(BaseFilter):
    """FAB's filter of the same name on a plate, by the search copy's trigram index
    (services/search_copy): FAB's own ILIKE on passport.plate reads every car."""

    before, after = "%", "%"  # the pattern's wildcards around the value

    def apply(self, query, value):
        pattern = f"{self.before}{value}{self.after}"
        return query.filter(Passport.id.in_(plates_like(pattern)))


class FilterPlateStartsWith(_Plate):
    name = lazy_gettext("Starts with")
    arg_name = "sw"
    before = ""


class FilterPlateContains(_Plate):
    name = lazy_gettext("Contains")
    arg_name = "ct"


class FilterPeople(BaseFilter):
    """Only logins of people: an API key's service login (issue 16) is no colleague or
    user to list, count or disable; it goes with its key."""

    name = lazy_gettext("People")
    arg_name = "people"

    def apply(self, query, value):
        from admin_app.models import ConsoleUser
        from admin_app.services.api_keys import service_user_ids

        return query.filter(ConsoleUser.id.not_in(service_user_ids()))
