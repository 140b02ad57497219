"""Personal data in the community: export it, and erase it when an account is deleted.

Posts stay (conversations would break otherwise); their author shows as a deleted member
because the account row becomes a tombstone. Votes, flags, subscriptions and suspensions
are removed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from portal.accounts.models import User
from portal.community.models import (
    MemberSuspension,
    Post,
    PostFlag,
    PostRevision,
    PostVote,
    Topic,
    TopicSubscription,
)
from portal.extensions import db


def export_community(user: User) -> dict[str, Any]:
    posts = db.session.execute(
        select(Post, Topic.title)
        .join(Topic, Topic.id == Post.topic_id)
        .where(Post.author_id == user.id)
        .order_by(Post.created_at)
    ).all()
    return {
        "posts": [
            {
                "topic": title,
                "created_at": post.created_at.isoformat(),
                "state": post.state,
                "text": post.body_markdown,
            }
            for post, title in posts
        ],
        "votes": [
            vote.post_id
            for vote in db.session.scalars(select(PostVote).where(PostVote.user_id == user.id))
        ],
        "flags": [
            {"post": flag.post_id, "reason": flag.reason, "note": flag.note}
            for flag in db.session.scalars(select(PostFlag).where(PostFlag.user_id == user.id))
        ],
        "subscriptions": [
            {"topic": sub.topic_id, "level": sub.level}
            for sub in db.session.scalars(
                select(TopicSubscription).where(TopicSubscription.user_id == user.id)
            )
        ],
        "suspensions": [
            {"until": s.until.isoformat(), "reason": s.reason}
            for s in db.session.scalars(
                select(MemberSuspension).where(MemberSuspension.user_id == user.id)
            )
        ],
    }


def erase_community(user: User) -> None:
    for model in (PostVote, PostFlag, TopicSubscription, MemberSuspension):
        db.session.execute(delete(model).where(model.user_id == user.id))  # type: ignore[attr-defined]
    # Earlier versions of their posts may hold what they since removed.
    own_posts = select(Post.id).where(Post.author_id == user.id)
    db.session.execute(delete(PostRevision).where(PostRevision.post_id.in_(own_posts)))


def register() -> None:
    from portal.accounts.services import DATA_ERASERS, DATA_EXPORTERS

    DATA_EXPORTERS["community"] = export_community
    DATA_ERASERS["community"] = erase_community
