"""Mail through the outbox and a real worker to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from portal.core.db import utcnow, write_intent
from portal.extensions import db
from portal.jobs import outbox
from portal.jobs.models import OutboxMessage
from tests.jobs.conftest import LIVE_DOMAIN, wait_for

pytestmark = pytest.mark.live_db


def _queue(to: str, n: int = 1) -> None:
    for i in range(n):
        outbox.queue_rendered(to=to, subject=f"Hello {i}", text=f"Body {i}", template="test")


def _statuses(app) -> collections.Counter:
    # A reading transaction: on SQLite a worker waiting for the server's answer to the final
    # "." holds the write lock (with "sent" written, not committed).
    token = write_intent.set(False)
    try:
        with app.app_context():
            rows = db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
            db.session.commit()
    finally:
        write_intent.reset(token)
    return collections.Counter(dict(rows))


def test_mail_arrives_after_commit_and_not_before(app, live_worker, mailbox):
    address = f"first{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address)
        # The worker is running and a sweep is asked for: the row is not committed yet.
        live_worker.queue.sweep()
        time.sleep(0.5)
        assert mailbox.to(address) == []
        db.session.commit()
        outbox.deliver_committed()
    message = wait_for(lambda: mailbox.to(address))[0]
    assert message["Subject"] == "Hello 0"
    # The hand-off and the sweep both asked for it; the claim sent it once.
    time.sleep(0.5)
    assert len(mailbox.to(address)) == 1
    assert _statuses(app) == {"sent": 1}


def test_rolled_back_mail_is_never_sent(app, live_worker, mailbox):
    address = f"rollback{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address, 3)
        db.session.rollback()
        outbox.deliver_committed()
    live_worker.queue.sweep()
    time.sleep(1.0)
    assert mailbox.to(address) == []
    assert _statuses(app) == {}


def test_smtp_down_then_back_delivers_exactly_once(app, live_worker, mailbox):
    app.config.update(MAIL_RETRY_BASE_SECONDS=1, MAIL_MAX_ATTEMPTS=10)
    address = f"retry{LIVE_DOMAIN}"
    mailbox.refuse = True  # the server answers 451 to every message
    with app.app_context():
        _queue(address)
        db.session.commit()
        outbox.deliver_committed()

    def tried_twice() -> bool:
        with app.app_context():
            message = db.session.scalar(select(OutboxMessage))
            db.session.commit()
            return message is not None and message.attempts >= 2 and message.status == "pending"

    wait_for(tried_twice)
    assert mailbox.to(address) == []
    assert _statuses(app) == {"pending": 1}
    mailbox.refuse = False
    wait_for(lambda: mailbox.to(address))
    time.sleep(1.0)
    assert len(mailbox.to(address)) == 1
    assert _statuses(app) == {"sent": 1}


def test_closed_smtp_port_is_retried_then_failed_after_the_last_try(
    app, live_worker, mailbox, monkeypatch
):
    app.config.update(MAIL_RETRY_BASE_SECONDS=0, MAIL_MAX_ATTEMPTS=3)
    monkeypatch.setattr(app.extensions["mail"], "port", 1)  # nothing listens there
    address = f"closed{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address)
        db.session.commit()
        outbox.deliver_committed()
    wait_for(lambda: _statuses(app) == {"failed": 1})
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.attempts == 3 and message.last_error
        db.session.commit()
    assert mailbox.to(address) == []


def test_worker_stopped_mid_batch_and_restarted_sends_every_message_once(app, live_worker, mailbox):
    address = f"batch{LIVE_DOMAIN}"
    total = 150
    with app.app_context():
        _queue(address, total)
        db.session.commit()
        outbox.deliver_committed()
    wait_for(lambda: len(mailbox.to(address)) >= 10, step=0.005)
    live_worker.stop()  # Ctrl-C: finishes what it is sending, leaves the rest queued
    stopped_at = len(mailbox.to(address))
    assert stopped_at < total, "the batch finished before the worker could be stopped"
    time.sleep(0.3)
    assert len(mailbox.to(address)) == stopped_at
    assert live_worker.pending_tasks() > 0
    live_worker.start()
    wait_for(lambda: _statuses(app) == {"sent": total}, timeout=60)
    time.sleep(0.5)
    ids = [str(m["Message-ID"]) for m in mailbox.to(address)]
    assert len(ids) == total and len(set(ids)) == total
    assert sorted(str(m["Subject"]) for m in mailbox.to(address)) == sorted(
        f"Hello {i}" for i in range(total)
    )


def test_message_left_sending_by_a_killed_worker_is_sent_once_by_the_sweep(
    app, live_worker, mailbox
):
    address = f"killed{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address, 2)
        db.session.commit()
        db.session.info.pop("outbox_committed_ids", None)  # the hand-off is lost too
        ids = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        # A worker claimed the first one and died before the server answered.
        assert outbox.claim(ids[0])
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[0])
            .values(claimed_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    live_worker.queue.sweep()
    wait_for(lambda: _statuses(app) == {"sent": 2})
    live_worker.queue.sweep()  # a second sweep finds nothing more to do
    time.sleep(0.5)
    assert len(mailbox.to(address)) == 2
    with app.app_context():
        first = db.session.get(OutboxMessage, ids[0])
        assert first.attempts == 2  # the interrupted try counts
        db.session.commit()


def test_a_message_being_sent_now_is_not_released(app, live_worker, mailbox):
    with app.app_context():
        _queue(f"busy{LIVE_DOMAIN}")
        db.session.commit()
        db.session.info.pop("outbox_committed_ids", None)
        message_id = db.session.scalar(select(OutboxMessage.id))
        assert outbox.claim(message_id)
        assert outbox.release_stuck() == 0
        assert not outbox.claim(message_id)  # a second worker cannot take it
        db.session.commit()


class HoldingSink:
    """An SMTP server that holds the first message's DATA until told what to answer."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.holding = threading.Event()
        self.answer: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if not self.holding.is_set():
            self.holding.set()
            while self.answer is None:
                await asyncio.sleep(0.02)
            return self.answer  # the client is dead by now; nothing was accepted
        self.accepted.append(envelope.content.decode(errors="replace"))
        return "250 OK"


