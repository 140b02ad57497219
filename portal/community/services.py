"""Community rules: posting, trust and flood control, votes, answers, flags, subscriptions.

Services flush and never commit. Counters on categories and topics are kept here, so the
listing pages read them instead of counting rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.community import markup
from portal.community.models import (
    Category,
    MemberSuspension,
    Post,
    PostFlag,
    PostRevision,
    PostVote,
    Topic,
    TopicSubscription,
)
from portal.core.db import utcnow
from portal.extensions import db

FLOOD_INTERVAL = timedelta(seconds=15)
NEW_MEMBER_PERIOD = timedelta(days=7)
NEW_MEMBER_HOURLY_POSTS = 30
FLAGS_TO_HIDE = 3
POSTS_PER_PAGE = 20


def N_(message: str) -> str:
    return message


class PostingRefused(Exception):
    """A rule says no; ``message`` tells the member why and what to do."""

    def __init__(self, message: Any) -> None:
        super().__init__("posting refused")
        self.message = message


# --- Reading ----------------------------------------------------------------------------


def can_see_staff_areas(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_staff)


def visible_categories(user: Any) -> list[Category]:
    statement = select(Category).order_by(Category.position, Category.name)
    if not can_see_staff_areas(user):
        statement = statement.where(Category.staff_only.is_(False))
    return list(db.session.scalars(statement))


def slugify(title: str) -> str:
    normal = unicodedata.normalize("NFKC", title).lower()
    slug = re.sub(r"[^\w]+", "-", normal).strip("-_")
    return slug[:70] or "topic"


def topic_url(topic: Topic, *, page: int | None = None, external: bool = False) -> str:
    """The topic's address; works outside requests too (CLI, jobs), as a path."""
    if has_request_context():
        return url_for(
            "community.topic", topic_id=topic.id, slug=topic.slug, page=page, _external=external
        )
    suffix = f"?page={page}" if page and page > 1 else ""
    return f"/community/t/{topic.id}-{topic.slug}{suffix}"


def post_url(post: Post) -> str:
    page = (post.position - 1) // POSTS_PER_PAGE + 1
    return topic_url(post.topic, page=page if page > 1 else None) + f"#post-{post.id}"


# --- Trust, suspension and flood control --------------------------------------------------


def active_suspension(user_id: int, now: datetime | None = None) -> MemberSuspension | None:
    now = now or utcnow()
    return db.session.scalar(
        select(MemberSuspension)
        .where(
            MemberSuspension.user_id == user_id,
            MemberSuspension.until > now,
            MemberSuspension.lifted_at.is_(None),
        )
        .order_by(MemberSuspension.until.desc())
        .limit(1)
    )


