"""Community tables: categories, topics, posts, votes, flags, subscriptions, moderation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core.db import UNMANAGED_SCHEMA_NAMES, UTCDateTime, utcnow
from portal.extensions import db

#: A post's state. Only "visible" posts count and show to everyone.
POST_STATES = ("visible", "pending", "hidden", "deleted")
FLAG_REASONS = ("spam", "offensive", "off-topic", "other")
SUBSCRIPTION_LEVELS = ("watching", "muted")

#: Search objects created by hand in the migrations: the SQLite FTS5 tables (and the shadow
#: tables FTS5 keeps beside them) and the PostgreSQL trigram and character-pair indexes.
SEARCH_TABLE = "community_search"
GRAM_TABLES = ("community_search_grams", "community_search_title_grams")
TRGM_INDEXES = ("ix_community_post_body_trgm", "ix_community_topic_title_trgm")
GRAM_INDEXES = ("ix_community_post_body_grams", "ix_community_topic_title_grams")
UNMANAGED_SCHEMA_NAMES.update(
    {
        name
        for table in (SEARCH_TABLE, *GRAM_TABLES)
        for name in (
            table,
            *(f"{table}_{s}" for s in ("data", "idx", "content", "docsize", "config")),
        )
    }
)
UNMANAGED_SCHEMA_NAMES.update(TRGM_INDEXES)
UNMANAGED_SCHEMA_NAMES.update(GRAM_INDEXES)


class Category(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "community_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kept by the services so the index page never counts rows.
    topic_count: Mapped[int] = mapped_column(default=0)
    post_count: Mapped[int] = mapped_column(default=0)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_topic_id: Mapped[int | None] = mapped_column(Integer)
    last_topic_title: Mapped[str | None] = mapped_column(String(200))
    # Bumped with every change to one of its topics (services.touch_category): the ETag of
    # the category's topic list, so a kept list is checked without reading its topics.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")


class DisplayRevision(db.Model):  # type: ignore[name-defined,misc]
    """One row counting changes to what community pages show of rows other pages change.

    A topic page shows its authors' names and its category's name, a category's list its
    topics' authors; a profile, an account deletion or a category edit changes those rows
    without touching the topic's or the category's revision. Every visitor's ETag (and so
    every kept page) includes this counter, read in the same statement as the page's own
    stamp. portal.community.display bumps it when such a change is committed.
    """

    __tablename__ = "community_display_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(default=1, server_default="1")


class Topic(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "community_topic"
    __table_args__ = (
        Index(
            "ix_community_topic_category_listing",
            "category_id",
            "is_pinned",
            "last_post_at",
        ),
        # The dashboard's count of topics nobody has answered, from this index alone instead
        # of a pass over all the topics.
        Index("ix_community_topic_unanswered", "state", "reply_count", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("community_category.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    # Mirrors the first post: a topic waiting for approval or hidden is not listed.
    state: Mapped[str] = mapped_column(String(10), default="visible")
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_poster_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The highest position handed out; replies take the next one.
    last_position: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    vote_count: Mapped[int] = mapped_column(default=0)
    accepted_post_id: Mapped[int | None] = mapped_column(Integer, index=True)
    official_post_id: Mapped[int | None] = mapped_column(Integer)
    # Bumped on every change a reader can see: the ETag of the topic page.
    revision: Mapped[int] = mapped_column(default=1)
    # The complaint this topic was turned into (feedback feature), and its reference.
    complaint_ref: Mapped[str | None] = mapped_column(String(40), index=True)

    category: Mapped[Category] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    last_poster: Mapped[User | None] = relationship(foreign_keys=[last_poster_id])


class Post(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "community_post"
    __table_args__ = (
        # Pages are ranges of this position: an indexed seek, however long the topic.
        UniqueConstraint("topic_id", "position"),
        Index("ix_community_post_author_id_created_at", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("community_topic.id"))
    position: Mapped[int] = mapped_column()
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    renderer_version: Mapped[int] = mapped_column(default=0, index=True)
    state: Mapped[str] = mapped_column(String(10), default="visible", index=True)
    # Why it is hidden: "flags" (automatic) or "moderator".
    hidden_reason: Mapped[str | None] = mapped_column(String(20))
    author_is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    is_official: Mapped[bool] = mapped_column(Boolean, default=False)
    vote_score: Mapped[int] = mapped_column(default=0)
    flag_count: Mapped[int] = mapped_column(default=0)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    topic: Mapped[Topic] = relationship()
    author: Mapped[User] = relationship()


class PostRevision(db.Model):  # type: ignore[name-defined,misc]
    """The text a post had before an edit."""

    __tablename__ = "community_post_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("community_post.id", ondelete="CASCADE"), index=True
    )
    editor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body_markdown: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    editor: Mapped[User] = relationship()


class PostVote(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "community_post_vote"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("community_post.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PostFlag(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "community_post_flag"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class TopicSubscription(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "community_subscription"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("community_topic.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[str] = mapped_column(String(10), default="watching")
    # One mail per topic until the subscriber comes back to read it.
    mailed_since_visit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MemberSuspension(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "community_suspension"
    __table_args__ = (Index("ix_community_suspension_user_id_until", "user_id", "until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModerationAction(db.Model):  # type: ignore[name-defined,misc]
    """The moderation log: who did what to which post, topic or member, and why."""

    __tablename__ = "community_moderation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_post.id", ondelete="SET NULL"), index=True
    )
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_topic.id", ondelete="SET NULL"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    moderator: Mapped[User | None] = relationship(foreign_keys=[moderator_id])
    member: Mapped[User | None] = relationship(foreign_keys=[member_id])
