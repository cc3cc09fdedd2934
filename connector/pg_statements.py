"""Statements on PostgreSQL sent with numbered parameters ($1, $2, ...), their text converted
once per process instead of by psycopg on every execution.

peewee writes PostgreSQL parameters as `%s`; psycopg turns them into `$n` before each
execution, and keeps the result only for statements of at most 50 parameters
(psycopg._queries.MAX_CACHED_STATEMENT_PARAMS, in a cache of 128). A page of 100 users reads
the users, their values and their teams with 100 ids each, and psycopg converted each of those
statements afresh every time: 0.4 ms of the worker's time apiece on the benchmark machine, a
tenth of the page. A multi-row INSERT of a /Bulk request or a CSV import converted thousands of
parameters per statement.

Here the converted text is kept (for any number of parameters; texts of up to CACHED_LENGTH
characters, so that the many-row INSERTs of imports do not fill a worker's memory: a longer one
is converted each time, still in a quarter of psycopg's time) and the statement goes through
psycopg's RawCursor, which takes `$n` as written. The conversion follows psycopg's rules for
what peewee writes: `%s` is the next parameter and `%%` a literal percent sign. A statement
with anything else after a `%` (or a count of `%s` that does not match its parameters) is left
to psycopg's own cursor, which converts it or says what is wrong with it, as before.
"""
from __future__ import annotations

import functools
import re

from psycopg import RawCursor

_PLACEHOLDER = re.compile(r"%(.?)", re.DOTALL)  # an empty group: a "%" that ends the text
CACHED_TEXTS = 1024  # distinct statement texts a process keeps converted
CACHED_LENGTH = 8192  # characters: a page's statements of 100 ids are 700-1,200


def numbered(sql: str, parameters: int) -> str | None:
    """`sql` with its `%s` written as $1, $2, ... and `%%` as `%`; None when it holds another
    `%` sequence or a number of `%s` other than `parameters`."""
    if len(sql) <= CACHED_LENGTH:
        return _kept(sql, parameters)
    return _converted(sql, parameters)


def _converted(sql: str, parameters: int) -> str | None:
    count = 0
    unknown = False

    def replace(match: re.Match) -> str:
        nonlocal count, unknown
        kind = match.group(1)
        if kind == "s":
            count += 1
            return f"${count}"
        if kind == "%":
            return "%"
        unknown = True
        return match.group(0)

    converted = _PLACEHOLDER.sub(replace, sql)
    if unknown or count != parameters:
        return None
    return converted


_kept = functools.lru_cache(maxsize=CACHED_TEXTS)(_converted)


class NumberedParameters:
    """A mixin for peewee's PostgreSQL database classes: every statement executed with
    parameters on a plain cursor goes out in its numbered form (see the module doc). peewee's
    logging, query hooks and errors still see the statement as peewee wrote it."""

    def _execute_cursor(self, sql, params, **cursor_options):
        if params and not cursor_options:
            converted = numbered(sql, len(params))
            if converted is not None:
                return super()._execute_cursor(sql, params, sent_as=converted)
        return super()._execute_cursor(sql, params, **cursor_options)

    def cursor(self, named_cursor=None, sent_as=None):
        if sent_as is not None:
            return _NumberedCursor(self.connection(), sent_as)
        return super().cursor(named_cursor)


class _NumberedCursor(RawCursor):
    """A cursor for one statement: it executes `text`, the numbered form of what it is given."""

    def __init__(self, connection, text: str):
        super().__init__(connection)
        self._text = text

    def execute(self, query, params=None, **options):
        return super().execute(self._text, params, **options)
