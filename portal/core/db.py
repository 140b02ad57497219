"""Declarative base, constraint naming, and the SQLite set-up that makes it a real database."""

from __future__ import annotations

import contextvars
import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, scoped_session
from sqlalchemy.types import TypeDecorator

# Alembic's batch mode on SQLite needs every constraint to have a name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Amounts in minor units: 64-bit, so a customer's sums never overflow the column. SQLite's
#: INTEGER already is 64-bit (and autogenerate there compares against INTEGER).
Money = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Whether the current unit of work intends to write. Requests that change state set it,
# so their transaction starts with BEGIN IMMEDIATE and takes the write lock up front; reads
# run without a transaction until their first write (defer_reading_transactions).
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


def _unit_label() -> str:
    from flask import has_request_context, request

    if has_request_context():
        return f"{request.method} {request.endpoint}"
    return unit_label.get()


#: What the current unit of work outside a request is (a job's name), for the lock log.
unit_label: contextvars.ContextVar[str] = contextvars.ContextVar("unit_label", default="-")

lock_log = logging.getLogger("portal.sqlite_lock")


def configure_sqlite(
    engine: Engine, busy_timeout_ms: int, lock_log_ms: int = 0, switch_interval_ms: float = 0
) -> None:
    """SQLAlchemy's documented recipe: take pysqlite's transaction handling away and
    emit BEGIN ourselves, so that SAVEPOINTs work and writers queue instead of failing.

    Write transactions of one process take turns at a lock of their own before ``BEGIN
    IMMEDIATE`` (the write gate): SQLite's busy handler polls with growing sleeps and is not
    fair, so with many threads a writer could lose the race again and again until its busy
    timeout ran out; at the gate, threads of a process wait without polling and without
    competing for the interpreter lock, and only one per process polls SQLite.
    ``switch_interval_ms`` shortens Python's thread switch interval: every SQLite call
    releases the interpreter lock, and a thread holding SQLite's write lock waited up to the
    default 5 ms to get it back behind busy threads, once per statement (a 15 ms write held
    the lock for 200-300 ms on a busy server).

    ``lock_log_ms`` > 0 logs (``portal.sqlite_lock``) every write transaction that waited
    for or held SQLite's write lock at least that long, with its endpoint or job."""
    if switch_interval_ms:
        sys.setswitchinterval(switch_interval_ms / 1000)
    gate = threading.Lock()
    gate_timeout = busy_timeout_ms / 1000

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    def _begin_writing(conn: Any) -> None:
        asked = time.perf_counter()
        if not gate.acquire(timeout=gate_timeout):
            raise OperationalError(
                "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
            )
        conn.info[_GATE_KEY] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _leave_gate(conn.info)
            raise
        if lock_log_ms:
            conn.info["lock_timing"] = (asked, time.perf_counter())

    # pysqlite runs each statement on its own while no BEGIN was sent: reading needs nothing.
    defer_reading_transactions(engine, start=_begin_writing, read=None, end=None)

    def _leave_gate(info: dict[str, Any]) -> None:
        if info.pop(_GATE_KEY, False):
            gate.release()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end_leave_gate(conn: Any) -> None:
        _leave_gate(conn.info)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # A connection given back without commit or rollback (invalidated, say).
        if record is not None:
            _leave_gate(record.info)

    if not lock_log_ms:
        return

    def _on_end(conn: Any) -> None:
        timing = conn.info.pop("lock_timing", None)
        if timing is None:
            return
        asked, got = timing
        ended = time.perf_counter()
        waited, held = (got - asked) * 1000, (ended - got) * 1000
        if waited >= lock_log_ms or held >= lock_log_ms:
            lock_log.warning(
                "write lock: waited %.0f ms, held %.0f ms: %s", waited, held, _unit_label()
            )

    event.listen(engine, "commit", _on_end, insert=True)
    event.listen(engine, "rollback", _on_end, insert=True)


_GATE_KEY = "write_gate_held"

#: On a connection whose unit of work has only read so far, without a database transaction.
_READING_KEY = "reading_without_transaction"

#: How statements that read begin: a SELECT, a PRAGMA (SQLite's settings of the connection,
#: outside any transaction), a SHOW (PostgreSQL's settings).
_READS = ("SELECT", "PRAGMA ", "SHOW ")
_LOCKING_CLAUSES = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")


def needs_transaction(statement: str, context: Any) -> bool:
    """Whether a statement must run in a transaction: everything but a plain read (writes,
    SAVEPOINT, DDL, a WITH that may write), a SELECT that locks rows (its lock would end with
    the statement), and one read through a server-side cursor (PostgreSQL declares those in a
    transaction only)."""
    if not statement[:32].lstrip()[:7].upper().startswith(_READS):
        return True
    if getattr(context, "_is_server_side", False):
        return True
    return any(clause in statement for clause in _LOCKING_CLAUSES)


