"""SQLite's write transactions take turns at a per-process gate before BEGIN IMMEDIATE.

Found by bench/faults.py: with 50 customers writing through 3 x 4 server threads, writers lost
SQLite's unfair busy-polling race until their 5 s timeout ran out (503). At the gate the threads
of a process wait their turn without polling; only one per process asks SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from portal.extensions import db

pytestmark = pytest.mark.live_db


@pytest.fixture
def gated(sqlite_file_app: Callable[..., Flask]) -> Flask:
    app = sqlite_file_app(SQLITE_BUSY_TIMEOUT_MS=3000)
    with app.app_context():
        db.session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO counter VALUES (1, 0)"))
        db.session.commit()
    return app


def _begins(app: Flask) -> list[str]:
    seen: list[str] = []
    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def _seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            if statement == "BEGIN IMMEDIATE":
                seen.append(statement)

    return seen


def test_a_second_writer_waits_at_the_gate_not_in_sqlite(gated: Flask) -> None:
    begins = _begins(gated)
    holding, second_done = threading.Event(), threading.Event()
    release = threading.Event()

    def first() -> None:
        with gated.app_context():
            db.session.execute(text("UPDATE counter SET n = n + 1"))
            holding.set()
            release.wait(10)
            db.session.commit()

    def second() -> None:
        with gated.app_context():
            # Read-modify-write: it reads only after the first committed (no lost update).
            n = db.session.execute(text("SELECT n FROM counter")).scalar_one()
            db.session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
            db.session.commit()
        second_done.set()

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(10)
    two = threading.Thread(target=second)
    two.start()
    assert not second_done.wait(0.5)
    assert begins == ["BEGIN IMMEDIATE"]  # the second one has not asked SQLite yet
    release.set()
    one.join(10)
    two.join(10)
    assert second_done.is_set() and len(begins) == 2
    with gated.app_context():
        assert db.session.execute(text("SELECT n FROM counter")).scalar_one() == 2
        db.session.commit()


def test_the_gate_is_left_when_sqlite_refuses_and_after_a_rollback(
    gated: Flask, tmp_path: Path
) -> None:
    other = sqlite3.connect(
        gated.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None
    )
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with gated.app_context(), pytest.raises(OperationalError, match="locked"):
            db.session.execute(text("UPDATE counter SET n = 5"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    with gated.app_context():
        db.session.rollback()
        db.session.execute(text("UPDATE counter SET n = 6"))
        db.session.rollback()
        # Neither the refused BEGIN nor the rollback kept the gate: this write goes through
        # at once, from another thread too.
        errors: list[BaseException] = []

        def write() -> None:
            try:
                with gated.app_context():
                    db.session.execute(text("UPDATE counter SET n = 7"))
                    db.session.commit()
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(10)
        assert not errors and not thread.is_alive()
        assert db.session.execute(text("SELECT n FROM counter")).scalar_one() == 7
        db.session.commit()
