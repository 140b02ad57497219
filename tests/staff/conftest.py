from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import event

from portal.extensions import db


@dataclass
class QueryCounter:
    count: int = 0
    statements: list[str] = field(default_factory=list)


@contextlib.contextmanager
def count_queries(app: Flask) -> Iterator[QueryCounter]:
    """Count the SQL statements the app sends while the block runs."""
    counter = QueryCounter()
    with app.app_context():
        engine = db.engines[None]
    target = engine.engine if hasattr(engine, "engine") else engine

    def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        counter.count += 1
        counter.statements.append(statement)

    event.listen(target, "before_cursor_execute", _count)
    try:
        yield counter
    finally:
        event.remove(target, "before_cursor_execute", _count)
