"""The hottest statements, with their SQL built once per process instead of every call.

Django compiles a query's SQL from the model's fields on every call. For the wide rows
of the public hot paths -- the link and its merchant every page view reads, the payment,
timeline event and sandbox session every checkout writes, 20-30 columns each -- compiling
costs more CPU than PostgreSQL spends running the statement (docs/scaling.md). Both
helpers here keep the ORM's own field handling and only reuse the statement's text:

- ``insert()``: defaults, ``auto_now_add`` and ``get_db_prep_save`` (so encrypted fields
  are encrypted and JSON adapted exactly as ``save()`` would). It writes one new row and
  nothing else: no ``pre_save``/``post_save`` signals (Paylinks has no receivers for the
  models it is used on) and no parent rows; anything it cannot do the way ``save()``
  does goes through ``save()``.
- ``CompiledQuery``: a queryset compiled once, then run with new parameter values; rows
  become model instances the way ``QuerySet.__iter__`` makes them (field converters, so
  encrypted fields decrypt strictly; ``select_related`` objects; deferred fields;
  annotations as attributes).

On PostgreSQL both run their statements as server-side prepared statements (one per
statement and connection, ``_cursor``): PostgreSQL then parses and plans each once per
connection instead of once per request, which on the merchant API's link read was a
third of the database's CPU (docs/scaling.md). Everything else keeps Django's
client-side binding. ``DATABASE_PREPARED_STATEMENTS=false`` turns this off, for a
connection pooler that cannot keep prepared statements (PgBouncer before 1.21, or in
transaction mode without ``max_prepared_statements``; docs/operations.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators


@cache
def _statement(model: type[Model], alias: str) -> tuple[str, tuple[Field, ...], bool] | None:
    """The INSERT for ``model`` on ``alias``, its fields, and whether it returns the id;
    None when the model needs more than one plain INSERT."""
    meta = model._meta
    connection = connections[alias]
    if meta.parents or any(f.generated for f in meta.local_concrete_fields):
        return None
    auto = meta.auto_field
    returning = [f for f in meta.db_returning_fields if f is not auto]
    if returning or (auto is not None and auto is not meta.pk):
        return None  # columns the database fills in besides an auto id: let save() read them
    fields = tuple(f for f in meta.local_concrete_fields if f is not auto)
    q = connection.ops.quote_name
    columns = ", ".join(q(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Only the model's own quoted identifiers are formatted in; values are parameters.
    sql = f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    returns_id = auto is not None
    if auto is not None and connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {q(str(auto.column))}"
    return sql, fields, returns_id


def insert[M: Model](obj: M, *, using: str = "default") -> M:
    """Insert ``obj`` as a new row, like ``obj.save(force_insert=True)``; returns it."""
    statement = _statement(type(obj), using) if obj._state.adding else None
    if statement is None or (statement[2] and obj.pk is not None):
        obj.save(force_insert=True, using=using)
        return obj
    sql, fields, returns_id = statement
    connection = connections[using]
    values = [f.pre_save(obj, True) for f in fields]
    if any(hasattr(v, "resolve_expression") for v in values):
        obj.save(force_insert=True, using=using)  # expressions need the compiler
        return obj
    params = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        if returns_id:
            if connection.features.can_return_columns_from_insert:
                row = cursor.fetchone()
                new_id = row[0]
            else:
                new_id = connection.ops.last_insert_id(
                    cursor, obj._meta.db_table, str(obj._meta.pk.column)
                )
            obj.pk = obj._meta.pk.to_python(new_id)
    obj._state.adding = False
    obj._state.db = using
    return obj


Converters = dict[int, tuple[list[Callable[..., Any]], Any]]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int | None, ...]  # for each SQL parameter: which runtime value, or None
    converters: Converters
    model: type[Model]
    start: int
    end: int
    init_list: tuple[str, ...]
    related: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]  # (attribute, column) like ModelIterable sets


class CompiledQuery[M: Model]:
    """A queryset built by ``build(*values)``, compiled once per database, run many times.

    Each of ``build``'s arguments must reach the SQL as one bound parameter, unchanged --
    a plain equality filter on a text column does -- so that a marker value can stand in
    for it while compiling. Compiling checks that every marker is found.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], arity: int = 1) -> None:
        self._build = build
        self._arity = arity
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        markers = tuple(f"\x1ffastsql-{id(self)}-{n}\x1f" for n in range(self._arity))
        queryset = self._build(*markers).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = tuple(markers.index(p) if p in markers else None for p in params)
        if sorted(s for s in slots if s is not None) != list(range(self._arity)):
            raise TypeError("Each value must reach the SQL exactly once, as a parameter")
        klass_info = compiler.klass_info
        select = compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        if queryset._known_related_objects:  # type: ignore[attr-defined]
            raise TypeError("CompiledQuery runs plain model querysets only")
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=tuple(f[0].target.attname for f in select[start:end]),
            related=tuple(get_related_populators(klass_info, select, alias)),
            annotations=tuple(compiler.annotation_col_map.items()),
        )

    def all(self, *values: Any, using: str = "default") -> list[M]:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        params = [
            values[slot] if slot is not None else default
            for slot, default in zip(compiled.slots, compiled.params, strict=True)
        ]
        connection = connections[using]
        with _cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows: Iterable[Any] = cursor.fetchall()
        if compiled.converters:
            rows = _convert(rows, compiled.converters, connection)
        found = []
        for row in rows:
            obj = compiled.model.from_db(
                using, list(compiled.init_list), row[compiled.start : compiled.end]
            )
            for populator in compiled.related:
                populator.populate(row, obj)
            for name, column in compiled.annotations:
                setattr(obj, name, row[column])
            found.append(obj)
        return found  # type: ignore[return-value]

    def first(self, *values: Any, using: str = "default") -> M | None:
        found = self.all(*values, using=using)
        return found[0] if found else None