def is_new_member(user: User, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return not user.is_staff and user.joined_at > now - NEW_MEMBER_PERIOD


def needs_approval(user: User) -> bool:
    """A member's first post waits for a moderator; after one approved post it does not."""
    if user.is_staff:
        return False
    approved = db.session.scalar(
        select(exists().where(Post.author_id == user.id, Post.state == "visible"))
    )
    return not approved


def check_can_post(user: User, now: datetime | None = None) -> None:
    """Raise PostingRefused when ``user`` may not post right now."""
    now = now or utcnow()
    suspension = active_suspension(user.id, now)
    if suspension is not None:
        raise PostingRefused(
            _l(
                "You cannot post until %(until)s: %(reason)s",
                until=suspension.until.strftime("%Y-%m-%d %H:%M UTC"),
                reason=suspension.reason,
            )
        )
    if user.is_staff:
        return
    last = db.session.scalar(select(func.max(Post.created_at)).where(Post.author_id == user.id))
    if last is not None and now - last < FLOOD_INTERVAL:
        wait = int((FLOOD_INTERVAL - (now - last)).total_seconds()) + 1
        raise PostingRefused(
            _l(
                "You are posting too fast. Please wait %(seconds)s seconds and send it again; "
                "your text is kept below.",
                seconds=wait,
            )
        )
    if is_new_member(user, now):
        recent = db.session.scalar(
            select(func.count(Post.id)).where(
                Post.author_id == user.id, Post.created_at > now - timedelta(hours=1)
            )
        )
        if (recent or 0) >= NEW_MEMBER_HOURLY_POSTS:
            raise PostingRefused(
                _l(
                    "New members can write at most %(count)s posts an hour. Please try again "
                    "later; your text is kept below.",
                    count=NEW_MEMBER_HOURLY_POSTS,
                )
            )


# --- Counters -------------------------------------------------------------------------------


def lock_for_update(
    topic: Topic | None = None, *categories: Category | None, post: Post | None = None
) -> None:
    """Lock and reload the rows whose counters a write is about to change.

    The counters (last position, reply and post counts, votes, revision) are read, changed
    and written back. SQLite runs one writer at a time, but PostgreSQL's READ COMMITTED lets
    two requests read the same values: two replies took the same position (the second failed
    on the unique constraint) and one's count was lost. Call before changing anything; the
    order (topic, categories by id, post) is the same everywhere, so writers queue instead of
    deadlocking.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return
    rows: list[tuple[Any, int]] = []
    if topic is not None:
        rows.append((Topic, topic.id))
    ids = sorted({c.id for c in categories if c is not None and c.id is not None})
    rows += [(Category, category_id) for category_id in ids]
    if post is not None:
        rows.append((Post, post.id))
    for model, row_id in rows:
        db.session.execute(
            select(model)
            .where(model.id == row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()


def _touch(topic: Topic) -> None:
    """Record a change readers of the topic's page, or of its category's list, can see."""
    topic.revision = (topic.revision or 0) + 1
    touch_category(topic.category)


def touch_category(category: Category) -> None:
    """A new revision for the category's topic list (its ETag and kept pages).

    Counted in SQL (``revision = revision + 1``): writers to two topics of one category hold
    only their own topic's lock, and each must still get a revision of its own.
    """
    category.revision = Category.revision + 1  # type: ignore[assignment]


def set_post_state(post: Post, new_state: str) -> None:
    """Change a post's state and keep the topic and category counters right."""
    old_state = post.state
    if old_state == new_state:
        return
    post.state = new_state
    topic = post.topic
    category = topic.category
    delta = (new_state == "visible") - (old_state == "visible")
    if post.position == 1:
        topic.state = new_state
        if delta:
            category.topic_count += delta
            category.post_count += delta * (1 + topic.reply_count)
    elif delta:
        topic.reply_count += delta
        if topic.state == "visible":
            category.post_count += delta
        if delta < 0 and post.created_at >= topic.last_post_at:
            _refresh_topic_activity(topic)
    if delta > 0 and post.created_at >= topic.last_post_at:
        # A restored question with later replies keeps their time.
        topic.last_post_at = post.created_at
        topic.last_poster_id = post.author_id
    if delta:
        note_latest(topic)
    _touch(topic)


def _refresh_topic_activity(topic: Topic) -> None:
    """The topic's last activity from its latest visible post, after that post went away."""
    latest = db.session.execute(
        select(Post.created_at, Post.author_id)
        .where(Post.topic_id == topic.id, Post.state == "visible")
        .order_by(Post.position.desc())
        .limit(1)
    ).first()
    if latest is not None:
        topic.last_post_at, topic.last_poster_id = latest


def note_latest(topic: Topic) -> None:
    """Keep the board index's "latest topic" of ``topic``'s category right.

    Call after the topic entered or left the category's listing (created, approved, hidden,
    restored, deleted, moved), or its last activity or title changed, with the category
    locked (``lock_for_update``). A listed topic at least as recent as the category's latest
    takes its place; the latest topic that left or went back in time gives it up to the next
    one, read from the topics.
    """
    category = topic.category
    if topic.state == "visible" and (
        category.last_post_at is None or topic.last_post_at >= category.last_post_at
    ):
        category.last_post_at = topic.last_post_at
        category.last_topic_id = topic.id
        category.last_topic_title = topic.title
    elif category.last_topic_id == topic.id:
        refresh_latest(category)


def _latest_listed(pinned: bool) -> Any:
    # One backward seek of ix_community_topic_category_listing per value of is_pinned (the
    # column between the category and the time), instead of a sort of the category's topics.
    return (
        select(Topic.last_post_at, Topic.id, Topic.title)
        .where(
            Topic.category_id == bindparam("category_id"),
            Topic.is_pinned == bindparam("pinned", pinned),
            Topic.state == "visible",
        )
        .order_by(Topic.last_post_at.desc(), Topic.id.desc())
        .limit(1)
    )


_LATEST_LISTED = (_latest_listed(False), _latest_listed(True))


def refresh_latest(category: Category) -> None:
    """Read the category's latest listed topic from its topics (none: no latest)."""
    found = [
        row
        for statement in _LATEST_LISTED
        if (row := db.session.execute(statement, {"category_id": category.id}).first()) is not None
    ]
    latest = max(found, default=None, key=lambda row: (row.last_post_at, row.id))
    category.last_post_at = latest.last_post_at if latest else None
    category.last_topic_id = latest.id if latest else None
    category.last_topic_title = latest.title if latest else None


# --- Writing --------------------------------------------------------------------------------


def _new_post(user: User, topic: Topic, body: str, now: datetime) -> Post:
    topic.last_position += 1
    post = Post(
        topic=topic,
        position=topic.last_position,
        author_id=user.id,
        body_markdown=body,
        body_html=markup.render(body),
        renderer_version=markup.RENDERER_VERSION,
        author_is_staff=user.is_staff,
        state="new",
        created_at=now,
    )
    db.session.add(post)
    return post


def create_topic(user: User, category: Category, title: str, body: str) -> Topic:
    lock_for_update(None, category)
    now = utcnow()
    check_can_post(user, now)
    topic = Topic(
        category=category,
        author_id=user.id,
        title=title.strip(),
        slug=slugify(title),
        state="new",
        last_position=0,
        reply_count=0,
        vote_count=0,
        revision=1,
        created_at=now,
        last_post_at=now,
        last_poster_id=user.id,
    )
    db.session.add(topic)
    post = _new_post(user, topic, body, now)
    db.session.flush()
    set_post_state(post, "pending" if needs_approval(user) else "visible")
    subscribe(user.id, topic, "watching")
    db.session.flush()
    return topic


def reply(user: User, topic: Topic, body: str) -> Post:
    lock_for_update(topic, topic.category)
    if topic.is_locked and not user.is_staff:
        raise PostingRefused(_l("This topic is locked; it takes no new replies."))
    now = utcnow()
    check_can_post(user, now)
    post = _new_post(user, topic, body, now)
    db.session.flush()
    set_post_state(post, "pending" if needs_approval(user) else "visible")
    subscribe(user.id, topic, "watching", keep_existing=True)
    db.session.flush()
    if post.state == "visible":
        notify_subscribers(post)
    return post


def edit_post(user: User, post: Post, body: str, title: str | None = None) -> None:
    check_suspension(user)
    lock_for_update(post.topic, post=post)
    if body != post.body_markdown:
        db.session.add(
            PostRevision(post_id=post.id, editor_id=user.id, body_markdown=post.body_markdown)
        )
        post.body_markdown = body
        post.body_html = markup.render(body)
        post.renderer_version = markup.RENDERER_VERSION
        post.edited_at = utcnow()
    if title is not None and post.position == 1 and title.strip() != post.topic.title:
        post.topic.title = title.strip()
        post.topic.slug = slugify(title)
        # The board's index names each category's latest topic: checked in the UPDATE, as
        # a reply elsewhere in the category may have just made another topic the latest.
        db.session.connection().execute(
            update(Category)
            .where(Category.id == post.topic.category_id, Category.last_topic_id == post.topic.id)
            .values(last_topic_title=post.topic.title)
        )
    _touch(post.topic)
    db.session.flush()


def check_suspension(user: User) -> None:
    suspension = active_suspension(user.id)
    if suspension is not None:
        raise PostingRefused(
            _l(
                "You cannot post until %(until)s: %(reason)s",
                until=suspension.until.strftime("%Y-%m-%d %H:%M UTC"),
                reason=suspension.reason,
            )
        )


def delete_own_post(user: User, post: Post) -> None:
    """Soft delete: the text stays for moderators, readers see that it was removed."""
    lock_for_update(post.topic, post.topic.category, post=post)
    post.deleted_at = utcnow()
    set_post_state(post, "deleted")
    topic = post.topic
    if topic.accepted_post_id == post.id:
        topic.accepted_post_id = None
    db.session.flush()


def revisions(post: Post) -> list[PostRevision]:
    return list(
        db.session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .order_by(PostRevision.created_at.desc(), PostRevision.id.desc())
        )
    )