def defer_reading_transactions(
    engine: Engine,
    *,
    start: Callable[[Any], None] | None,
    read: Callable[[Any], None] | None,
    end: Callable[[Any], None] | None,
) -> None:
    """Units of work without write intent (GET requests) read without a transaction, and
    begin one at their first statement that needs it (``needs_transaction``).

    A reading page otherwise pays for a BEGIN and a COMMIT around its few SELECTs: on
    PostgreSQL two of its five round trips, on SQLite a fifth of a fast page's database time.
    Each SELECT still sees committed data only, as of its own start: PostgreSQL's default
    isolation (READ COMMITTED) already gave each statement of a transaction its own snapshot.
    What a GET writes (a visit, a confirmed address) is as atomic as before: the transaction
    begins just before its first write, and the request's commit or rollback ends it. On
    SQLite that transaction asks for the write lock first (``BEGIN IMMEDIATE``) instead of
    upgrading a read snapshot that another writer may have made stale.

    ``start(conn)`` begins the transaction of a unit that intends to write, or of a reading
    one at its first such statement; ``read(dbapi_connection)`` switches the driver to
    running each statement on its own, ``end(dbapi_connection)`` back (after the unit, and
    whenever the connection returns to the pool).
    """

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if write_intent.get():
            if start is not None:
                start(conn)
            return
        conn.info[_READING_KEY] = True
        if read is not None:
            read(conn.connection.dbapi_connection)

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(
        conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if not conn.info.get(_READING_KEY) or not needs_transaction(statement, context):
            return
        del conn.info[_READING_KEY]
        if end is not None:
            end(conn.connection.dbapi_connection)
        if start is not None:
            start(conn)

    def _on_end(conn: Any) -> None:
        if conn.info.pop(_READING_KEY, False) and end is not None:
            end(conn.connection.dbapi_connection)

    event.listen(engine, "commit", _on_end)
    event.listen(engine, "rollback", _on_end)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        if record is None or not record.info.pop(_READING_KEY, False):
            return
        if end is not None and dbapi_connection is not None:
            end(dbapi_connection)


def configure_postgresql(engine: Engine) -> None:
    """psycopg begins a transaction before the first statement unless in autocommit mode:
    reading units of work run in autocommit mode (defer_reading_transactions). Its cursors
    describe a result only when asked (portal.core.postgresql)."""

    def _autocommit(dbapi_connection: Any) -> None:
        dbapi_connection.autocommit = True

    def _transactions(dbapi_connection: Any) -> None:
        if not dbapi_connection.closed:  # a connection the server dropped is discarded
            dbapi_connection.autocommit = False

    defer_reading_transactions(engine, start=None, read=_autocommit, end=_transactions)

    from portal.core.postgresql import describe_on_demand

    @event.listens_for(engine, "connect")
    def _cursors(dbapi_connection: Any, _record: Any) -> None:
        describe_on_demand(dbapi_connection)


_WROTE_KEY = "transaction_wrote"


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, _context: Any) -> None:
    session.info[_WROTE_KEY] = True


_CONNECTIONS_KEY = "transaction_connections"


@event.listens_for(Session, "after_begin")
def _note_connection(session: Session, _transaction: Any, connection: Any) -> None:
    session.info.setdefault(_CONNECTIONS_KEY, []).append(connection)


@event.listens_for(Session, "after_transaction_end")
def _forget_connections(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the unit of work's own transaction, not a savepoint
        session.info.pop(_CONNECTIONS_KEY, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_write(session: Session) -> None:
    session.info.pop(_WROTE_KEY, None)


def has_only_read(session: Session) -> bool:
    """Whether the session's unit of work has nothing to commit: no pending change, and on
    each of its connections no database transaction begun (defer_reading_transactions)."""
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE_KEY):
        return False
    connections = session.info.get(_CONNECTIONS_KEY, ())
    return bool(connections) and all(c.info.get(_READING_KEY) for c in connections)


def release_idle_transaction(session: Session) -> bool:
    """End the session's transaction if it has only read, keeping loaded objects loaded.

    For slow work in the middle of a unit of work (hashing a password): on SQLite a writing
    request's transaction holds the database's write lock from its first query, and keeping
    it through the slow part makes every other writer wait (and, past the busy timeout, fail).
    A transaction that has written anything is left alone. True when one was ended.
    """
    if not session.in_transaction() or session.info.get(_WROTE_KEY):
        return False
    if session.new or session.dirty or session.deleted:
        return False
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
    return True


@contextmanager
def separate_write(scoped: Session | scoped_session[Any]) -> Iterator[None]:
    """A small write in a reading request (a GET that records a visit), in its own transaction.

    The reading unit is ended (loaded objects stay loaded), the write runs in a transaction
    that asks for SQLite's write lock first (``BEGIN IMMEDIATE``, waiting its turn) and is
    committed at once, so the page's own failure later cannot undo it and no lock is held
    while the page renders; reading goes on afterwards. A transaction that has already
    written is simply continued.
    """
    session: Session = scoped() if isinstance(scoped, scoped_session) else scoped
    if not release_idle_transaction(session):
        yield
        return
    token = write_intent.set(True)
    expire = session.expire_on_commit
    try:
        yield
        session.expire_on_commit = False
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = expire
        write_intent.reset(token)


#: Names of database objects that migrations create by hand and models cannot describe
#: (full-text tables, trigram indexes). Features add theirs; autogenerate and the
#: models-vs-migrations test leave them out of the comparison.
UNMANAGED_SCHEMA_NAMES: set[str] = set()


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: skip the objects listed in UNMANAGED_SCHEMA_NAMES."""
    return not (type_ in ("table", "index") and name in UNMANAGED_SCHEMA_NAMES)


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it has been idle ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip before every request's first query.
    A connection that was in use a moment ago is alive; one that has waited longer may have
    been closed by a database restart, an idle timeout or a proxy, and is checked, and
    replaced when dead (the pool tries again with a new one). A database that restarts
    within ``idle_seconds`` can still cost one failed request per process: that failure
    invalidates the pool, and every older connection is replaced.
    """

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out another.
            raise DisconnectionError("the connection did not answer") from error


def read_first(statement: Any, params: dict[str, Any], scoped: scoped_session[Any]) -> Any:
    """The first row of one read, through the session's connection without the ORM's
    execution layer, or None.

    In a reading unit of work it runs without a transaction (defer_reading_transactions): on
    PostgreSQL one round trip, not three with BEGIN and COMMIT, which a page answered from
    the kept copies (or with 304) would pay for this read alone. Inside a transaction it
    runs there.
    """
    session: Session = scoped()
    return session.connection().execute(statement, params).first()
