"""Moderation: the review queue, actions on posts, topics and members, and the log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import User
from portal.community import services
from portal.community.models import (
    Category,
    MemberSuspension,
    ModerationAction,
    Post,
    PostFlag,
    Topic,
)
from portal.community.services import N_
from portal.core.db import utcnow
from portal.extensions import db

POST_ACTIONS = ("approve", "hide", "restore", "delete")
TOPIC_ACTIONS = ("lock", "unlock", "pin", "unpin")


class ModerationError(Exception):
    pass


def log(
    moderator: User | None,
    action: str,
    reason: str = "",
    *,
    post: Post | None = None,
    topic: Topic | None = None,
    member_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> ModerationAction:
    entry = ModerationAction(
        moderator_id=moderator.id if moderator else None,
        action=action,
        reason=reason,
        post_id=post.id if post else None,
        topic_id=(topic.id if topic else (post.topic_id if post else None)),
        member_id=member_id if member_id is not None else (post.author_id if post else None),
        details=details or {},
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# --- The queue ------------------------------------------------------------------------------


def review_queue(limit: int = 100) -> list[Post]:
    """Posts waiting for approval and posts with open flags, oldest first."""
    flagged = select(PostFlag.post_id).where(PostFlag.resolved_at.is_(None))
    return list(
        db.session.scalars(
            select(Post)
            .where(
                or_(
                    Post.state == "pending",
                    Post.id.in_(flagged),
                    (Post.state == "hidden") & (Post.hidden_reason == "flags"),
                )
            )
            .options(
                joinedload(Post.author),
                joinedload(Post.topic).joinedload(Topic.category),
            )
            .order_by(Post.created_at)
            .limit(limit)
        ).unique()
    )


def open_flags_by_post(post_ids: list[int]) -> dict[int, list[PostFlag]]:
    if not post_ids:
        return {}
    result: dict[int, list[PostFlag]] = {}
    for flag in db.session.scalars(
        select(PostFlag)
        .where(PostFlag.post_id.in_(post_ids), PostFlag.resolved_at.is_(None))
        .options(joinedload(PostFlag.user))
        .order_by(PostFlag.created_at)
    ):
        result.setdefault(flag.post_id, []).append(flag)
    return result


def recent_log(limit: int = 50) -> list[ModerationAction]:
    return list(
        db.session.scalars(
            select(ModerationAction)
            .options(
                selectinload(ModerationAction.moderator), selectinload(ModerationAction.member)
            )
            .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
            .limit(limit)
        )
    )


def active_suspensions() -> list[tuple[MemberSuspension, User]]:
    rows = db.session.execute(
        select(MemberSuspension, User)
        .join(User, User.id == MemberSuspension.user_id)
        .where(MemberSuspension.until > utcnow(), MemberSuspension.lifted_at.is_(None))
        .order_by(MemberSuspension.until)
    ).all()
    return [(row[0], row[1]) for row in rows]


# --- Actions ----------------------------------------------------------------------------------


def moderate_post(moderator: User, post: Post, action: str, reason: str) -> None:
    if action not in POST_ACTIONS:
        raise ModerationError(action)
    services.lock_for_update(post.topic, post.topic.category, post=post)
    was_pending = post.state == "pending"
    if action in ("approve", "restore"):
        post.hidden_reason = None
        post.deleted_at = None
        services.set_post_state(post, "visible")
        services.resolve_flags(post)
        if was_pending and post.position > 1:
            services.notify_subscribers(post)
    elif action == "hide":
        post.hidden_reason = "moderator"
        services.set_post_state(post, "hidden")
        services.resolve_flags(post)
    elif action == "delete":
        post.deleted_at = utcnow()
        post.hidden_reason = "moderator"
        services.set_post_state(post, "deleted")
        services.resolve_flags(post)
        if post.topic.accepted_post_id == post.id:
            post.topic.accepted_post_id = None
    log(moderator, f"post.{action}", reason, post=post)


def moderate_topic(moderator: User, topic: Topic, action: str, reason: str) -> None:
    if action not in TOPIC_ACTIONS:
        raise ModerationError(action)
    services.lock_for_update(topic)
    if action in ("lock", "unlock"):
        topic.is_locked = action == "lock"
    else:
        topic.is_pinned = action == "pin"
    services._touch(topic)
    log(moderator, f"topic.{action}", reason, topic=topic)


def move_topic(moderator: User, topic: Topic, target: Category, reason: str) -> None:
    services.lock_for_update(topic, topic.category, target)
    source = topic.category
    if source.id == target.id:
        return
    if topic.state == "visible":
        posts = 1 + topic.reply_count
        source.topic_count -= 1
        source.post_count -= posts
        target.topic_count += 1
        target.post_count += posts
    topic.category = target
    # The target may take it as its latest topic; the source, if it was its latest, names
    # the next one (read once the move is flushed).
    services.note_latest(topic)
    if source.last_topic_id == topic.id:
        services.refresh_latest(source)
    services._touch(topic)
    services.touch_category(source)
    log(
        moderator,
        "topic.move",
        reason,
        topic=topic,
        details={"from": source.slug, "to": target.slug},
    )


def suspend_member(moderator: User, member: User, days: int, reason: str) -> MemberSuspension:
    """The member keeps reading but cannot post until the period ends; they see why."""
    from portal.jobs.notifications import notify

    if member.is_staff:
        raise ModerationError("staff members are not suspended here")
    suspension = MemberSuspension(
        user_id=member.id,
        until=utcnow() + timedelta(days=days),
        reason=reason,
        created_by_id=moderator.id,
    )
    db.session.add(suspension)
    db.session.flush()
    log(moderator, "member.suspend", reason, member_id=member.id, details={"days": days})
    notify(
        member.id,
        kind="community.suspended",
        message=N_("You cannot post in the community for %(days)s days: %(reason)s"),
        data={"days": days, "reason": reason},
        url="/community",
    )
    return suspension


def lift_suspension(moderator: User, suspension: MemberSuspension, reason: str) -> None:
    suspension.lifted_at = utcnow()
    log(moderator, "member.unsuspend", reason, member_id=suspension.user_id)


# --- Complaints ---------------------------------------------------------------------------


def turn_into_complaint(moderator: User, topic: Topic, reason: str) -> str:
    """Open a complaint for the topic through the feedback feature and link both ways."""
    from portal.jobs.notifications import notify

    services.lock_for_update(topic)
    if topic.complaint_ref:
        return topic.complaint_ref
    opener = services._complaint_opener()
    if opener is None:
        raise ModerationError("complaints are not available")
    author = db.session.get(User, topic.author_id)
    reference = opener(topic=topic, author=author, staff=moderator)
    topic.complaint_ref = reference
    services._touch(topic)
    log(moderator, "topic.complaint", reason, topic=topic, details={"complaint": reference})
    if author is not None:
        notify(
            author.id,
            kind="community.complaint",
            message=N_("Your topic “%(title)s” is now handled as complaint %(ref)s."),
            data={"title": topic.title, "ref": reference},
            url=services.topic_url(topic),
        )
    return reference


def publish_solution(staff_member: User, topic: Topic, answer_markdown: str) -> Post:
    """Post a resolved complaint's answer in its topic as the official, accepted answer.

    Called by the feedback feature when a complaint linked to a topic is resolved and the
    agent chooses to publish the answer.
    """
    # The position, the counters and both revisions change: lock as the other writers do
    # (topic, then category), so they queue instead of deadlocking.
    services.lock_for_update(topic, topic.category)
    post = services._new_post(staff_member, topic, answer_markdown, utcnow())
    db.session.flush()
    services.set_post_state(post, "visible")
    services.mark_official(post)
    topic.accepted_post_id = post.id
    services.notify_subscribers(post)
    log(staff_member, "topic.solution", "", post=post, topic=topic)
    return post
