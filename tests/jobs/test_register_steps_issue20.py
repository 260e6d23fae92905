"""Issue 20: the register import's steps only write and its job (jobs/register) commits
between them. What must stay: the rows arrive a chunk and a commit at a time, and the
page polling an import sees how far it has come while it runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

import admin_app
from admin_app.jobs.register import import_now
from admin_app.models import RegisterImport
from admin_app.services import register_import
from admin_app.services.audit import Actor

FUEL = Path(admin_app.__file__).parent / "demo_data" / "register" / "rdw-brandstof-voorbeeld.csv"


def test_issue20_an_import_shows_its_progress_committed_chunk_by_chunk(world, monkeypatch):
    """Issue 18's contract through issue 20's job: before each next chunk is read, another
    connection sees the rows so far — on SQLite the chunk's own commit, on PostgreSQL the
    COPY's progress committed in a session of its own (jobs/progress)."""
    s = world.session
    engine = s.get_bind()
    monkeypatch.setattr(register_import, "CHUNK", 10)
    monkeypatch.setattr(register_import, "PROGRESS_EVERY", 0)
    seen = []
    read_chunks = register_import._chunks

    def watched(*args):
        for chunk in read_chunks(*args):
            yield chunk
            with engine.connect() as other:  # as the page's request would read it
                seen.append(
                    other.scalar(
                        select(RegisterImport.rows).order_by(RegisterImport.id.desc()).limit(1)
                    )
                )

    monkeypatch.setattr(register_import, "_chunks", watched)
    run = import_now(s, FUEL, actor=Actor(None, "admin", roles=frozenset({"Admin"})))
    assert (run.state, run.rows) == ("done", 78)
    assert seen[:7] == [10, 20, 30, 40, 50, 60, 70], seen
