"""Versions and ETags (RFC 7644 §3.14, RFC 7232): weak ETags W/"<version>" from the record's
version, in the ETag header of every single-resource response and in meta.version.

If-Match: `*` or absent → no condition; one ETag → the backend gets it as `expected_version`
and compares-and-sets atomically (412 when it no longer matches); several ETags → the
protocol reads the current version, checks it is among them (else 412), and passes that one.
If-None-Match on GET: a match (or `*`) → 304 with the ETag and no body.
"""
from __future__ import annotations

import re

from scim.errors import PreconditionFailed

_ETAG_RE = re.compile(r'\s*(?:W/)?"([^"]*)"\s*')


def etag(version: str) -> str:
    return f'W/"{version}"'


def parse_header(header: str | None) -> tuple[str, ...] | None:
    """The versions an If-Match/If-None-Match header names; None for absent or `*`."""
    if header is None or not header.strip() or header.strip() == "*":
        return None
    versions = []
    for part in _split(header):
        match = _ETAG_RE.fullmatch(part)
        # An unquoted tag is taken as written: some clients send the bare version.
        versions.append(match.group(1) if match else part.strip())
    return tuple(versions)


def _split(header: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def is_wildcard(header: str | None) -> bool:
    return header is not None and header.strip() == "*"


def none_match(header: str | None, version: str) -> bool:
    """RFC 7232 §3.2 (weak comparison): does If-None-Match match this version?"""
    if is_wildcard(header):
        return True
    versions = parse_header(header)
    return versions is not None and version in versions


def check_match(versions: tuple[str, ...], current: str) -> None:
    """RFC 7644 §3.14: 412 when the resource's version is not one If-Match names."""
    if current not in versions:
        raise PreconditionFailed(
            f"The resource's current version {etag(current)} does not match If-Match.")
