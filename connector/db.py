"""The database: chosen from a URL at run time, opened per request, written in transactions.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout; write
transactions take the write lock up front (BEGIN IMMEDIATE) so two writers queue instead of
failing half-way, and queue for it in connector.sqlite_writers rather than in SQLite's busy
handler, which sleeps in steps far longer than a write. PostgreSQL gets a connection pool
(connector.pg_pool), optionally with a statement_timeout on every connection; rows a write checks and then points
a foreign key at are locked FOR SHARE (locked_for_share); serialization failures and deadlocks
are retried a few times before they surface (retry_on_conflict).
"""
from __future__ import annotations

import functools
import time
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse

from peewee import CharField, DatabaseProxy, DateTimeField, Entity, Expression, Field, FieldAlias, ForeignKeyField, \
    ModelObjectCursorWrapper, ModelTupleCursorWrapper, OperationalError, PostgresqlDatabase, SqliteDatabase, TextField
from playhouse import db_url

from connector.pg_pool import PostgresqlPool
from connector.sqlite_writers import WriterQueue

database = DatabaseProxy()

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", SQLITE_BUSY_TIMEOUT_MS),
    ("synchronous", "normal"),
)
POOL_OPTIONS = {"max_connections": 32, "stale_timeout": 300, "timeout": 20}
RETRY_ATTEMPTS = 5
MAX_PARAMETERS = 10_000  # per statement: far inside SQLite's (32,766) and PostgreSQL's (65,535) limits
_PG_RETRY_CODES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_PG_QUERY_CANCELED = "57014"  # what a statement stopped by statement_timeout raises
_PG_SERVER_GONE = {"57P01", "57P02", "57P03"}  # admin_shutdown (pg_terminate_backend too), crash_shutdown, cannot_connect_now


def open_database(url: str, statement_timeout_seconds: int = 0):
    """A peewee Database for the URL; postgresql:// gets a pool (whose connections cancel any
    statement running longer than statement_timeout_seconds, when not 0), sqlite:// the pragmas
    above. Both are always pooled, so playhouse's `+pool` schemes mean the same."""
    written = urlparse(url).scheme
    scheme = written.removesuffix("+pool")
    if scheme in ("postgres", "postgresql"):
        options = {"options": f"-c statement_timeout={statement_timeout_seconds * 1000}"} \
            if statement_timeout_seconds else {}
        return PostgresqlPool(**{**db_url.parse(url), **POOL_OPTIONS, **options}, prefer_psycopg3=True)
    if scheme.startswith("sqlite"):
        path = db_url.parse(url)["database"]
        if path == ":memory:":
            return db_url.connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool keeps each connection (and its pragmas) across requests instead of reopening.
        pooled = url.replace(f"{written}://", "sqlite+pool://", 1)
        db = db_url.connect(pooled, pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                            max_connections=POOL_OPTIONS["max_connections"], stale_timeout=None)
        db.writer_queue = WriterQueue(str(Path(path).resolve()), SQLITE_BUSY_TIMEOUT_MS / 1000)
        return db
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


def bind(url: str, statement_timeout_seconds: int = 0):
    """Point the shared proxy at the database for URL and return it."""
    db = open_database(url, statement_timeout_seconds)
    database.initialize(db)
    return db


def is_sqlite(db=None) -> bool:
    db = db or database.obj
    return isinstance(db, SqliteDatabase)


def is_postgres(db=None) -> bool:
    db = db or database.obj
    return isinstance(db, PostgresqlDatabase)


def init_app(app, db) -> None:
    """Give each request's connection back afterwards. Connections are taken lazily from the
    pool on the first query, so requests that need no database (/healthz) never touch it."""

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()


@contextmanager
def write_transaction():
    """One atomic write: BEGIN IMMEDIATE on SQLite so concurrent writers wait, not fail.
    Inside another write it is part of that one (no savepoint): an error leaves both, and the
    whole transaction rolls back. (A savepoint costs two statements, on PostgreSQL two round
    trips, and no caller goes on after a refusal inside a transaction; the few writes that
    expect a refusal and go on wrap themselves in db.atomic().)"""
    db = database.obj
    if db.in_transaction():
        yield
    elif is_sqlite(db):
        queue = getattr(db, "writer_queue", None)
        with queue.turn() if queue else nullcontext(), db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield


def reads_after_refusal():
    """Around a write whose IntegrityError the caller answers by reading (to say which other
    writer took the name) and then re-raising: a savepoint on PostgreSQL, which refuses every
    statement of a transaction after an error until it rolls back to one; nothing on SQLite,
    which undoes only the refused statement and lets the transaction read on."""
    db = database.obj
    return db.atomic() if is_postgres(db) else nullcontext()


