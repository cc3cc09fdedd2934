"""Text values checked against their columns before they reach the database, so an over-long
or non-text value is a clear refusal naming the field, not a database error."""
from __future__ import annotations

from peewee import CharField, TextField

from connector.errors import InvalidValue, TooLong


def shortened(text: str, width: int) -> str:
    """The text cut to `width` characters, ending in "…" when it was longer."""
    return text if len(text) <= width else text[:width - 1] + "…"


def check_text(model, values: dict, prefix: str | None = None) -> None:
    """Refuse a value for a text column of `model` that is not text or does not fit; the
    refusal names the field as "<prefix>.<name>" when a prefix is given."""
    for name, value in values.items():
        field = model._meta.fields.get(name)
        if value is None or not isinstance(field, (CharField, TextField)):
            continue
        label = f"{prefix}.{name}" if prefix else name
        if not isinstance(value, str):
            raise InvalidValue(f"{label} must be text")
        check_fits(model, name, value, label)


def check_fits(model, name: str, value: str, label: str) -> None:
    """TooLong naming `label` when the text does not fit the column `name` of `model`, or its
    lower-case form does not fit the column of its key (`<name>_key`), when it has one."""
    field = model._meta.fields[name]
    limit = getattr(field, "max_length", None) if isinstance(field, CharField) else None
    if limit and len(value) > limit:
        raise TooLong(label, limit)
    key_limit = getattr(model._meta.fields.get(f"{name}_key"), "max_length", None)
    if key_limit and len(value.lower()) > key_limit:
        raise TooLong(label, key_limit, lowered=True)
