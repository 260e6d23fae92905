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
