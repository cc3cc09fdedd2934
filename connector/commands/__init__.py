"""Shared pieces of the `ally-scim` command groups: the app context, JSON output, failure,
and the bounded number types of their options."""
from __future__ import annotations

import dataclasses
import functools
import json

import click

# Numbers a command passes on to the database or to date arithmetic, bounded so that a typo is
# a usage error rather than an overflow: a row id fits a BIGINT (and SQLite's INTEGER), a count
# of rows 32 bits, and a number of days reaches back no further than any date can.
ROW_ID = click.IntRange(1, 2**63 - 1)
ROW_COUNT = click.IntRange(1, 2**31 - 1)
DAYS = click.IntRange(1, 36_500)


class CliState:
    """What the root command knows: where the config is; builds the app on first use."""

    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._app = None

    @property
    def settings(self):
        from connector.config import load_settings

        return self.app.config["ALLY_SETTINGS"] if self._app else load_settings(self.config_path)

    @property
    def app(self):
        if self._app is None:
            from connector import create_app
            from connector.config import load_settings
            from connector.logs import raise_level_to

            settings = load_settings(self.config_path)
            # A command (a migration, an import, a prune) runs as long as it needs: the
            # statement timeout guards the IdPs' requests, which `serve` builds its own app for.
            server = dataclasses.replace(settings.server, statement_timeout_seconds=0)
            self._app = create_app(dataclasses.replace(settings, server=server))
            # A command talks to people on stdout and stderr; INFO lines belong in a server's log.
            raise_level_to("WARNING")
        return self._app


def with_app(func):
    """Run the command inside the app context with an open database connection; what it
    changes is audited as done by "cli"."""

    @functools.wraps(func)
    @click.pass_obj
    def wrapper(state: CliState, *args, **kwargs):
        from connector.audit import acting_as
        from connector.db import database

        app = state.app
        with app.app_context(), acting_as("cli"):
            database.connect(reuse_if_open=True)
            try:
                return func(*args, **kwargs)
            finally:
                database.close()

    return wrapper


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def fail(message: str) -> None:
    """Stop with the reason on stderr and exit status 1 (a refused operation)."""
    raise click.ClickException(message)
