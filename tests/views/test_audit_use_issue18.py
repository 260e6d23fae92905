"""Issue 18, the audit log as Admin reads it: Admin's recall upload (now writing into the
register's recall tables) is logged in words, not as its field names."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_app.models import AuditLog
from tests.conftest import DB_KIND
from tests.views.test_register_views_issue18 import _text

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="screens only")

RECALLS = Path(__file__).resolve().parents[1] / "data" / "recalls-voorbeeld.csv"


def test_issue18_the_recall_upload_is_in_the_audit_log_in_words(world, login_as):
    admin = login_as("admin")
    answer = admin.post(
        "/inspections/recalls",
        {"file": (io.BytesIO(RECALLS.read_bytes()), "terugroep.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    entry = world.session.scalar(
        select(AuditLog).where(AuditLog.table_name == "recall").order_by(AuditLog.id.desc())
    )
    shown = _text(admin.get(f"/audit-log/show/{entry.id}").get_data(as_text=True))
    listed = _text(admin.get("/audit-log/list/").get_data(as_text=True))
    for text in (shown, listed):
        assert "Recallgegevens geïmporteerd" in text and "terugroep.csv" in text
        assert "Bestand" in text and "Nieuw" in text and "Ongewijzigd" in text
        for raw in ("created", "updated", "unchanged", "refused", "file:"):
            assert raw not in text, raw
