"""`ally-scim admin`: what an Ally admin needs to approve an identity provider (OAuth consent)."""
from __future__ import annotations

import sys

import click

from connector import admin_signin, directory
from connector.commands import with_app
from connector.organisations import find_organisation


@click.group("admin")
def admin_group():
    """Ally admins: sign-in for the OAuth consent page."""


@admin_group.command("set-password")
@click.argument("email")
@click.option("--org", help="Organisation name or slug (needed when the email exists in several).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_app
def set_password(email, org, password_stdin):
    """Set the password EMAIL signs in with on the consent page (stored as an scrypt hash)."""
    user = directory.find_user(find_organisation(org), email) if org else admin_signin.user_named(email)
    admin_signin.check_may_approve(user)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    admin_signin.set_password(user, password)
    click.echo(f"Password set for {email} ({user.organisation.name}).")