# --- Votes, answers --------------------------------------------------------------------------


def vote(user: User, post: Post) -> bool:
    """Add the user's vote; a second vote by the same user changes nothing. True if counted."""
    if post.author_id == user.id:
        return False
    lock_for_update(post.topic, post=post)
    try:
        with db.session.begin_nested():
            db.session.add(PostVote(post_id=post.id, user_id=user.id))
    except IntegrityError:
        return False
    post.vote_score += 1
    if post.position == 1:
        post.topic.vote_count += 1
    _touch(post.topic)
    db.session.flush()
    return True


def unvote(user: User, post: Post) -> bool:
    lock_for_update(post.topic, post=post)
    result: Any = db.session.execute(
        delete(PostVote).where(PostVote.post_id == post.id, PostVote.user_id == user.id)
    )
    if not result.rowcount:
        return False
    post.vote_score -= 1
    if post.position == 1:
        post.topic.vote_count -= 1
    _touch(post.topic)
    db.session.flush()
    return True


def accept_answer(topic: Topic, post: Post | None) -> None:
    """Mark ``post`` as the accepted answer (None clears it)."""
    if post is not None and (post.topic_id != topic.id or post.position == 1):
        raise ValueError("an answer is a reply in the same topic")
    lock_for_update(topic)
    topic.accepted_post_id = post.id if post is not None else None
    _touch(topic)
    db.session.flush()
    if post is not None and post.author_id != topic.author_id:
        from portal.jobs.notifications import notify

        notify(
            post.author_id,
            kind="community.accepted",
            message=N_("Your answer in “%(title)s” was accepted."),
            data={"title": topic.title},
            url=topic_url(topic),
        )