def _cursor(connection: Any) -> Any:
    """A cursor whose statements are prepared (see the module's docstring): on PostgreSQL
    with psycopg 3 when the connection allows prepared statements (its
    ``prepare_threshold``, from the database's OPTIONS), else Django's own cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    # What connection.cursor() does, with a server-binding cursor (the class Django uses
    # for OPTIONS["server_side_binding"]) in place of the client-side one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw_connection = connection.connection
    if getattr(raw_connection, "prepare_threshold", None) is None:
        return connection.cursor()  # psycopg 2, or prepared statements turned off
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    with connection.wrap_database_errors:
        raw = _preparing_cursor_class()(raw_connection)
        # As Django's create_cursor(): the session's time zone for timestamptz values.
        loader = raw_connection.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != getattr(loader, "timezone", None):
            register_tzloader(connection.timezone, raw)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return _debug_wrapper_class()(raw, connection)
    return connection.make_cursor(raw)


_TIMESTAMPTZ_OID = 1184


@cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Prepares each statement on its first run (psycopg's ``prepare=True``)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)  # type: ignore[misc]

    return PreparingCursor


@cache
def _debug_wrapper_class() -> type:
    from django.db.backends.postgresql.base import CursorDebugWrapper
    from django.db.backends.utils import CursorWrapper
    from psycopg import errors

    class PreparedDebugWrapper(CursorDebugWrapper):
        """Logs (connection.queries, assertNumQueries) the statement with its values in,
        as Django shows server-side bound statements: psycopg keeps no text of a prepared
        statement's run for Django to read back."""

        def execute(self, sql: Any, params: Any = None) -> Any:
            try:
                shown = self.db.ops.compose_sql(sql, params)
            except errors.DataError:
                shown = sql
            with self.debug_sql(shown, params):
                return CursorWrapper.execute(self, sql, params)

    return PreparedDebugWrapper


def _convert(rows: Iterable[Any], converters: Converters, connection: Any) -> Iterator[list[Any]]:
    """``SQLCompiler.apply_converters``, with this thread's connection."""
    for row in rows:
        row = list(row)
        for pos, (funcs, expression) in converters.items():
            value = row[pos]
            for func in funcs:
                value = func(value, expression, connection)
            row[pos] = value
        yield row