def _spawn_worker(app, instance, port, logs: list) -> subprocess.Popen:
    env = dict(
        os.environ,
        FLASK_APP="wsgi.py",
        PORTAL_CONFIG="development",
        PORTAL_INSTANCE_DIR=str(instance),
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(port),
        MAIL_SENDING_TIMEOUT="1",
        JOBS_IMMEDIATE="0",
    )
    root = Path(__file__).resolve().parents[2]
    log = open(instance / "worker.log", "ab")  # noqa: SIM115 - closed after the test
    logs.append(log)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "portal", "worker", "--workers", "1", "--no-periodic"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


def test_worker_process_killed_while_sending_loses_nothing_and_sends_once(
    app, tmp_path, smtp_server
):
    from aiosmtpd.controller import Controller
    from huey import SqliteHuey

    from portal.jobs.queue import JobQueue, set_queue
    from tests.conftest import _free_port
    from tests.jobs.conftest import _clean_live_rows

    sink = HoldingSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.extensions.get("portal_jobs")
    queue = JobQueue(app, SqliteHuey("portal", filename=str(tmp_path / "huey.db"), results=False))
    set_queue(app, queue)
    _clean_live_rows(app)
    logs: list = []
    first = _spawn_worker(app, tmp_path, port, logs)
    second = None
    try:
        with app.app_context():
            _queue(f"sigkill{LIVE_DOMAIN}")
            db.session.commit()
            outbox.deliver_committed()
        assert sink.holding.wait(60), "the worker never started sending"
        assert _statuses(app) == {"sending": 1}
        first.kill()  # SIGKILL in the middle of the SMTP conversation
        first.wait()
        sink.answer = "451 Connection lost"
        second = _spawn_worker(app, tmp_path, port, logs)
        time.sleep(1.2)  # past MAIL_SENDING_TIMEOUT
        queue.sweep()  # what the periodic sweep does every minute
        wait_for(lambda: _statuses(app) == {"sent": 1}, timeout=60)
        queue.sweep()
        time.sleep(1.0)
        assert len(sink.accepted) == 1
        with app.app_context():
            message = db.session.scalar(select(OutboxMessage))
            assert message.attempts == 2
            assert message.message_id in sink.accepted[0]
            db.session.commit()
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
        for log in logs:
            log.close()
        controller.stop()
        set_queue(app, previous)
        _clean_live_rows(app)


