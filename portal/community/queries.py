"""Read models for the community pages: each page's data in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.community import policies
from portal.community.models import Category, DisplayRevision, Post, PostVote, Topic
from portal.community.services import POSTS_PER_PAGE
from portal.core.db import read_first
from portal.extensions import db

TOPICS_PER_PAGE = 30


# Built once: composing a statement with its loader options costs more CPU than running it,
# and these run on every read of a public page, where a kept page leaves little else to do.
_TOPIC_WITH_CATEGORY = (
    select(Topic).where(Topic.id == bindparam("topic_id")).options(joinedload(Topic.category))
)
_CATEGORY_BY_SLUG = select(Category).where(Category.slug == bindparam("slug"))


# What a visitor's kept page is checked against, read as plain columns (no ORM objects): the
# rows a visitor may see, as policies.can_view_topic / can_view_category decide for someone
# signed out (tests/community/test_page_cache.py holds both to the same answers), and the
# community's display revision (what the page shows of members and categories, changed
# elsewhere: portal.community.display), in the same statement.
_DISPLAY_REVISION = (
    select(DisplayRevision.revision)
    .where(DisplayRevision.id == 1)
    .scalar_subquery()
    .label("display_revision")
)
_PUBLIC_TOPIC_STAMP = (
    select(Topic.id, Topic.slug, Topic.revision, Topic.last_position, _DISPLAY_REVISION)
    .join(Category, Category.id == Topic.category_id)
    .where(
        Topic.id == bindparam("topic_id"),
        Topic.state == "visible",
        Category.staff_only.is_(False),
    )
)
_PUBLIC_CATEGORY_STAMP = select(
    Category.id,
    Category.slug,
    Category.revision,
    Category.name,
    Category.description,
    _DISPLAY_REVISION,
).where(Category.slug == bindparam("slug"), Category.staff_only.is_(False))


def public_topic_stamp(topic_id: int) -> Any:
    """The id, slug, revision, last position and display revision of a topic visitors may
    read, else None."""
    # Without the ORM's execution layer, and on PostgreSQL without a transaction of its own.
    return read_first(_PUBLIC_TOPIC_STAMP, {"topic_id": topic_id}, db.session)


def public_category_stamp(slug: str) -> Any:
    """The id, slug, revision, name, description and display revision of a category visitors
    may read, else None."""
    return read_first(_PUBLIC_CATEGORY_STAMP, {"slug": slug}, db.session)


def topic_with_category(topic_id: int) -> Topic | None:
    return db.session.scalar(_TOPIC_WITH_CATEGORY, {"topic_id": topic_id})


def category_by_slug(slug: str) -> Category | None:
    return db.session.scalar(_CATEGORY_BY_SLUG, {"slug": slug})


def post_with_topic(post_id: int) -> Post | None:
    return db.session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.topic).joinedload(Topic.category), joinedload(Post.author))
    )


def category_topics(category: Category, page: int) -> tuple[list[Topic], bool]:
    topics = list(
        db.session.scalars(
            select(Topic)
            .where(Topic.category_id == category.id, Topic.state == "visible")
            .options(joinedload(Topic.author), joinedload(Topic.last_poster))
            .order_by(Topic.is_pinned.desc(), Topic.last_post_at.desc(), Topic.id.desc())
            .limit(TOPICS_PER_PAGE + 1)
            .offset((page - 1) * TOPICS_PER_PAGE)
        )
    )
    return topics[:TOPICS_PER_PAGE], len(topics) > TOPICS_PER_PAGE


@dataclass
class TopicPage:
    page: int
    page_count: int
    question: Post | None
    accepted: Post | None
    official: Post | None
    posts: list[Post]
    my_votes: set[int] = field(default_factory=set)

    @property
    def page_links(self) -> list[int | None]:
        return page_links(self.page, self.page_count)


#: Page links shown on each side of the current page, and at each end of the topic.
PAGE_LINKS_AROUND = 2
PAGE_LINKS_AT_ENDS = 1


def page_links(page: int, count: int) -> list[int | None]:
    """The page numbers a topic's pager links to; None stands for a gap ("…").

    The first and last pages and a few around the current one: a topic of 20,000 posts has
    1,000 pages, and a link to each made its every page some 100 KB of pager. A gap of a
    single page shows that page instead.
    """
    wanted = set(range(1, min(PAGE_LINKS_AT_ENDS, count) + 1))
    wanted |= set(range(max(1, count - PAGE_LINKS_AT_ENDS + 1), count + 1))
    wanted |= set(range(max(1, page - PAGE_LINKS_AROUND), min(count, page + PAGE_LINKS_AROUND) + 1))
    links: list[int | None] = []
    previous = 0
    for number in sorted(wanted):
        if number - previous == 2:
            links.append(number - 1)
        elif number - previous > 2:
            links.append(None)
        links.append(number)
        previous = number
    return links


def page_count(topic: Any) -> int:
    """Pages of a topic (or of its stamp: anything with ``last_position``)."""
    return max(1, (topic.last_position - 1) // POSTS_PER_PAGE + 1)


def topic_page(topic: Topic, page: int, viewer: Any) -> TopicPage:
    """One query for the page's posts, the question and the accepted/official answers.

    Pages are ranges of the per-topic position (an index seek, not OFFSET), so the number
    of queries and their cost do not grow with the topic.
    """
    low = (page - 1) * POSTS_PER_PAGE + 1
    high = page * POSTS_PER_PAGE
    wanted = [Post.position.between(low, high), Post.position == 1]
    extra_ids = [i for i in (topic.accepted_post_id, topic.official_post_id) if i]
    if extra_ids:
        wanted.append(Post.id.in_(extra_ids))
    statement = (
        select(Post)
        .where(Post.topic_id == topic.id, or_(*wanted))
        .options(joinedload(Post.author))
        .order_by(Post.position)
    )
    if not policies.is_moderator(viewer):
        mine = Post.author_id == (viewer.id if viewer.is_authenticated else -1)
        statement = statement.where(or_(Post.state != "pending", mine))
    rows = list(db.session.scalars(statement))
    by_id = {post.id: post for post in rows}
    question = next((post for post in rows if post.position == 1), None)
    accepted = by_id.get(topic.accepted_post_id or 0)
    official = by_id.get(topic.official_post_id or 0)
    posts = [post for post in rows if low <= post.position <= high]
    if page == 1:
        posts = [post for post in posts if post.position != 1]
    view = TopicPage(
        page=page,
        page_count=page_count(topic),
        question=question,
        accepted=accepted if accepted is not None and accepted.state == "visible" else None,
        official=official if official is not None and official.state == "visible" else None,
        posts=posts,
    )
    if viewer.is_authenticated and rows:
        view.my_votes = set(
            db.session.scalars(
                select(PostVote.post_id).where(
                    PostVote.user_id == viewer.id, PostVote.post_id.in_(list(by_id))
                )
            )
        )
    return view


def member(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def member_stats(member: User, viewer: Any) -> dict[str, Any]:
    visible = (Post.author_id == member.id, Post.state == "visible", Topic.state == "visible")
    public = [] if policies.is_staff(viewer) else [Category.staff_only.is_(False)]
    post_count = db.session.scalar(
        select(func.count(Post.id))
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(*visible, *public)
    )
    accepted_count = db.session.scalar(
        select(func.count(Topic.id))
        .join(Post, Post.id == Topic.accepted_post_id)
        .join(Category, Category.id == Topic.category_id)
        .where(*visible, *public)
    )
    recent = list(
        db.session.scalars(
            select(Post)
            .join(Topic, Topic.id == Post.topic_id)
            .join(Category, Category.id == Topic.category_id)
            .where(*visible, *public)
            .options(joinedload(Post.topic))
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(20)
        )
    )
    return {
        "post_count": post_count or 0,
        "accepted_count": accepted_count or 0,
        "recent_posts": recent,
    }


def my_recent_topics(user_id: int, limit: int = 5) -> list[Topic]:
    """The member's topics with the latest activity first (for the home page)."""
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.author_id == user_id, Topic.state.in_(("visible", "pending")))
            .options(joinedload(Topic.last_poster))
            .order_by(Topic.last_post_at.desc(), Topic.id.desc())
            .limit(limit)
        )
    )
