"""Issue 14 (use): the Dutch catalog speaks to its reader one way and names the product
one way (R-X-2)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).parent.parent / "admin_app/translations/nl/LC_MESSAGES/messages.po"


def _dutch_texts() -> list[str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    texts = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        texts.extend(text for text in strings if text)
    return texts


def test_issue14_dutch_says_u_never_je():
    """R-X-2: screens and customer mails say "u"; the garage e-mail change mail said "Had je
    deze wijziging niet verwacht?"."""
    informal = re.compile(r"\b(je|jij|jou|jouw|jullie)\b", re.IGNORECASE)
    assert [text for text in _dutch_texts() if informal.search(text)] == []


def test_issue14_dutch_names_the_product_autopaspoort():
    """R-X-2: the activation mail for a customer who has a login said "digitaal
    voertuigpaspoort", the other one "digitaal AutoPaspoort"."""
    assert [text for text in _dutch_texts() if "voertuigpaspoort" in text.lower()] == []
