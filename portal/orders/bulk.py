"""Bulk writes for large tables: COPY on PostgreSQL, the driver's executemany on SQLite."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from portal.extensions import db


def _plain(value: Any, dialect: str) -> Any:
    """A value as the driver takes it: UTC datetimes naive (SQLAlchemy's storage format)."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None)
        if dialect == "sqlite":
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def bulk_insert(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) as fast as the database allows: COPY on
    PostgreSQL, the driver's executemany on SQLite, Core executemany elsewhere."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect.name
    columns = list(rows[0])
    quoted = ", ".join(f'"{name}"' for name in columns)
    raw: Any = connection.connection.dbapi_connection
    if dialect == "postgresql":
        statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([_plain(row[name], dialect) for name in columns])
    elif dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
        cursor = raw.cursor()
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})',  # noqa: S608 - fixed names
            ([_plain(row[name], dialect) for name in columns] for row in rows),
        )
        cursor.close()
    else:
        db.session.execute(insert(table), rows)


def next_id(model: Any) -> int:
    """The first free id of ``model``'s table: bulk rows carry explicit ids from here."""
    from sqlalchemy import func, select

    return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def reset_sequences(*tables: str) -> None:
    """After explicit ids, PostgreSQL's sequences must continue after the highest one."""
    from sqlalchemy import text

    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608 - fixed names
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
            )
        )


def write_chunk(
    counts: dict[str, int], tables: list[tuple[str, Any, list[dict[str, Any]]]]
) -> None:
    """Write one chunk of generated rows: each ``(name, table, rows)`` in order (parents
    first), one commit, the rows counted under their name and the lists emptied for the next
    chunk."""
    for _name, table, rows in tables:
        bulk_insert(table, rows)
    db.session.commit()
    for name, _table, rows in tables:
        counts[name] += len(rows)
        rows.clear()
