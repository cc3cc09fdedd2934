"""Time in one place: naive UTC datetimes in the database, ISO 8601 with 'Z' outside."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now in UTC, naive, to the millisecond (what both databases store and give back alike)."""
    moment = datetime.now(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def isoformat(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or time ('Z' or an offset allowed) as naive UTC; ValueError otherwise."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(f"{text!r} is outside the range of dates this server can compare") from None
    return moment