def mark_official(post: Post, official: bool = True) -> None:
    lock_for_update(post.topic, post=post)
    topic = post.topic
    post.is_official = official
    if official:
        topic.official_post_id = post.id
    elif topic.official_post_id == post.id:
        topic.official_post_id = None
    _touch(topic)
    db.session.flush()


# --- Flags -----------------------------------------------------------------------------------


def flag_post(user: User, post: Post, reason: str, note: str | None = None) -> bool:
    """Record a flag; the third distinct member's flag hides the post until reviewed.

    Returns False when this member had already flagged the post (nothing changes).
    """
    lock_for_update(post.topic, post.topic.category, post=post)
    try:
        with db.session.begin_nested():
            db.session.add(PostFlag(post_id=post.id, user_id=user.id, reason=reason, note=note))
    except IntegrityError:
        return False
    open_flags = (
        db.session.scalar(
            select(func.count(PostFlag.id)).where(
                PostFlag.post_id == post.id, PostFlag.resolved_at.is_(None)
            )
        )
        or 0
    )
    post.flag_count = open_flags
    if open_flags >= FLAGS_TO_HIDE and post.state == "visible":
        post.hidden_reason = "flags"
        set_post_state(post, "hidden")
    db.session.flush()
    return True


def resolve_flags(post: Post) -> None:
    db.session.execute(
        update(PostFlag)
        .where(PostFlag.post_id == post.id, PostFlag.resolved_at.is_(None))
        .values(resolved_at=utcnow())
    )
    post.flag_count = 0
    post.reviewed_at = utcnow()


# --- Subscriptions and notifications ---------------------------------------------------------


def subscription(user_id: int, topic_id: int) -> TopicSubscription | None:
    return db.session.get(TopicSubscription, (topic_id, user_id))


