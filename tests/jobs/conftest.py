"""Fixtures for the jobs tests: a real huey consumer on its own SQLite queue, admin sign-in."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from huey import SqliteHuey
from sqlalchemy import delete, event, select, text

from portal.accounts.models import User
from portal.extensions import db
from portal.jobs.models import (
    JobRun,
    MailCampaign,
    MailCampaignRecipient,
    MailUnsubscribe,
    Notification,
    OutboxMessage,
)
from portal.jobs.queue import JobQueue, get_queue, make_consumer, set_queue
from tests.conftest import csrf_from, login

LIVE_DOMAIN = "@live.test"


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


class LiveWorker:
    """A real huey consumer (threads) on a queue of its own, like `flask portal worker`."""

    def __init__(self, app: Flask, queue: JobQueue) -> None:
        self.app = app
        self.queue = queue
        self.consumer: Any = None

    def start(self, workers: int = 2) -> None:
        consumer = make_consumer(self.queue, workers=workers, periodic=False)
        consumer._set_signal_handlers = lambda: None  # the test runner owns the signals
        consumer.start()
        self.consumer = consumer

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop(graceful=True)
            self.consumer = None

    def pending_tasks(self) -> int:
        return int(self.queue.huey.pending_count())


def _clean_live_rows(app: Flask) -> None:
    with app.app_context():
        users = select(User.id).where(User.email.like(f"%{LIVE_DOMAIN}"))
        for model in (MailCampaignRecipient, OutboxMessage, MailCampaign, JobRun):
            db.session.execute(delete(model))
        db.session.execute(delete(MailUnsubscribe).where(MailUnsubscribe.user_id.in_(users)))
        db.session.execute(delete(Notification).where(Notification.user_id.in_(users)))
        db.session.execute(
            text(
                'DELETE FROM roles_users WHERE user_id IN (SELECT id FROM "user" WHERE email LIKE :d)'
            ),
            {"d": f"%{LIVE_DOMAIN}"},
        )
        db.session.execute(delete(User).where(User.email.like(f"%{LIVE_DOMAIN}")))
        db.session.commit()


@pytest.fixture
def live_worker(
    app: Flask, tmp_path: Any, mailbox: Any, request: pytest.FixtureRequest
) -> Iterator[LiveWorker]:
    """Committed data (tests marked ``live_db``) and a consumer on a temporary SqliteHuey."""
    assert request.node.get_closest_marker("live_db"), "mark the test with live_db"
    previous = app.extensions.get("portal_jobs")
    queue = JobQueue(
        app, SqliteHuey("portal-test", filename=str(tmp_path / "huey.db"), results=False)
    )
    set_queue(app, queue)
    saved = {k: app.config[k] for k in ("MAIL_RETRY_BASE_SECONDS", "MAIL_MAX_ATTEMPTS")}
    _clean_live_rows(app)
    worker = LiveWorker(app, queue)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        app.config.update(saved)
        set_queue(app, previous)
        _clean_live_rows(app)


@pytest.fixture
def admin_client(app: Flask, client: FlaskClient, make_user: Any) -> FlaskClient:
    """A client signed in as an administrator, through the two-factor step."""
    from portal.extensions import security

    make_user("root@example.com", roles=("admin",))
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "root@example.com"))
        assert user is not None
        user.tf_primary_method = "authenticator"
        user.tf_totp_secret = security._totp_factory.generate_totp_secret()
        secret = user.tf_totp_secret
        db.session.commit()
    response = login(client, "root@example.com")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    with app.app_context():
        code = security._totp_factory.generate_totp_password(secret)
    done = client.post(
        response.headers["Location"],
        data={"code": code, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert client.get("/staff/outbox/").status_code == 200
    return client


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        self.count += 1


@pytest.fixture
def count_queries(app: Flask) -> Callable[[Callable[[], Any]], tuple[Any, int]]:
    def _count(action: Callable[[], Any]) -> tuple[Any, int]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            result = action()
        finally:
            event.remove(engine, "before_cursor_execute", counter)
        return result, counter.count

    return _count


def immediate_queue(app: Flask) -> JobQueue:
    with app.app_context():
        return get_queue()
