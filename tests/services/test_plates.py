"""R-PP-2: plates are normalized, validated against side-codes 1–14 and shown with dashes."""

import pytest

from admin_app.domain.errors import InvalidInput
from admin_app.domain.plates import display_plate, normalize_plate, side_code, validate_plate

# One example per side-code, in the notation RDW prints.
SIDE_CODE_EXAMPLES = [
    (1, "AB-12-34"),
    (2, "12-34-AB"),
    (3, "12-AB-34"),
    (4, "AB-12-CD"),
    (5, "AB-CD-12"),
    (6, "12-AB-CD"),
    (7, "12-ABC-3"),
    (8, "1-ABC-23"),
    (9, "AB-123-C"),
    (10, "A-123-BC"),
    (11, "ABC-12-D"),
    (12, "A-12-BCD"),
    (13, "1-AB-234"),
    (14, "123-AB-4"),
]


@pytest.mark.parametrize("number, shown", SIDE_CODE_EXAMPLES)
def test_r_pp_2_every_side_code_is_recognised_and_displayed(number, shown):
    plate = normalize_plate(shown)
    assert side_code(plate) == number
    assert display_plate(plate) == shown
    assert validate_plate(shown.lower().replace("-", " ")) == plate


@pytest.mark.parametrize("raw", ["12abc3", "12-ABC-3", " 12 abc 3 ", "12.ABC.3", "12-abc-3"])
def test_r_pp_2_any_notation_normalizes_to_the_same_plate(raw):
    assert normalize_plate(raw) == "12ABC3"
    assert display_plate(raw) == "12-ABC-3"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("AB-12", "6"),
        ("1234567", "6"),
        ("AA-AA-AA", "side-code"),
        ("", "Fill in"),
        ("123456", "side-code"),
    ],
)
def test_r_pp_2_invalid_plates_are_refused_with_the_reason(raw, reason, app):
    with app.test_request_context("/?_l_=en"):
        with pytest.raises(InvalidInput) as refused:
            validate_plate(raw)
        assert reason in str(refused.value.message)
        assert refused.value.errors["plate"]


def test_r_pp_2_refusal_reads_in_dutch_by_default(app):
    with app.test_request_context("/"):
        with pytest.raises(InvalidInput) as refused:
            validate_plate("AA-AA-AA")
        assert "geen Nederlands kenteken" in str(refused.value.message)