def subscribe(user_id: int, topic: Topic, level: str, *, keep_existing: bool = False) -> None:
    existing = subscription(user_id, topic.id)
    if existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(TopicSubscription(topic_id=topic.id, user_id=user_id, level=level))
        except IntegrityError:
            return
    elif not keep_existing:
        existing.level = level
    db.session.flush()


def unsubscribe(user_id: int, topic: Topic) -> None:
    db.session.execute(
        delete(TopicSubscription).where(
            TopicSubscription.topic_id == topic.id, TopicSubscription.user_id == user_id
        )
    )


def mark_visited(user_id: int, topic: Topic) -> None:
    """The subscriber read the topic: the next reply may send a mail again."""
    db.session.execute(
        update(TopicSubscription)
        .where(
            TopicSubscription.topic_id == topic.id,
            TopicSubscription.user_id == user_id,
            TopicSubscription.mailed_since_visit.is_(True),
        )
        .values(mailed_since_visit=False)
    )


def notify_subscribers(post: Post) -> int:
    """Tell watchers about a new visible reply: on /notifications, and by one mail per
    topic until they come back to read it (a busy topic does not flood their inbox)."""
    from portal.jobs.notifications import notify
    from portal.jobs.outbox import queue_mail

    topic = post.topic
    rows = db.session.execute(
        select(TopicSubscription, User)
        .join(User, User.id == TopicSubscription.user_id)
        .where(
            TopicSubscription.topic_id == topic.id,
            TopicSubscription.level == "watching",
            TopicSubscription.user_id != post.author_id,
            User.active.is_(True),
            User.deleted_at.is_(None),
        )
    ).all()
    url = post_url(post)
    author = db.session.get(User, post.author_id)
    author_name = author.display_name if author else ""
    mailed = 0
    for sub, member in rows:
        notify(
            member.id,
            kind="community.reply",
            message=N_("%(name)s replied in “%(title)s”."),
            data={"name": author_name, "title": topic.title},
            url=url,
        )
        if sub.mailed_since_visit:
            continue
        sub.mailed_since_visit = True
        queue_mail(
            to=member.email,
            template="community_reply",
            subject=_l("New reply in “%(title)s”", title=topic.title),
            context={
                "topic": topic,
                "author_name": author_name,
                "excerpt": post.body_markdown[:500],
                "url": topic_url(topic, external=True),
                "recipient": member,
            },
            locale=member.locale,
            user_id=member.id,
            headers={"List-Id": f"<topic-{topic.id}.community>"},
        )
        mailed += 1
    db.session.flush()
    return mailed


# --- Complaints (the feedback feature) -------------------------------------------------------

#: Set by the feedback feature: ``opener(topic, author, staff) -> reference`` opens a
#: complaint for a topic and returns its reference (e.g. "FB-2026-000123").
COMPLAINT_HOOK: dict[str, Callable[..., str] | None] = {"open": None}


def register_complaint_opener(opener: Callable[..., str]) -> None:
    COMPLAINT_HOOK["open"] = opener


def _complaint_opener() -> Callable[..., str] | None:
    if COMPLAINT_HOOK["open"] is not None:
        return COMPLAINT_HOOK["open"]
    return open_complaint_from_topic


def open_complaint_from_topic(*, topic: Topic, author: User | None, staff: User) -> str:
    """Open a complaint for the topic's author with the question as its message."""
    from portal.feedback.services import open_item

    if author is None:
        raise ValueError("the topic's author is gone")
    first = db.session.scalar(
        select(Post).where(Post.topic_id == topic.id).order_by(Post.position).limit(1)
    )
    message = first.body_markdown if first is not None else topic.title
    item = open_item(
        author,
        "complaint",
        topic.title[:200],
        message,
        source="community",
        source_ref=f"topic-{topic.id}",
    )
    return item.reference


def complaints_available() -> bool:
    return _complaint_opener() is not None


def topic_for_complaint(reference: str) -> Topic | None:
    """The topic a complaint was opened from, for the feedback feature to link back."""
    return db.session.scalar(select(Topic).where(Topic.complaint_ref == reference))
