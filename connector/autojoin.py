"""Auto-join (Ally's Admin > Settings > Signup Mode) and the outside-domains policy.

A user whose email domain is one of the organisation's work domains joins directly as
`active`, with no invitation. Anyone else is invited, or refused when the organisation's
`outside_domains` policy is `reject`. Domains compare case-insensitively after IDNA
normalisation, so 'Bücher.Example' and 'xn--bcher-kva.example' are the same domain.
"""
from __future__ import annotations

from connector.domains import email_domain, normalise_domain
from connector.errors import OutsideDomain


def work_domains(org) -> list[str]:
    """The organisation's auto-join domains, normalised (they are stored normalised; an entry
    that no longer normalises is ignored rather than matched loosely)."""
    domains = []
    for domain in org.domains or ():
        try:
            domains.append(normalise_domain(domain))
        except ValueError:
            continue
    return domains


def joins_directly(org, email: str | None) -> bool:
    domain = email_domain(email) if email else None
    return domain is not None and domain in work_domains(org)


def check_outside_domain(org, email: str | None) -> None:
    """Refuse an address outside the work domains when the organisation says `reject`."""
    if org.outside_domains == "reject" and not joins_directly(org, email):
        shown = (email_domain(email) or email.rpartition("@")[2] or None) if email else None
        raise OutsideDomain(shown, work_domains(org))


def initial_status(org, email: str | None) -> str:
    """`active` for a work-domain address, else `invited` (after the outside-domains check)."""
    check_outside_domain(org, email)
    return "active" if joins_directly(org, email) else "invited"
