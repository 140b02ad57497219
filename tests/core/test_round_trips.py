"""Round trips to a server database: the idle-connection check and reads without a transaction.

On PostgreSQL every statement is a round trip through the database server, which runs on the
same cores; a page answered from the kept copies must not pay four (ping, BEGIN, its read,
COMMIT) for its one read.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, literal, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import scoped_session, sessionmaker

from portal.core.db import configure_postgresql, ping_after_idle, read_first, write_intent


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def _terminate(engine: Engine, pid: int) -> None:
    other = create_engine(engine.url, poolclass=None)
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()
    other.dispose()
    time.sleep(0.1)


def test_an_idle_connection_closed_by_the_server_is_replaced(server_engine: Engine) -> None:
    ping_after_idle(server_engine, idle_seconds=0.2)
    pid = _backend_pid(server_engine)
    _terminate(server_engine, pid)
    time.sleep(0.3)
    # Checked because it waited: found dead and replaced, the request never sees it.
    assert _backend_pid(server_engine) != pid


def test_a_connection_in_use_a_moment_ago_is_not_checked(server_engine: Engine) -> None:
    ping_after_idle(server_engine, idle_seconds=60)
    pings: list[Any] = []
    original = server_engine.dialect.do_ping
    server_engine.dialect.do_ping = lambda c: pings.append(c) or original(c)  # type: ignore[method-assign]
    pid = _backend_pid(server_engine)
    assert _backend_pid(server_engine) == pid
    assert pings == []
    # What the check is for: an unchecked dead connection fails once, and that failure
    # replaces every connection of the pool.
    _terminate(server_engine, pid)
    with pytest.raises(OperationalError):
        _backend_pid(server_engine)
    assert _backend_pid(server_engine) != pid


def _statements(engine: Engine) -> Any:
    ran: list[tuple[str, bool]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        ran.append((statement, bool(conn.connection.dbapi_connection.autocommit)))

    event.listen(engine, "before_cursor_execute", record)
    return ran


def test_a_lone_read_runs_without_a_transaction(server_engine: Engine) -> None:
    configure_postgresql(server_engine)
    scoped = scoped_session(sessionmaker(bind=server_engine))
    ran = _statements(server_engine)
    token = write_intent.set(False)
    try:
        row = read_first(select(literal(7).label("seven")), {}, scoped)
        assert row.seven == 7
        assert ran == [(ran[0][0], True)], "one statement, in autocommit: no BEGIN, no COMMIT"
    finally:
        write_intent.reset(token)
        scoped.remove()


def test_inside_a_transaction_the_read_joins_it(server_engine: Engine) -> None:
    configure_postgresql(server_engine)
    scoped = scoped_session(sessionmaker(bind=server_engine))
    session = scoped()
    mine = session.scalar(text("SELECT pg_backend_pid()"))
    ran = _statements(server_engine)
    row = read_first(select(text("pg_backend_pid() AS pid")), {}, scoped)
    assert row.pid == mine, "the same connection and transaction as the session's"
    assert ran[0][1] is False
    scoped.remove()


def test_on_sqlite_the_read_runs_in_the_session(sqlite_file_app: Any) -> None:
    from portal.extensions import db

    app = sqlite_file_app()
    with app.app_context():
        assert read_first(select(literal(1).label("one")), {}, db.session).one == 1


def test_statements_planned_with_their_values_are_never_prepared(app: Flask) -> None:
    from portal.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only")
        plain = select(literal(1).label("plain_probe"))
        valued = select(literal(2).label("valued_probe")).execution_options(plan_with_values=True)
        for _ in range(8):  # psycopg prepares a statement on its sixth run
            db.session.execute(plain).all()
            db.session.execute(valued).all()
        prepared = db.session.execute(
            text("SELECT statement FROM pg_prepared_statements")
        ).scalars()
        statements = " ".join(prepared)
        assert "plain_probe" in statements, "the usual statements keep their generic plans"
        assert "valued_probe" not in statements
