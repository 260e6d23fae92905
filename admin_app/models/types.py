"""Column types that normalize on the way in, so filters work in any notation."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from admin_app.domain.plates import normalize_plate


class PlateType(TypeDecorator):
    """A licence plate stored normalized (`12-abc-3` → `12ABC3`).

    Normalizing in `process_bind_param` means every comparison — FAB's `eq`/`sw`/`ct`
    filters, the HTML search, the API — accepts a plate in any notation.
    """

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        # LIKE patterns arrive with their % wildcards; keep those, normalize the rest.
        return "%".join(normalize_plate(part) for part in str(value).split("%"))

    def process_result_value(self, value, dialect):
        return value
