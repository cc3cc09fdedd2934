"""The application's row for a credential's tenant, read in the same statement as the credential.

Every request to the protected API finds its credential by hash, and the application then
needs its own row for the credential's tenant (the connector's organisation). Given
`TenantRows` at init_app, the credential's query joins that row, so both come back from one
statement: on PostgreSQL a round trip fewer on every request. oauth/ still knows nothing of
the application's tables: it is handed the model and the join condition.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from peewee import JOIN


ATTRIBUTE = "tenant_row"  # where a credential read with its tenant's row keeps it


@dataclass(frozen=True)
class TenantRows:
    """model: the application's peewee model of a tenant. condition(tenant_column): the join
    condition matching the row a tenant string names (no row when it names none).
    make(cells): the model object of a row's values as the database driver gave them, in the
    model's field order (`_meta.sorted_fields`), each converted as its field's python_value
    would (the application's own way of making rows, which may be quicker than peewee's)."""

    model: type
    condition: Callable
    make: Callable

    @cached_property
    def fields(self) -> tuple:
        return tuple(self.model._meta.sorted_fields)

    @cached_property
    def _key_place(self) -> int:
        return self.fields.index(self.model._meta.primary_key)

    def joined(self, query, tenant_column):
        """`query` (over the credential's table) with the tenant's row joined and its `fields`
        selected last: NULL when no row matches."""
        return query.select_extend(*self.fields).join(self.model, JOIN.LEFT_OUTER, on=self.condition(tenant_column))

    def attach(self, credential, row) -> None:
        """Keep the tenant's row, from the last columns of a result row of a `joined` query, as
        the credential's `tenant_row`: None when the join found none (its primary key is NULL)."""
        cells = row[len(row) - len(self.fields):]
        setattr(credential, ATTRIBUTE, None if cells[self._key_place] is None else self.make(cells))
