"""Units of work that only read run without a database transaction until they need one.

A GET's few SELECTs used to pay for a BEGIN and a COMMIT: on PostgreSQL two more round
trips through the server on the same cores, on SQLite a fifth of a fast page's database
time. What a reading unit writes must stay as atomic as before, and a SELECT that locks rows
must still hold its lock until the unit ends. Runs on both databases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import text

from portal.core.db import has_only_read, needs_transaction, write_intent
from portal.extensions import db

# The suite's usual isolation holds every test inside one outer transaction: these tests need
# the connections as a request gets them, and clean up what they commit.
pytestmark = pytest.mark.live_db


@pytest.fixture
def probe(app: Flask) -> Iterator[None]:
    with app.app_context():
        db.session.execute(text("CREATE TABLE reading_probe (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO reading_probe VALUES (1, 0), (2, 0)"))
        db.session.commit()
    yield
    with app.app_context():
        db.session.rollback()
        db.session.execute(text("DROP TABLE reading_probe"))
        db.session.commit()
        db.session.remove()


def _in_transaction() -> bool:
    """Whether the database connection of the session is inside a transaction now."""
    dbapi = db.session.connection().connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection):
        return dbapi.in_transaction
    from psycopg.pq import TransactionStatus

    return bool(dbapi.info.transaction_status != TransactionStatus.IDLE)


@contextmanager
def _reading() -> Iterator[None]:
    """A unit of work without write intent, as a GET's."""
    token = write_intent.set(False)
    try:
        yield
    finally:
        write_intent.reset(token)


def _values() -> list[int]:
    rows = db.session.execute(text("SELECT n FROM reading_probe ORDER BY id"))
    return list(rows.scalars())


@pytest.mark.usefixtures("probe")
def test_a_reading_unit_runs_its_selects_outside_a_transaction(app: Flask) -> None:
    with app.app_context(), _reading():
        assert _values() == [0, 0]
        assert not _in_transaction()
        assert _values() == [0, 0]
        assert not _in_transaction()
        db.session.commit()


@pytest.mark.usefixtures("probe")
def test_a_unit_that_intends_to_write_is_one_transaction_from_its_first_read(app: Flask) -> None:
    with app.app_context():
        assert write_intent.get() is True
        assert _values() == [0, 0]
        assert _in_transaction()
        db.session.rollback()


@pytest.mark.usefixtures("probe")
def test_the_first_write_of_a_reading_unit_begins_a_transaction_that_rollback_undoes(
    app: Flask,
) -> None:
    with app.app_context(), _reading():
        assert _values() == [0, 0]
        db.session.execute(text("UPDATE reading_probe SET n = 1 WHERE id = 1"))
        assert _in_transaction()
        db.session.execute(text("UPDATE reading_probe SET n = 2 WHERE id = 2"))
        assert _values() == [1, 2]
        db.session.rollback()  # a failed request: neither write stays
        assert _values() == [0, 0]
        db.session.commit()


@pytest.mark.usefixtures("probe")
def test_what_a_reading_unit_writes_is_committed_with_it(app: Flask) -> None:
    with app.app_context():
        with _reading():
            db.session.execute(text("UPDATE reading_probe SET n = 3 WHERE id = 1"))
            db.session.commit()
        db.session.remove()
        assert _values() == [3, 0]
        db.session.rollback()


@pytest.mark.usefixtures("probe")
def test_after_a_reading_unit_the_connection_is_transactional_again(app: Flask) -> None:
    """Whether the reading unit ends with commit, rollback or a plain close (the request's
    teardown), the next unit of work that writes gets its transaction from the start."""
    for end in ("commit", "rollback", "remove"):
        with app.app_context():
            with _reading():
                _values()
                assert not _in_transaction()
                getattr(db.session, end)()
            _values()
            assert _in_transaction(), end
            db.session.rollback()


def test_a_savepoint_begins_the_transaction(app: Flask) -> None:
    with app.app_context(), _reading():
        with db.session.begin_nested():
            assert _in_transaction()
        db.session.rollback()


