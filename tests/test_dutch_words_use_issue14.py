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


def test_issue14_upload_counts_use_one_word_for_updated():
    """R-X-2: the customer list and invoice uploads count "bijgewerkt"; the recall import
    said "gewijzigd" for the same thing."""
    counts = [t for t in _dutch_texts() if "nieuw" in t and "ongewijzigd" in t]
    assert counts
    assert [t for t in counts if re.search(r"\)s gewijzigd", t)] == []


def test_issue14_dutch_says_autopaspoort_not_paspoort():
    """R-X-2: the product is an AutoPaspoort; the recall page said "hun eigen paspoorten"."""
    bare = re.compile(r"(?<![Aa]uto)(?<!-)\bpaspoort(en)?\b")
    assert [t for t in _dutch_texts() if bare.search(t)] == []
