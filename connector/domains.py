"""Email domains: normalisation (case, IDNA) and extraction from an address."""
from __future__ import annotations

import re

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(domain: str) -> str:
    """Lower-case, strip, and IDNA-encode a domain so 'Bücher.example' matches 'xn--bcher-kva.example'."""
    text = domain.strip().strip(".").lower()
    if text.startswith("@"):
        text = text[1:]
    try:
        ascii_form = text.encode("idna").decode("ascii") if text else ""
    except UnicodeError:
        raise ValueError(f"{domain!r} is not a valid domain") from None
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{domain!r} is not a valid domain")
    return ascii_form


def email_domain(address: str) -> str | None:
    """The normalised domain of an email address, or None when it has none or a bad one."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return None
    try:
        return normalise_domain(domain)
    except ValueError:
        return None
