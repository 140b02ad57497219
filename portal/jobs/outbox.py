"""Queue mail in the current transaction; the worker sends it after commit.

Features call :func:`queue_mail` (render a template) or :func:`queue_rendered` (already
rendered text) and never talk to SMTP themselves.

Delivery guarantee
------------------
* A message exists only if the transaction that queued it committed (it is a row in that
  transaction), so a rolled-back request sends nothing.
* After commit its id is handed to the queue (one task per message). If that hand-off is
  lost (the process dies between commit and enqueue, the queue is down), the periodic
  sweep finds the row still ``pending`` within a minute: nothing is lost.
* Sending starts with a claim: one conditional ``UPDATE ... SET status='sending' WHERE
  status='pending'`` committed before SMTP is contacted. Only one worker's claim can match,
  so two workers (or a task and the sweep) never send the same row.
* The server's acceptance and the ``sent`` record are made all but one step (see
  :func:`deliver`): on PostgreSQL "sent" is written under the row's lock before DATA's
  final "." and committed right after the 250; on SQLite a marker file is created right
  after the 250 and the sweep honours it. A worker killed while sending leaves the row
  ``sending``; the sweep returns such rows to ``pending`` once ``MAIL_SENDING_TIMEOUT``
  has passed (longer than any SMTP conversation), so the message is sent again rather
  than lost.
* The windows left for a second copy: a kill (or a lost connection) between the server's
  acceptance of the "." and the commit (PostgreSQL) or the marker (SQLite), and a timeout
  waiting for the answer to the "." (the server may have accepted; the message is tried
  again). A copy carries the same ``Message-ID``, which receiving systems use to recognise
  it as the same message: at-least-once delivery, exactly-once in practice.
* Failures are retried with exponential backoff (``MAIL_RETRY_BASE_SECONDS`` x 2^n) up to
  ``MAIL_MAX_ATTEMPTS`` tries; then the row is ``failed`` and an admin can re-send it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.core.db import utcnow
from portal.core.mail import CommitPointFailed, build_message, transmit
from portal.extensions import db
from portal.jobs.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
_SESSION_KEY = "outbox_new_ids"
_COMMITTED_KEY = "outbox_committed_ids"
_CAMPAIGN_KEY = "campaign_new_ids"
_COMMITTED_CAMPAIGN_KEY = "campaign_committed_ids"


def _message_id() -> str:
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN", "portal.local")
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_rendered(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    template: str = "custom",
    user_id: int | None = None,
    headers: dict[str, str] | None = None,
    bulk: bool = False,
    campaign_id: int | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        message_id=_message_id(),
        to_address=to,
        subject=str(subject)[:255],
        body_text=text,
        body_html=html,
        template=template,
        user_id=user_id,
        headers=headers or {},
        bulk=bulk,
        campaign_id=campaign_id,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_SESSION_KEY, []).append(message.id)
    return message


def queue_mail(
    *,
    to: str,
    template: str,
    subject: str,
    context: dict[str, Any] | None = None,
    locale: str | None = None,
    user_id: int | None = None,
    headers: dict[str, str] | None = None,
    bulk: bool = False,
    unsubscribe_kind: str | None = None,
    campaign_id: int | None = None,
) -> OutboxMessage:
    """Render ``mail/<template>.txt`` and ``.html`` in the recipient's language and queue it.

    Non-transactional mail (``bulk=True`` or an ``unsubscribe_kind`` such as "newsletter",
    "surveys", "greetings") needs ``user_id``: it gets an unsubscribe link in its footer
    (``unsubscribe_url`` in the template context) and the ``List-Unsubscribe`` headers.
    """
    from portal.jobs.unsubscribe import unsubscribe_headers, unsubscribe_url

    context = dict(context or {})
    headers = dict(headers or {})
    if bulk and unsubscribe_kind is None:
        unsubscribe_kind = "newsletter"
    if unsubscribe_kind is not None:
        if user_id is None:
            raise ValueError("non-transactional mail needs the recipient's user_id")
        url = unsubscribe_url(user_id, unsubscribe_kind)
        context.setdefault("unsubscribe_url", url)
        # A feature that runs its own unsubscribe link (surveys) keeps its headers.
        for name, value in unsubscribe_headers(url).items():
            headers.setdefault(name, value)
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
        rendered_subject = str(subject)
    return queue_rendered(
        to=to,
        subject=rendered_subject,
        text=text,
        html=html,
        template=template,
        user_id=user_id,
        headers=headers,
        bulk=bulk or unsubscribe_kind is not None,
        campaign_id=campaign_id,
    )


def _max_attempts() -> int:
    return int(current_app.config.get("MAIL_MAX_ATTEMPTS", MAX_ATTEMPTS))


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the ``attempts``-th failed try: base, 2 x base, 4 x base, ..."""
    base = float(current_app.config.get("MAIL_RETRY_BASE_SECONDS", 30))
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def claim(message_id: int) -> bool:
    """Take one due message for sending and commit the claim. True when this caller won."""
    now = utcnow()
    result: Any = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    claimed = bool(result.rowcount)
    db.session.commit()
    return claimed


