"""Bulk mail (newsletters, survey invitations, greetings): paced, consented, unsubscribable.

Other features call :func:`start_bulk` in their transaction; the worker renders and queues
the recipients in batches so that no more than ``MAIL_RATE_PER_MINUTE`` messages a minute
leave for the campaign, and each recipient's consent is checked again when their batch
comes (an unsubscribe in between stops their mail).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, update

from portal.accounts.models import User
from portal.core.db import utcnow
from portal.extensions import db
from portal.jobs.models import (
    UNSUBSCRIBE_KINDS,
    MailCampaign,
    MailCampaignRecipient,
    OutboxMessage,
)
from portal.jobs.outbox import queue_mail, remember_campaign
from portal.jobs.unsubscribe import unsubscribed_ids


def may_receive(user: User, kind: str, unsubscribed: set[int]) -> bool:
    """Whether ``user`` may get non-transactional mail of ``kind`` now."""
    if user.deleted_at is not None or not user.active or user.confirmed_at is None:
        return False
    if kind == "newsletter":
        return bool(user.newsletter_consent)
    return user.id not in unsubscribed


def _load_users(recipients: Iterable[User | int]) -> list[User]:
    users: list[User] = []
    ids: list[int] = []
    for item in recipients:
        if isinstance(item, User):
            users.append(item)
        else:
            ids.append(int(item))
    for start in range(0, len(ids), 500):
        users.extend(db.session.scalars(select(User).where(User.id.in_(ids[start : start + 500]))))
    seen: set[int] = set()
    unique = []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            unique.append(user)
    return unique


def start_bulk(
    kind: str,
    recipients: Iterable[User | int],
    template: str,
    subject: Any,
    context_fn: Callable[[User], dict[str, Any]] | None = None,
    *,
    name: str | None = None,
    created_by_id: int | None = None,
) -> MailCampaign:
    """Queue a campaign of ``template`` mails to ``recipients`` (users or their ids).

    ``kind`` is one of :data:`UNSUBSCRIBE_KINDS`; recipients without consent for it (or
    who unsubscribed from it) are left out. ``subject`` is a msgid (translated into each
    recipient's language) or plain text. ``context_fn(user)`` is called now, in the
    caller's transaction, and returns the template context (JSON-serialisable: it is
    stored until the recipient's batch is rendered); ``user`` and ``unsubscribe_url`` are
    added by the renderer. Sending starts after commit.
    """
    if kind not in UNSUBSCRIBE_KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    campaign = MailCampaign(
        kind=kind,
        name=(name or str(subject))[:200],
        template=template,
        subject=_msgid(subject),
        status="sending",
        created_by_id=created_by_id,
        next_batch_at=utcnow(),
    )
    db.session.add(campaign)
    db.session.flush()
    users = _load_users(recipients)
    unsubscribed = unsubscribed_ids([u.id for u in users], kind)
    total = skipped = 0
    for user in users:
        if not may_receive(user, kind, unsubscribed):
            skipped += 1
            continue
        context = dict(context_fn(user)) if context_fn else {}
        db.session.add(
            MailCampaignRecipient(
                campaign_id=campaign.id,
                user_id=user.id,
                to_address=user.email,
                locale=user.locale,
                context=context,
                status="queued",
            )
        )
        total += 1
    campaign.total = total
    campaign.skipped_at_start = skipped
    if total == 0:
        campaign.status = "done"
        campaign.finished_at = utcnow()
    db.session.flush()
    if total:
        remember_campaign(campaign.id)
    return campaign


def _msgid(subject: Any) -> str:
    """The untranslated text of a lazy string (so each recipient gets their language)."""
    args = getattr(subject, "_args", None)
    if args and isinstance(args[0], str):
        return args[0][:255]
    return str(subject)[:255]


def batch_size() -> tuple[int, int]:
    """(messages per batch, seconds between batches) from ``MAIL_RATE_PER_MINUTE``."""
    rate = max(1, int(current_app.config.get("MAIL_RATE_PER_MINUTE", 600)))
    seconds = max(1, int(current_app.config.get("MAIL_BATCH_SECONDS", 10)))
    return max(1, math.floor(rate * seconds / 60)), seconds


def run_batch(campaign_id: int) -> int:
    """Render and queue the campaign's next batch; returns how many mails it queued.

    The batch is claimed by moving ``next_batch_at`` forward with a conditional UPDATE,
    so a scheduled batch and the sweep never send two batches in one interval.
    """
    size, seconds = batch_size()
    now = utcnow()
    claimed: Any = db.session.execute(
        update(MailCampaign)
        .where(
            MailCampaign.id == campaign_id,
            MailCampaign.status == "sending",
            MailCampaign.next_batch_at <= now,
        )
        .values(next_batch_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        return 0
    campaign = db.session.get(MailCampaign, campaign_id, populate_existing=True)
    assert campaign is not None
    rows = list(
        db.session.scalars(
            select(MailCampaignRecipient)
            .where(
                MailCampaignRecipient.campaign_id == campaign_id,
                MailCampaignRecipient.status == "queued",
            )
            .order_by(MailCampaignRecipient.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
    )
    users = {u.id: u for u in _load_users([r.user_id for r in rows])}
    unsubscribed = unsubscribed_ids(list(users), campaign.kind)
    default_locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    queued = 0
    for recipient in rows:
        user = users.get(recipient.user_id)
        if user is None or not may_receive(user, campaign.kind, unsubscribed):
            recipient.status = "skipped"
            continue
        locale = user.locale or recipient.locale or default_locale
        with force_locale(locale):
            subject = gettext(campaign.subject)
        message = queue_mail(
            to=user.email,
            template=campaign.template,
            subject=subject,
            context={**recipient.context, "user": user},
            locale=locale,
            user_id=user.id,
            bulk=True,
            unsubscribe_kind=campaign.kind,
            campaign_id=campaign.id,
        )
        recipient.status = "handed"
        recipient.outbox_message_id = message.id
        queued += 1
    remaining = db.session.scalar(
        select(func.count(MailCampaignRecipient.id)).where(
            MailCampaignRecipient.campaign_id == campaign_id,
            MailCampaignRecipient.status == "queued",
        )
    )
    if not remaining:
        campaign.status = "done"
        campaign.finished_at = utcnow()
    db.session.flush()
    if remaining:
        _schedule_next(campaign_id, campaign.next_batch_at)
    return queued


def _schedule_next(campaign_id: int, when: Any) -> None:
    from portal.jobs.queue import get_queue

    queue = get_queue()
    if queue.huey.immediate:
        return  # the periodic sweep paces it; an immediate queue would run it now
    try:
        queue.campaign_batch.schedule((campaign_id,), eta=when)
    except Exception:  # the periodic sweep starts it
        current_app.logger.exception("Could not schedule the next batch of %s", campaign_id)


def due_campaign_ids() -> list[int]:
    ids = list(
        db.session.scalars(
            select(MailCampaign.id).where(
                MailCampaign.status == "sending", MailCampaign.next_batch_at <= utcnow()
            )
        )
    )
    db.session.commit()
    return ids


def cancel(campaign: MailCampaign) -> bool:
    if campaign.status != "sending":
        return False
    campaign.status = "cancelled"
    campaign.finished_at = utcnow()
    db.session.execute(
        update(MailCampaignRecipient)
        .where(
            MailCampaignRecipient.campaign_id == campaign.id,
            MailCampaignRecipient.status == "queued",
        )
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return True


@dataclass(frozen=True)
class Progress:
    total: int
    waiting: int
    sent: int
    failed: int
    skipped: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped


def progress(campaign_ids: list[int]) -> dict[int, Progress]:
    """Counts per campaign in one query: waiting (not yet sent), sent, failed, skipped."""
    counts: dict[int, dict[str, int]] = {cid: {} for cid in campaign_ids}
    if campaign_ids:
        rows = db.session.execute(
            select(
                MailCampaignRecipient.campaign_id,
                MailCampaignRecipient.status,
                OutboxMessage.status,
                func.count(MailCampaignRecipient.id),
            )
            .outerjoin(OutboxMessage, OutboxMessage.id == MailCampaignRecipient.outbox_message_id)
            .where(MailCampaignRecipient.campaign_id.in_(campaign_ids))
            .group_by(
                MailCampaignRecipient.campaign_id,
                MailCampaignRecipient.status,
                OutboxMessage.status,
            )
        )
        for campaign_id, recipient_status, message_status, count in rows:
            if recipient_status == "skipped":
                key = "skipped"
            elif message_status in ("sent", "failed"):
                key = message_status
            else:
                key = "waiting"
            counts[campaign_id][key] = counts[campaign_id].get(key, 0) + count
    return {
        cid: Progress(
            total=sum(c.values()),
            waiting=c.get("waiting", 0),
            sent=c.get("sent", 0),
            failed=c.get("failed", 0),
            skipped=c.get("skipped", 0),
        )
        for cid, c in counts.items()
    }
