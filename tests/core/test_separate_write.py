"""A small write inside a reading request gets a transaction of its own, committed at once.

A GET used to read in a plain BEGIN, and when another writer committed before that reading
transaction wrote (the job worker recording a sent mail, say), SQLite refused the upgrade at
once. Reads now run without a transaction (tests/core/test_reading_transactions.py), so that
failure is gone; the helper still commits the small write on its own, before the page goes on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import text

from portal.core.db import separate_write, write_intent
from portal.extensions import db

pytestmark = pytest.mark.live_db


@pytest.fixture
def app(sqlite_file_app: Callable[..., Flask]) -> Flask:
    app = sqlite_file_app(SQLITE_BUSY_TIMEOUT_MS=2000)
    with app.app_context():
        db.session.execute(text("CREATE TABLE seen (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO seen VALUES (1, 0), (2, 0)"))
        db.session.commit()
    return app


def _other_writer_commits(app: Flask) -> None:
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("UPDATE seen SET n = n + 1 WHERE id = 2")
    finally:
        other.close()


def _read_then(app: Flask, write_apart: bool) -> int:
    token = write_intent.set(False)  # a GET
    try:
        assert db.session.execute(text("SELECT n FROM seen WHERE id = 1")).scalar() == 0
        _other_writer_commits(app)
        if write_apart:
            with separate_write(db.session):
                db.session.execute(text("UPDATE seen SET n = 1 WHERE id = 1"))
        else:
            db.session.execute(text("UPDATE seen SET n = 1 WHERE id = 1"))
        # Reading goes on after the write, in a reading transaction again.
        value = db.session.execute(text("SELECT n FROM seen WHERE id = 1")).scalar()
        db.session.commit()
        return int(value)
    finally:
        db.session.rollback()
        write_intent.reset(token)


def test_a_write_without_the_helper_waits_its_turn_too(app: Flask) -> None:
    with app.app_context():
        assert _read_then(app, write_apart=False) == 1


def test_the_write_apart_waits_its_turn_and_commits(app: Flask) -> None:
    with app.app_context():
        assert _read_then(app, write_apart=True) == 1
        assert db.session.execute(text("SELECT n FROM seen WHERE id = 1")).scalar() == 1
        assert write_intent.get() is True  # outside a request the default is back


def test_a_transaction_that_already_wrote_is_continued(app: Flask) -> None:
    with app.app_context():
        db.session.execute(text("UPDATE seen SET n = 5 WHERE id = 2"))
        db.session.info["transaction_wrote"] = True
        with separate_write(db.session):
            db.session.execute(text("UPDATE seen SET n = 7 WHERE id = 1"))
        db.session.rollback()  # nothing was committed by the helper
        assert db.session.execute(text("SELECT n FROM seen ORDER BY id")).scalars().all() == [0, 0]
