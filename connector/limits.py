"""Text values checked against their columns before they reach the database, so an over-long
or non-text value is a clear refusal naming the field, not a database error."""
from __future__ import annotations

from peewee import CharField, TextField

from connector.errors import InvalidValue


def check_text(model, values: dict) -> None:
    """Refuse a value for a text column of `model` that is not text or does not fit."""
    for name, value in values.items():
        field = model._meta.fields.get(name)
        if value is None or not isinstance(field, (CharField, TextField)):
            continue
        if not isinstance(value, str):
            raise InvalidValue(f"{name} must be text")
        limit = getattr(field, "max_length", None) if isinstance(field, CharField) else None
        if limit and len(value) > limit:
            raise InvalidValue(f"{name} is longer than {limit} characters")