def locked_for_share(query):
    """The query as SELECT ... FOR SHARE on PostgreSQL: until the transaction ends, no other
    may change or delete the rows found, so a row checked before a foreign key is pointed at
    it (a new member, manager or parent) is still there, and still as checked, when the key is
    written. SQLite's write transactions hold the whole database already."""
    return query.for_update("FOR SHARE") if is_postgres() else query


# SQL texts kept per process (insert_rows, cached_select, cached_execute); shapes beyond run
# uncached. The first ones of a process are kept: the fixed shapes of every request.
MAX_STATEMENTS = 500
_statements: dict = {}


def insert_rows(model, rows: list[dict], *, skip_conflicting: bool = False) -> int:
    """INSERT rows of `model` (dicts keyed by field name, all with the same keys; fields left
    out get their defaults), many rows per statement. Each value goes through its field's
    db_value, as in peewee's insert_many; but peewee builds a query node for every value, which
    costs more than running the statement when thousands of rows go in (a bulk import), so the
    statement text is built here, once per process for each shape. skip_conflicting: rows a
    unique index refuses are left out (ON CONFLICT DO NOTHING) instead of failing the statement,
    which on PostgreSQL would fail the whole transaction. Returns how many rows went in."""
    if not rows:
        return 0
    names = tuple(rows[0])
    defaults = {name: value for name, value in
                ((field.name, default) for field, default in model._meta.defaults.items()) if name not in names}
    fields = [model._meta.fields[name] for name in [*names, *defaults]]
    inserted = 0
    for batch in batches(rows, max(1, MAX_PARAMETERS // len(fields))):
        values = [[row[name] for name in names] + [value() if callable(value) else value for value in defaults.values()]
                  for row in batch]
        parameters = [field.db_value(value) for row in values for field, value in zip(fields, row)]
        sql = _insert_sql(model, names, tuple(defaults), len(batch))
        inserted += database.execute_sql(sql + " ON CONFLICT DO NOTHING" if skip_conflicting else sql,
                                         parameters).rowcount
    return inserted


def _insert_sql(model, names: tuple, defaults: tuple, count: int) -> str:
    key = ("insert", model, names, defaults, count, type(database.obj))
    sql = _statements.get(key)
    if sql is None:
        fields = [model._meta.fields[name] for name in [*names, *defaults]]
        columns = ", ".join(_quoted(field.column_name) for field in fields)
        group = "(" + ", ".join([database.get_sql_context().state.param or "?"] * len(fields)) + ")"
        sql = f"INSERT INTO {_quoted(model._meta.table_name)} ({columns}) VALUES {', '.join([group] * count)}"
        if len(_statements) < MAX_STATEMENTS:
            _statements[key] = sql
    return sql



def batches(items, size: int) -> list[list]:
    """`items` in lists of at most `size`, by slicing. (peewee's chunked costs in proportion to
    `size` even for one item, and the batches of a request are mostly of one or a few ids.)"""
    items = list(items)
    return [items[start:start + size] for start in range(0, len(items), size)]


def cached_select(shape, build, params: list, *, strict: bool = True) -> list:
    """The rows of `build()`, a SELECT whose text depends only on `shape` (a hashable naming
    everything but the parameters), run with `params`. peewee builds the SQL text once per
    process and kind of database; later calls only execute it, because for the small queries
    of every request building the text costs several times what running it does. build() must
    make a query whose parameters are exactly `params`, in order (checked when it is built).
    Rows come back as the query's own rows would (models, tuples), converted by its fields.
    strict=False, for parameters worked out by where_shape: a query whose parameters are not
    `params` runs as built, this time and every later time for its shape."""
    key = (shape, type(database.obj))
    entry = _statements.get(key)
    if entry is _AS_BUILT:
        return list(build())
    if entry is None:
        query = build()
        sql, built = query.sql()
        if built != list(params):
            if strict:
                raise ValueError(f"cached_select {shape!r}: the query's parameters {built!r} are not {params!r}")
            if len(_statements) < MAX_STATEMENTS:
                _statements[key] = _AS_BUILT
            return list(query)
        entry = _Statement(query, sql)
        if len(_statements) < MAX_STATEMENTS:
            _statements[key] = entry
    cursor = database.execute_sql(entry.sql, params)
    if entry.reader is not None:
        return entry.reader(cursor)
    rows = entry.query._get_cursor_wrapper(cursor)
    entry.resolve_columns(rows)
    return list(rows)


_AS_BUILT = object()  # a shape whose parameters cached_select could not predict


def where_shape(expression) -> tuple[tuple, list] | None:
    """(shape, parameters) of a WHERE expression made only of columns compared with plain
    values (=, <, IN, IS NULL, ...) joined by AND/OR, such as a compiled SCIM filter: two
    expressions with one shape have one SQL text, and the parameters are the values in the
    order peewee writes them. None for anything else (functions, subqueries, CASE, ...)."""
    params: list = []
    try:
        return _shape(expression, params, None), params
    except _Unshaped:
        return None


class _Unshaped(Exception):
    pass


_PLAIN = (str, int, float, date)  # bool is an int, datetime a date


def _shape(node, params: list, converter):
    if type(node) is Expression:
        to_db = node.lhs.db_value if isinstance(node.lhs, Field) else None
        return ("expression", node.op, node.flat, _shape(node.lhs, params, None), _shape(node.rhs, params, to_db))
    if isinstance(node, Field) and not isinstance(node, FieldAlias):
        return ("column", node.model, node.name)
    if node is None:
        return ("null",)
    if isinstance(node, _PLAIN):
        params.append(_converted(node, converter))
        return ("value",)
    if isinstance(node, (list, tuple)) and all(isinstance(item, _PLAIN) for item in node):
        params.extend(_converted(item, converter) for item in node)
        return ("values", len(node))
    raise _Unshaped


def _converted(value, converter):
    """The value as peewee would pass it; one its column cannot take is left to peewee."""
    try:
        return converter(value) if converter else value
    except (TypeError, ValueError):
        raise _Unshaped from None


def cached_execute(shape, build, params: list):
    """Run `build()`, an UPDATE or DELETE whose text depends only on `shape`, with `params`
    (already as the database takes them: db_value applied), building its SQL text once per
    process as cached_select does; the cursor (its rowcount says how many rows it changed)."""
    key = ("execute", shape, type(database.obj))
    sql = _statements.get(key)
    if sql is None:
        sql, built = build().sql()
        if built != list(params):
            raise ValueError(f"cached_execute {shape!r}: the query's parameters {built!r} are not {params!r}")
        if len(_statements) < MAX_STATEMENTS:
            _statements[key] = sql
    return database.execute_sql(sql, params)


class _Statement:
    """A cached SELECT: the query, its SQL text, and how its result columns map to fields.
    peewee works that mapping out from the cursor's description for every result (a tenth of a
    small lookup's time); for one SQL text it never changes, so it is worked out once."""

    def __init__(self, query, sql: str):
        self.query, self.sql = query, sql
        self.resolved: dict | None = None
        self.reader = None  # once known, when rows are model objects or tuples: cursor -> rows
        self.hydrate: tuple | None = None  # (model, [(field name, converter)])
        self.converters: list | None = None  # a converter (or None) per column of a tuple

    def models(self, cursor) -> list:
        """The rows as model objects, as peewee makes them (converted values keyed by field
        name, nothing dirty) without going through a descriptor for every column: for a page of
        users, 45 setattr calls a row were a third of turning rows into objects."""
        model, columns = self.hydrate
        return [_made(model, columns, row) for row in cursor.fetchall()]

    def tuples(self, cursor) -> list:
        """The rows as tuples, as peewee makes them, converting only the columns that need it
        (most are text, which comes back as it is stored)."""
        converters = self.converters
        if not any(converters):
            return [tuple(row) for row in cursor.fetchall()]
        return [tuple(value if convert is None else convert(value) for convert, value in zip(converters, row))
                for row in cursor.fetchall()]

    def resolve_columns(self, rows) -> None:
        if self.resolved is None:
            before = dict(vars(rows))
            rows.initialize()
            self.resolved = {name: value for name, value in vars(rows).items()
                             if name not in before or before[name] is not value}
            self.hydrate = _plain_model_columns(rows)
            if self.hydrate is not None:
                self.reader = self.models
            elif type(rows) is ModelTupleCursorWrapper:
                self.converters = [_converter(field, convert) if isinstance(field, Field) else convert
                                   for field, convert in zip(rows.fields, rows.converters)]
                self.reader = self.tuples
        else:
            vars(rows).update(self.resolved)
        rows.initialized = True


def as_model(model, cells):
    """A model object of the values of all its fields as read from the database, in the model's
    field order (`model._meta.sorted_fields`), made as _Statement.models makes one."""
    return _made(model, _all_columns(model), cells)


@functools.cache
def _all_columns(model) -> list:
    return [(field.name, _converter(field, field.python_value)) for field in model._meta.sorted_fields]


def _made(model, columns, cells):
    made = model.__new__(model)
    made.__data__ = {name: value if convert is None else convert(value) for (name, convert), value in zip(columns, cells)}
    made._dirty, made.__rel__ = set(), {}
    return made


def _plain_model_columns(rows) -> tuple | None:
    """(model, [(field name, converter)]) when every column of a model-object result is a field
    of the model itself (what _Statement.models can build); None otherwise."""
    if type(rows) is not ModelObjectCursorWrapper or not rows.is_model or rows.constructor is not rows.model:
        return None
    if not all(isinstance(field, Field) and field.model is rows.model for field in rows.fields):
        return None
    return rows.model, [(field.name, _converter(field, convert)) for field, convert in zip(rows.fields, rows.converters)]


def _converter(field: Field, convert):
    """What _Statement.models calls on a column's value: nothing for text (both drivers return
    text columns as str), datetime.fromisoformat straight away for SQLite's datetime text
    (peewee's conversion gets there after three calls), peewee's own converter otherwise."""
    if convert is None or _reads_as_text(field):  # peewee leaves it as read (coerce(False)), or text
        return None
    kind = type(field)
    if isinstance(field, DateTimeField) and kind.python_value is DateTimeField.python_value \
            and kind.adapt is DateTimeField.adapt:
        return functools.partial(_datetime, fallback=convert)
    return convert


def _datetime(value, fallback):
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return value if value is None or isinstance(value, datetime) else fallback(value)


def _reads_as_text(field: Field) -> bool:
    """Whether a column comes back from the driver as the str (or None) the field would make
    of it anyway: a plain text field (both drivers return text columns as str), whose
    conversion is a call per column for nothing."""
    if isinstance(field, ForeignKeyField):
        return _reads_as_text(field.rel_field)
    kind = type(field)
    return isinstance(field, (CharField, TextField)) and kind.python_value is CharField.python_value \
        and kind.adapt is CharField.adapt


def _quoted(name: str) -> str:
    return database.get_sql_context().sql(Entity(name)).query()[0]


def refresh_statistics(*models) -> None:
    """After a bulk load, let the query planner see how big the tables have become (ANALYZE).
    Without it a table that grew from empty within minutes still looks empty (PostgreSQL, until
    autovacuum gets to it) or is guessed at (SQLite), and lookups of a few ids by primary key
    turn into scans of a whole organisation's rows."""
    names = [_quoted(model._meta.table_name) for model in models]
    if is_postgres():
        database.execute_sql("ANALYZE " + ", ".join(names))
    else:
        for name in names:
            database.execute_sql(f"ANALYZE {name}")


def retry_on_conflict(func):
    """Re-run a whole write transaction when PostgreSQL reports a serialization failure or
    deadlock (or SQLite stays locked past its busy timeout); the caller sees only the outcome."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - psycopg's rollback errors are not peewee's
                if attempt == RETRY_ATTEMPTS or not _retryable(exc) or database.obj.in_transaction():
                    raise
                time.sleep(0.01 * 2 ** attempt)

    return wrapper


def is_statement_timeout(exc: Exception) -> bool:
    """Did PostgreSQL cancel the statement (statement_timeout)?"""
    return _pgcode(exc) == _PG_QUERY_CANCELED


def is_connection_lost(exc: Exception) -> bool:
    """Did the request's PostgreSQL connection go away under it: a connection exception (SQLSTATE
    class 08), the server shutting down or starting (57P01-57P03), or a connection the driver
    now holds as closed (a network drop, which carries no SQLSTATE)?"""
    code = _pgcode(exc)
    if code is not None:
        return code.startswith("08") or code in _PG_SERVER_GONE
    conn = database.obj._state.conn if is_postgres() else None
    return conn is not None and bool(getattr(conn, "closed", False))


def is_unreachable(exc: Exception) -> bool:
    """Could the request get no PostgreSQL connection at all (the server down, refusing or not
    reachable; credentials refused)? A failed connect carries no SQLSTATE and leaves the request
    without a connection."""
    return (is_postgres() and isinstance(exc, OperationalError) and _pgcode(exc) is None
            and database.obj._state.conn is None)


def _retryable(exc: Exception) -> bool:
    if _pgcode(exc) in _PG_RETRY_CODES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def _pgcode(exc: Exception) -> str | None:
    """The SQLSTATE of a PostgreSQL error. peewee re-raises psycopg's error as its own, with only
    the message: the code is on the psycopg error it was raised from (its __context__)."""
    seen = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None):
            return seen.sqlstate
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return None
