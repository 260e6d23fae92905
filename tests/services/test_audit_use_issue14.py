"""Issue 14 (use): the audit log names a person where a record keeps his user name
(R-SEC-2)."""

from __future__ import annotations

from sqlalchemy import select

from admin_app.models import AuditLog, ConsoleUser
from admin_app.services.audit import describe_entries


def test_issue14_by_reads_the_persons_name_not_his_user_name(app, world):
    """An inspection form or transfer keeps who made it as his user name; its audit row
    said "Door: garage-jansen" next to Wie "Gert Jansen". Both name him now."""
    gert = world.session.scalars(
        select(ConsoleUser).where(ConsoleUser.username == "garage-jansen")
    ).one()
    entry = AuditLog(
        actor_id=gert.id,
        actor_name="garage-jansen",
        action="insert",
        table_name="transfer",
        changes={"created_by": [None, "garage-jansen"], "kind": [None, "owner"]},
    )
    with app.app_context():
        (described,) = describe_entries(world.session, [entry], "nl")
    assert described.who == "Gert Jansen"
    assert described.changes_text == "Soort: Nieuwe eigenaar; Door: Gert Jansen"