def deliver(message_id: int) -> bool:
    """Claim one message and send it. Returns True when this call sent it.

    The server's acceptance and the "sent" record are made as close to one step as the
    database allows, so that a worker killed in between (the sweep would send the message
    again) is all but impossible:

    * PostgreSQL: the SMTP conversation goes up to the end of DATA without the final ".",
      then the worker takes the row's lock and writes "sent" uncommitted, sends the ".",
      reads the 250 and commits at once (a row lock blocks no one else). If the write
      cannot be had (the database away), the connection is dropped without the "." and the
      server discards the message. Window: a kill between the server's acceptance of the
      "." and the commit (one round trip plus a commit).
    * SQLite: holding the one write lock of the database while the server answers the "."
      would stop every other writer for that long (a slow server: hundreds of milliseconds
      per message). Instead, right after the 250 the worker creates a marker file (one
      system call, no lock), then records "sent" (waiting for the lock as long as needed),
      then removes the marker; the sweep marks a "sending" row with a marker as sent
      instead of sending it again (:func:`release_stuck`). Window: a kill between the
      server's 250 and the marker's creation.

    Both: a timeout waiting for the answer to the "." leaves it open whether the server
    accepted; the message is tried again.
    """
    if not claim(message_id):
        return False
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    assert message is not None
    mime = build_message(
        to=message.to_address,
        subject=message.subject,
        text=message.body_text,
        html=message.body_html,
        message_id=message.message_id,
        headers=message.headers,
    )
    # No transaction stays open while talking to SMTP (on SQLite it would hold the lock).
    db.session.commit()
    markers = accepted_markers()
    try:
        if markers is not None:
            transmit(mime)
        else:
            transmit(mime, commit_point=lambda: _write_sent(message_id))
    except Exception as exc:
        db.session.rollback()  # the uncommitted "sent", if it was written
        _record_failure(message_id, exc)
        return False
    if markers is not None:
        marker = _mark_accepted(markers, message_id)
        _record_sent(message_id)
        marker.unlink(missing_ok=True)
    else:
        _commit_sent(message_id)
    return True


def accepted_markers() -> Path | None:
    """Where a SQLite portal notes messages the server accepted (None on PostgreSQL)."""
    if db.engine.dialect.name != "sqlite":
        return None
    return Path(current_app.config["INSTANCE_DIR"]) / "outbox-accepted"


