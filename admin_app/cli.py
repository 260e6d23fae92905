"""`flask sync-roles`, `flask demo-data`, `flask worker`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


def register(app: Flask) -> None:
    @app.cli.command("sync-roles")
    @with_appcontext
    def sync_roles_command():
        """Create permissions and set every role's to the table in admin_app.roles."""
        from admin_app.extensions import appbuilder
        from admin_app.roles import sync_roles

        for role, count in sync_roles(appbuilder).items():
            click.echo(f"{role}: {count} permissions")

    @app.cli.command("demo-data")
    @click.option("--if-empty", is_flag=True, help="Only when there are no garages yet.")
    @with_appcontext
    def demo_data_command(if_empty: bool):
        """Load the demo garages, passports and logins (password: demo)."""
        from admin_app.demo import load_demo_data

        loaded = load_demo_data(only_if_empty=if_empty)
        click.echo("demo data loaded" if loaded else "database not empty: demo data skipped")

    @app.cli.command("tick")
    @with_appcontext
    def tick_command():
        """Run the worker clock once (what is due now)."""
        from flask import current_app

        from admin_app.jobs.clock import tick

        tick(current_app._get_current_object())

    @app.cli.command("register-import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @with_appcontext
    def register_import_command(path: str):
        """Import a vehicle-register file (RDW open data, CSV) of any size, with the
        worker's code in this process; its page under Voertuigregister shows the progress."""
        from pathlib import Path

        from admin_app.domain.errors import DomainError
        from admin_app.extensions import db
        from admin_app.jobs.register import import_now
        from admin_app.services.audit import Actor
        from admin_app.services.register_import import reason_text

        try:
            run = import_now(db.session, Path(path), actor=Actor(None, "flask register-import"))
        except DomainError as refused:
            raise click.ClickException(str(refused.message)) from None
        click.echo(
            f"{run.file_name}: {run.dataset}, {run.state}, {run.rows} rows, "
            f"{run.kept} kept from before, {run.skipped} skipped"
            + (f": {reason_text(run)}" if run.reason else "")
        )
        if run.state != "done":
            raise SystemExit(1)