@pytest.mark.usefixtures("probe")
def test_a_select_that_locks_rows_holds_them_until_the_unit_ends(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no row locks")
        with _reading():
            db.session.execute(text("SELECT n FROM reading_probe WHERE id = 1 FOR UPDATE"))
            assert _in_transaction(), "the lock would have ended with the statement"
            db.session.rollback()


@pytest.mark.parametrize(
    ("statement", "needs"),
    [
        ("SELECT 1", False),
        ("  select n from t", False),
        ("SELECT n FROM t WHERE id = 1 FOR UPDATE", True),
        ("SELECT n FROM t FOR UPDATE OF t SKIP LOCKED", True),
        ("SELECT n FROM t FOR NO KEY UPDATE", True),
        ("SELECT n FROM t FOR SHARE", True),
        ("SELECT n FROM t FOR KEY SHARE", True),
        ("INSERT INTO t VALUES (1)", True),
        ("UPDATE t SET n = 1", True),
        ("DELETE FROM t", True),
        ("WITH x AS (DELETE FROM t RETURNING id) SELECT id FROM x", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("CREATE TABLE t (id INTEGER)", True),
        ("PRAGMA journal_mode", False),
        ("SHOW plan_cache_mode", False),
        ("EXPLAIN ANALYZE DELETE FROM t", True),
    ],
)
def test_which_statements_need_a_transaction(statement: str, needs: bool) -> None:
    assert needs_transaction(statement, None) is needs


class _ServerSide:
    _is_server_side = True


def test_a_server_side_cursor_needs_a_transaction() -> None:
    assert needs_transaction("SELECT 1", _ServerSide()) is True


def test_on_sqlite_a_write_after_another_writer_committed_does_not_fail(
    sqlite_file_app: Callable[..., Flask],
) -> None:
    """A reading unit holds no snapshot that another writer's commit could make stale: its
    first write waits for the write lock like any writer's, instead of failing at once."""
    app = sqlite_file_app(SQLITE_BUSY_TIMEOUT_MS=2000)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with app.app_context():
        db.session.execute(text("CREATE TABLE seen (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO seen VALUES (1, 0), (2, 0)"))
        db.session.commit()
        with _reading():
            assert db.session.execute(text("SELECT n FROM seen WHERE id = 1")).scalar() == 0
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("UPDATE seen SET n = n + 1 WHERE id = 2")
            other.close()
            db.session.execute(text("UPDATE seen SET n = 1 WHERE id = 1"))
            db.session.commit()
        assert db.session.execute(text("SELECT n FROM seen ORDER BY id")).scalars().all() == [1, 1]


@pytest.mark.usefixtures("probe")
def test_only_a_unit_that_read_alone_has_nothing_to_commit(app: Flask) -> None:
    from portal.accounts.models import Role

    with app.app_context(), _reading():
        _values()
        assert has_only_read(db.session())
        db.session.add(Role(name="probe-role", description=""))
        assert not has_only_read(db.session()), "a pending object"
        db.session.rollback()
        _values()
        db.session.execute(text("UPDATE reading_probe SET n = 4 WHERE id = 2"))
        assert not has_only_read(db.session()), "a write through Core, never flushed"
        db.session.rollback()


def _probe_app(make: Callable[..., Flask]) -> Flask:
    app = make()

    def write() -> str:
        db.session.execute(text("UPDATE seen SET n = n + 1 WHERE id = 1"))
        return "written"

    def fail() -> tuple[str, int]:
        db.session.execute(text("UPDATE seen SET n = n + 100 WHERE id = 1"))
        return "failed", 500

    def read() -> str:
        return str(db.session.execute(text("SELECT n FROM seen WHERE id = 1")).scalar())

    app.add_url_rule("/probe/write", "probe_write", write)
    app.add_url_rule("/probe/fail", "probe_fail", fail)
    app.add_url_rule("/probe/read", "probe_read", read)
    with app.app_context():
        db.session.execute(text("CREATE TABLE seen (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO seen VALUES (1, 0)"))
        db.session.commit()
    return app


def test_a_get_commits_what_it_wrote_and_nothing_when_it_only_read(
    sqlite_file_app: Callable[..., Flask],
) -> None:
    from sqlalchemy import event

    app = _probe_app(sqlite_file_app)
    client = app.test_client()
    with app.app_context():
        ended: list[str] = []
        event.listen(db.engine, "commit", lambda _conn: ended.append("commit"))
        assert client.get("/probe/read").get_data(as_text=True) == "0"
        assert ended == [], "a page that only read commits nothing"
        assert client.get("/probe/write").status_code == 200
        assert ended == ["commit"]
        assert client.get("/probe/fail").status_code == 500
        assert client.get("/probe/read").get_data(as_text=True) == "1"
