"""The garage's own settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from admin_app.models import Garage
from admin_app.services.errors import InvalidInput

LOGO_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 512 * 1024


def store_logo(garage: Garage, upload) -> None:
    """Keep a PNG or JPEG logo (checked by its bytes, not its name) on the garage."""
    data = upload.read(MAX_LOGO_BYTES + 1)
    if not data:
        return
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidInput(_l("The logo may be at most 512 KB."), field="logo_upload")
    mimetype = next((kind for magic, kind in LOGO_TYPES.items() if data.startswith(magic)), None)
    if mimetype is None:
        raise InvalidInput(_l("The logo must be a PNG or JPEG image."), field="logo_upload")
    garage.logo = data
    garage.logo_mimetype = mimetype
