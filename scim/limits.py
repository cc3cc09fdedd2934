"""Protocol-level limits on what a request may carry, checked before anything reaches a backend:
- text holds no NUL character and no lone surrogate: no database stores them (PostgreSQL
  refuses NUL in text; a lone surrogate cannot be encoded as UTF-8), so they are refused here
  as 400 instead of failing in the driver;
- JSON numbers are finite and fit in 64 bits (a 5,000-digit integer or 1e400 is refused).
"""
from __future__ import annotations

import math
import re

from scim.errors import InvalidValue, ScimError

_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
LARGEST_INTEGER = 2 ** 63 - 1
_MAX_DIGITS = len(str(LARGEST_INTEGER)) + 1  # with a sign


def check_text(text: str, where: str, error: type[ScimError] = InvalidValue) -> None:
    """`error` naming `where` when `text` holds a NUL character or a lone surrogate."""
    match = _BAD_CHARACTER.search(text)
    if match is None:
        return
    found = "a NUL character (\\u0000)" if match.group() == "\x00" else f"a lone surrogate (\\u{ord(match.group()):04x})"
    raise error(f"{where} contains {found}, which is not allowed.")


def json_integer(text: str) -> int:
    """json.loads' parse_int: an integer within 64 bits, else 400 invalidValue."""
    if len(text) <= _MAX_DIGITS:
        value = int(text)
        if -LARGEST_INTEGER - 1 <= value <= LARGEST_INTEGER:
            return value
    raise InvalidValue(f"The number {_shortened(text)} in the request body is out of range "
                       f"(integers must fit in 64 bits).")


def json_float(text: str) -> float:
    """json.loads' parse_float: a finite number, else 400 invalidValue."""
    value = float(text)
    if math.isfinite(value):
        return value
    raise InvalidValue(f"The number {_shortened(text)} in the request body is out of range.")


def _shortened(text: str) -> str:
    return text if len(text) <= 30 else f"{text[:20]}... ({len(text)} characters)"
