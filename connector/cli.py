"""The `ally-scim` command line (DESIGN.md §7). Exit status: 0 success, 1 refused, 2 usage."""
from __future__ import annotations

import sys

import click

from connector.commands import CliState, with_app
from connector.commands.admin import admin_group
from connector.commands.audit import audit_group, prune_message
from connector.commands.client import client_group
from connector.commands.imports import import_command
from connector.commands.mail import mail
from connector.commands.objectives import objectives_group
from connector.commands.org import org_group
from connector.commands.teams import teams_group
from connector.commands.token import token_group
from connector.commands.users import users_group
from connector.config import ConfigError
from connector.errors import AllyError
from oauth.errors import CredentialError


class AllyGroup(click.Group):
    """Turns domain refusals into exit 1 and configuration problems into exit 2, on stderr."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"Error: configuration: {exc}", err=True)
            ctx.exit(2)
        except (AllyError, CredentialError) as exc:
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(1)


@click.group(cls=AllyGroup)
@click.option("--config", "config_path", envvar="ALLY_CONFIG", type=click.Path(dir_okay=False),
              help="Config file (default: $ALLY_CONFIG, else ./config.yaml if present).")
@click.pass_context
def cli(ctx, config_path):
    """Ally SCIM 2.0 connector: provisioning from Okta and Microsoft Entra ID."""
    if config_path is None:
        from connector.config import config_path_from_env

        config_path = config_path_from_env()
    ctx.obj = CliState(config_path)


@cli.command()
@click.option("--demo-token", is_flag=True,
              help="Then print the SCIM base URL and a bearer token for the first organisation (once).")
@with_app
def init(demo_token):
    """Create or migrate the schema, create the organisations listed in the config, and delete
    audit events older than audit.retention_days."""
    from flask import current_app

    from connector import migrate, organisations
    from connector.commands.token import print_demo_token

    applied = migrate.upgrade()
    click.echo(f"schema: {len(applied)} migration(s) applied" if applied else "schema: up to date")
    settings = current_app.config["ALLY_SETTINGS"]
    for what, org in organisations.bootstrap(settings.organisations):
        click.echo(f"organisation {org.slug}: {what}")
    click.echo(prune_message(None))
    if demo_token:
        print_demo_token(settings)


@cli.command()
@click.option("--host", help="Address to listen on (default: server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: server.workers).")
@click.pass_obj
def serve(state: CliState, host, port, workers):
    """Serve the connector with gunicorn."""
    from connector.serve import serve as run_server

    settings = state.settings
    host = host or settings.server.host
    port = port or settings.server.port
    click.echo(f"Serving Ally SCIM connector on http://{host}:{port} (SCIM base URL {settings.public_url}/scim/v2)")
    run_server(settings, host, port, workers or settings.server.workers)


cli.add_command(mail)
cli.add_command(org_group)
cli.add_command(users_group)
cli.add_command(teams_group)
cli.add_command(objectives_group)
cli.add_command(audit_group)
cli.add_command(token_group)
cli.add_command(client_group)
cli.add_command(admin_group)
cli.add_command(import_command)


def main() -> None:
    cli(prog_name="ally-scim")


if __name__ == "__main__":
    sys.exit(main())