def test_database_away_after_the_server_accepted_is_waited_out_not_sent_twice(
    app, mailbox, monkeypatch
):
    """The database restarts between the SMTP server's 250 and the "sent" commit: the worker
    retries the commit instead of leaving the row "sending" for the sweep to send again."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    address = f"dbaway{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address)
        db.session.commit()
        message_id = db.session.scalar(select(OutboxMessage.id))
    store = outbox._store_sent
    failures = [OperationalError("UPDATE outbox_message", {}, Exception("server closed"))] * 2
    commit_failures = [OperationalError("COMMIT", {}, Exception("server closed"))]

    def failing_commit(_session: Session) -> None:
        # The first commit once the server has the message (it answered 250) fails.
        if mailbox.to(address) and commit_failures:
            raise commit_failures.pop()

    def flaky_store(message_id: int) -> None:
        if failures:
            raise failures.pop()
        store(message_id)

    monkeypatch.setattr(outbox, "_store_sent", flaky_store)
    event.listen(Session, "before_commit", failing_commit)
    try:
        with app.app_context():
            assert outbox.deliver(message_id)
            assert not commit_failures and not failures
            # The sweep, however late, finds nothing to release or send again.
            assert outbox.release_stuck(now=utcnow() + timedelta(hours=1)) == 0
            assert outbox.deliver_due() == 0
        assert len(wait_for(lambda: mailbox.to(address))) == 1
        time.sleep(0.3)
        assert len(mailbox.to(address)) == 1
        assert _statuses(app) == {"sent": 1}
    finally:
        event.remove(Session, "before_commit", failing_commit)
        with app.app_context():
            db.session.execute(
                OutboxMessage.__table__.delete().where(OutboxMessage.to_address == address)
            )
            db.session.commit()


def _on_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_sent_is_written_under_the_lock_before_the_final_dot(app, mailbox, monkeypatch):
    """PostgreSQL: the row's lock is taken while the server holds the message without its
    final ".": the server has accepted nothing yet, and the commit after its 250 waits for
    nobody."""
    if not _on_postgresql(app):
        pytest.skip("on SQLite the worker notes the 250 in a marker file instead")
    address = f"beforedot{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address)
        db.session.commit()
        message_id = db.session.scalar(select(OutboxMessage.id))
    write_sent = outbox._write_sent
    seen: list[tuple[int, bool]] = []

    def observed(message_id: int) -> None:
        write_sent(message_id)
        seen.append((len(mailbox.to(address)), db.session().in_transaction()))

    monkeypatch.setattr(outbox, "_write_sent", observed)
    try:
        with app.app_context():
            assert outbox.deliver(message_id)
        assert seen == [(0, True)]  # nothing accepted yet, "sent" written in a transaction
        assert len(mailbox.to(address)) == 1
        assert _statuses(app) == {"sent": 1}
    finally:
        with app.app_context():
            db.session.execute(
                OutboxMessage.__table__.delete().where(OutboxMessage.to_address == address)
            )
            db.session.commit()


@pytest.mark.parametrize("problem", ["locked", "released"])
def test_no_database_write_at_the_final_dot_means_nothing_sent(app, mailbox, monkeypatch, problem):
    """PostgreSQL: the row cannot be locked (the database away) or the sweep released it: the
    connection is dropped before the ".", so the server discards the message."""
    from sqlalchemy.exc import OperationalError

    if not _on_postgresql(app):
        pytest.skip("on SQLite the worker notes the 250 in a marker file instead")

    app.config.update(MAIL_RETRY_BASE_SECONDS=0)
    address = f"nolock-{problem}{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address)
        db.session.commit()
        message_id = db.session.scalar(select(OutboxMessage.id))
    write_sent = outbox._write_sent
    tries: list[int] = []

    def refused(message_id: int) -> None:
        tries.append(message_id)
        if len(tries) > 1:
            return write_sent(message_id)
        if problem == "locked":
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        # The sweep gave the row back meanwhile: this worker must not send it.
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(status="pending")
        )
        db.session.commit()
        return write_sent(message_id)

    monkeypatch.setattr(outbox, "_write_sent", refused)
    retries: list[int] = []
    monkeypatch.setattr(outbox, "_schedule_retry", lambda message_id, _when: retries.append(1))
    try:
        with app.app_context():
            assert not outbox.deliver(message_id)
            db.session.commit()
        time.sleep(0.5)
        assert mailbox.to(address) == []
        assert _statuses(app) == {"pending": 1}
        assert retries == ([1] if problem == "locked" else [])
        with app.app_context():
            assert outbox.deliver(message_id)
        assert len(wait_for(lambda: mailbox.to(address))) == 1
        time.sleep(0.3)
        assert len(mailbox.to(address)) == 1
        assert _statuses(app) == {"sent": 1}
    finally:
        with app.app_context():
            db.session.execute(
                OutboxMessage.__table__.delete().where(OutboxMessage.to_address == address)
            )
            db.session.commit()


def test_sqlite_accepted_then_killed_is_marked_sent_by_the_sweep_not_sent_again(
    app, mailbox, monkeypatch
):
    """SQLite: the worker does not hold the database's one write lock while the server
    answers; right after the 250 it creates a marker file. Killed before "sent" is recorded
    (waiting for the lock behind busy writers), the row stays "sending"; the sweep sees the
    marker and marks it sent instead of sending it again."""
    if _on_postgresql(app):
        pytest.skip("on PostgreSQL 'sent' is written under the row lock before the final dot")

    class Killed(BaseException):
        pass

    def killed(_message_id: int) -> None:
        raise Killed

    address = f"marker{LIVE_DOMAIN}"
    with app.app_context():
        _queue(address)
        db.session.commit()
        message_id = db.session.scalar(select(OutboxMessage.id))
    monkeypatch.setattr(outbox, "_record_sent", killed)
    try:
        with app.app_context():
            with pytest.raises(Killed):
                outbox.deliver(message_id)
            db.session.rollback()
            markers = outbox.accepted_markers()
            assert markers is not None and (markers / str(message_id)).exists()
        assert len(wait_for(lambda: mailbox.to(address))) == 1
        assert _statuses(app) == {"sending": 1}
        monkeypatch.undo()
        with app.app_context():
            assert outbox.release_stuck(now=utcnow() + timedelta(hours=1)) == 0
            assert outbox.deliver_due() == 0
            assert not (markers / str(message_id)).exists()
        time.sleep(0.3)
        assert len(mailbox.to(address)) == 1
        assert _statuses(app) == {"sent": 1}
    finally:
        with app.app_context():
            db.session.execute(
                OutboxMessage.__table__.delete().where(OutboxMessage.to_address == address)
            )
            db.session.commit()
