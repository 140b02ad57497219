"""psycopg's cursor, with a result description built only when something reads it.

psycopg describes every result it receives as a list of ``Column`` objects, one per column,
each decoding its name and looking its type up, whenever ``cursor.description`` is read.
SQLAlchemy reads it after every statement that returns rows, but for a statement it has
run before it keeps its own description of the result and only checks that there is one.
The signed-in user's row alone has some fifty columns, so on every page the worker built
and threw away fifty objects (about 5 % of a signed-in request's CPU). Here the description
is a sequence of the same ``Column`` objects, built on its first read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from psycopg import Column, Cursor, pq

_DESCRIBED = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)


class _ResultOf:
    """The cursor as it was when it received ``pgresult``: what a Column reads."""

    def __init__(self, cursor: Cursor[Any], pgresult: pq.abc.PGresult) -> None:
        self._cursor = cursor
        self.pgresult = pgresult

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class Description(Sequence[Column]):
    """``cursor.description`` of one result: its length is known at once, its columns are
    built on first use, from that result even if the cursor has moved on since."""

    __slots__ = ("_columns", "_count", "_cursor", "_pgresult")

    def __init__(self, cursor: Cursor[Any], pgresult: pq.abc.PGresult) -> None:
        self._cursor = cursor
        self._pgresult = pgresult
        self._count = pgresult.nfields
        self._columns: list[Column] | None = None

    def _built(self) -> list[Column]:
        if self._columns is None:
            cursor: Any = self._cursor
            if cursor.pgresult is not self._pgresult:
                cursor = _ResultOf(cursor, self._pgresult)
            self._columns = [Column(cursor, index) for index in range(self._count)]
        return self._columns

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        return self._built() == other

    def __repr__(self) -> str:
        return repr(self._built())


class DescribeOnDemandCursor(Cursor[Any]):
    @property
    def description(self) -> Sequence[Column] | None:  # type: ignore[override]
        result = self.pgresult
        if result is not None and (result.nfields or result.status in _DESCRIBED):
            return Description(self, result)
        return None


def describe_on_demand(dbapi_connection: Any) -> None:
    dbapi_connection.cursor_factory = DescribeOnDemandCursor