def _mark_accepted(directory: Path, message_id: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / str(int(message_id))
    # A kill -9 does not lose what the kernel has; fsync keeps it through a power cut too.
    descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return marker


def _accepted_ids(directory: Path | None) -> dict[int, Path]:
    if directory is None or not directory.is_dir():
        return {}
    return {int(path.name): path for path in directory.iterdir() if path.name.isdigit()}


class NoLongerClaimed(Exception):
    """The row is no longer this worker's "sending" (released by the sweep meanwhile)."""


def _write_sent(message_id: int) -> None:
    """Take the database write and mark the message sent, uncommitted (the commit point)."""
    result: Any = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="sent", sent_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        raise NoLongerClaimed(f"outbox message {message_id} is no longer being sent here")


def _commit_sent(message_id: int) -> None:
    """Commit the "sent" written before the server's 250; redo it if the commit failed."""
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        log.warning("Committing outbox message %s as sent failed; retrying", message_id)
        _record_sent(message_id)


def _record_failure(message_id: int, exc: Exception) -> None:
    cause = exc.__cause__ if isinstance(exc, CommitPointFailed) and exc.__cause__ else exc
    if isinstance(cause, NoLongerClaimed):
        log.warning("Outbox message %s was released while being sent; not sent here", message_id)
        return
    log.warning("Sending outbox message %s failed: %s", message_id, cause)
    try:
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        if message is None or message.status != "sending":
            db.session.rollback()
            return
        message.last_error = str(cause)[:2000]
        if message.attempts >= _max_attempts():
            message.status = "failed"
        else:
            message.status = "pending"
            message.next_attempt_at = utcnow() + retry_delay(message.attempts)
        status, due = message.status, message.next_attempt_at
        db.session.commit()
    except OperationalError:
        # The database is away: the row stays "sending" and the sweep releases it later.
        db.session.rollback()
        log.warning("Could not record the failed try of outbox message %s", message_id)
        return
    if status == "pending":
        _schedule_retry(message_id, due)


def _store_sent(message_id: int) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="sent", sent_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_sent(message_id: int) -> None:
    """Mark a message the server accepted as sent, waiting out a database that is away.

    Giving up here would leave the row "sending", and the sweep would send the message
    again: a database restart or fail-over while the worker sends must not make copies.
    Tries for ``MAIL_RECORD_SENT_SECONDS`` (well under ``MAIL_SENDING_TIMEOUT``).
    """
    deadline = time.monotonic() + float(current_app.config.get("MAIL_RECORD_SENT_SECONDS", 120))
    delay = 0.2
    while True:
        try:
            _store_sent(message_id)
            return
        except OperationalError:
            db.session.rollback()
            if time.monotonic() + delay > deadline:
                raise
            log.warning("Recording outbox message %s as sent failed; retrying", message_id)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _schedule_retry(message_id: int, when: Any) -> None:
    from portal.jobs.queue import get_queue

    try:
        get_queue().deliver.schedule((message_id,), eta=when)
    except Exception:  # the periodic sweep retries it anyway
        log.exception("Could not schedule the retry of outbox message %s", message_id)


def release_stuck(now: Any = None) -> int:
    """Return messages left ``sending`` by a worker that died back to ``pending``.

    On SQLite a message with an "accepted" marker (the server answered 250, the worker died
    before recording it) is marked sent instead: it is not sent again.
    """
    now = now or utcnow()
    accepted = _accepted_ids(accepted_markers())
    if accepted:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(accepted)), OutboxMessage.status == "sending")
            .values(status="sent", sent_at=now, last_error=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        for path in accepted.values():
            path.unlink(missing_ok=True)
    timeout = timedelta(seconds=int(current_app.config.get("MAIL_SENDING_TIMEOUT", 600)))
    result: Any = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - timeout)
        .values(status="pending", next_attempt_at=now, last_error="interrupted while sending")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)


def due_ids(limit: int = 500) -> list[int]:
    ids = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    db.session.commit()
    return ids


def deliver_due(limit: int = 100) -> int:
    """Send what is due now, in this process (the sweep's fallback and the CLI)."""
    return sum(1 for message_id in due_ids(limit) if deliver(message_id))


def resend(message: OutboxMessage) -> bool:
    """An admin's re-send of a failed message: a fresh set of tries, sent after commit."""
    if message.status != "failed":
        return False
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.last_error = None
    db.session.flush()
    db.session.info.setdefault(_SESSION_KEY, []).append(message.id)
    return True


def remember_campaign(campaign_id: int) -> None:
    """Start sending a campaign's first batch once the current transaction commits."""
    db.session.info.setdefault(_CAMPAIGN_KEY, []).append(campaign_id)


def take_committed_ids() -> list[int]:
    return db.session.info.pop(_COMMITTED_KEY, [])


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    for new_key, committed_key in (
        (_SESSION_KEY, _COMMITTED_KEY),
        (_CAMPAIGN_KEY, _COMMITTED_CAMPAIGN_KEY),
    ):
        new_ids = session.info.pop(new_key, None)
        if new_ids:
            session.info.setdefault(committed_key, []).extend(new_ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)
    session.info.pop(_CAMPAIGN_KEY, None)


def deliver_committed() -> None:
    """Hand what the finished unit of work queued to the worker (called after commit)."""
    ids = take_committed_ids()
    campaigns = db.session.info.pop(_COMMITTED_CAMPAIGN_KEY, [])
    if not ids and not campaigns:
        return
    from portal.jobs.queue import get_queue

    queue = get_queue()
    for message_id in ids:
        try:
            queue.deliver(message_id)
        except Exception:  # the periodic sweep sends it
            log.exception("Could not hand outbox message %s to the worker", message_id)
    for campaign_id in campaigns:
        try:
            queue.campaign_batch(campaign_id)
        except Exception:
            log.exception("Could not hand campaign %s to the worker", campaign_id)
