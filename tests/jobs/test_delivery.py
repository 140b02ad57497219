"""Mail through the outbox and a real worker to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import collections
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.core.db import utcnow
from portal.extensions import db
from portal.jobs import outbox
from portal.jobs.models import OutboxMessage
from tests.jobs.conftest import LIVE_DOMAIN, wait_for

pytestmark = pytest.mark.live_db


def _queue(to: str, n: int = 1) -> None:
    for i in range(n):
        outbox.queue_rendered(to=to, subject=f"Hello {i}", text=f"Body {i}", template="test")


def _statuses(app) -> collections.Counter:
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
        db.session.commit()
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
            return message is not None and message.attempts >= 2

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
