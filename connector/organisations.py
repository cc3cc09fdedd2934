"""Organisations (Ally instances): creation, settings, lookup by name or slug, and the
bootstrap of the organisations listed in the config file."""
from __future__ import annotations

from peewee import fn

from connector import audit
from connector.clock import utcnow
from connector.config import OrganisationSettings, slugify
from connector.db import write_transaction
from connector.domains import normalise_domain
from connector.errors import AllyError, NotFound
from connector.limits import check_text
from connector.models import OUTSIDE_DOMAIN_POLICIES, Organisation


SETTINGS = ("name", "slug", "domains", "outside_domains", "skip_invitations", "admin_groups", "admin_groups_are_teams")


def find_organisation(name_or_slug: str) -> Organisation:
    """The organisation whose slug, or case-insensitively whose name, is given."""
    org = (Organisation.select()
           .where((Organisation.slug == name_or_slug.lower())
                  | (fn.LOWER(Organisation.name) == name_or_slug.lower()))
           .order_by(Organisation.id).first())
    if org is None:
        raise NotFound(f"No organisation named {name_or_slug!r}")
    return org


def parse_domains(text: str) -> list[str]:
    """Ally's Signup Mode form: domains separated by commas."""
    try:
        return sorted({normalise_domain(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise AllyError(str(exc)) from None


def create_organisation(name: str, *, slug: str | None = None, domains=(), outside_domains="invite",
                        skip_invitations=False, admin_groups=(), admin_groups_are_teams=True) -> Organisation:
    if not name.strip():
        raise AllyError("An organisation needs a name")
    if outside_domains not in OUTSIDE_DOMAIN_POLICIES:
        raise AllyError(f"outside_domains must be one of {', '.join(OUTSIDE_DOMAIN_POLICIES)}")
    slug = slug or slugify(name)
    check_text(Organisation, {"name": name.strip(), "slug": slug})
    with write_transaction():
        if Organisation.select().where(Organisation.slug == slug).exists():
            raise AllyError(f"An organisation with the slug {slug!r} already exists")
        org = Organisation.create(
            name=name.strip(), slug=slug, domains=sorted(set(domains)), outside_domains=outside_domains,
            skip_invitations=skip_invitations, admin_groups=list(admin_groups),
            admin_groups_are_teams=admin_groups_are_teams)
        _record("organisation.created", org, {key: [None, getattr(org, key)] for key in SETTINGS})
        return org


def update_organisation(org: Organisation, **changes) -> Organisation:
    if "outside_domains" in changes and changes["outside_domains"] not in OUTSIDE_DOMAIN_POLICIES:
        raise AllyError(f"outside_domains must be one of {', '.join(OUTSIDE_DOMAIN_POLICIES)}")
    if "domains" in changes:
        changes["domains"] = sorted(set(changes["domains"]))
    if "admin_groups" in changes:
        changes["admin_groups"] = list(changes["admin_groups"])
    before = {key: getattr(org, key) for key in changes}
    with write_transaction():
        for key, value in changes.items():
            setattr(org, key, value)
        org.updated_at = utcnow()
        org.save()
        _record("organisation.updated", org, audit.diff(before, changes))
    return org


def _record(action: str, org: Organisation, changes: dict) -> None:
    audit.record(action, organisation=org, target_type="organisation", target_id=org.id, target_label=org.slug,
                 changes=changes)


def bootstrap(configured: tuple[OrganisationSettings, ...]) -> list[tuple[str, Organisation]]:
    """Create the organisations the config lists, or bring their settings in line with it.
    Returns (what happened, organisation) pairs: 'created', 'updated' or 'unchanged'."""
    report = []
    for item in configured:
        wanted = dict(name=item.name, domains=sorted(set(item.domains)), outside_domains=item.outside_domains,
                      skip_invitations=item.skip_invitations, admin_groups=list(item.admin_groups),
                      admin_groups_are_teams=item.admin_groups_are_teams)
        org = Organisation.get_or_none(Organisation.slug == item.slug)
        if org is None:
            report.append(("created", create_organisation(slug=item.slug, **wanted)))
            continue
        changed = {key: value for key, value in wanted.items() if getattr(org, key) != value}
        report.append(("updated", update_organisation(org, **changed)) if changed else ("unchanged", org))
    return report
