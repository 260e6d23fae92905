"""R-PP-5: e-mail addresses are checked (no network) and normalized."""

import pytest

from admin_app.services.emails import email_key, normalize_email
from admin_app.services.errors import InvalidInput


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("  Jan.Jansen@GMAIL.com ", "Jan.Jansen@gmail.com"),
        ("piet@xs4all.nl", "piet@xs4all.nl"),
        ("INFO@GarageDeVries.NL", "INFO@garagedevries.nl"),
    ],
)
def test_r_pp_5_addresses_are_trimmed_and_the_domain_lower_cased(raw, normalized, app):
    with app.test_request_context("/"):
        assert normalize_email(raw) == normalized
        assert email_key(normalize_email(raw)) == normalized.lower()


@pytest.mark.parametrize("raw", ["jan@@x.nl", "piet@", "a b@c.nl", "", "   ", "geen-at.nl"])
def test_r_pp_5_invalid_addresses_are_refused_in_dutch(raw, app):
    with app.test_request_context("/"):
        with pytest.raises(InvalidInput) as refused:
            normalize_email(raw)
        message = str(refused.value.message)
        assert "e-mailadres" in message
