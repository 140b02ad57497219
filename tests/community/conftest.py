"""Community fixtures: a board with a public and a staff-only category, and topics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from portal.accounts.models import User
from portal.community import services
from portal.community.models import Category, Topic
from portal.core.db import utcnow
from portal.extensions import db


@pytest.fixture
def board(app: Any) -> dict[str, int]:
    with app.app_context():
        general = Category(slug="general", name="General", description="Anything", position=0)
        staff_room = Category(
            slug="staff-room", name="Staff room", description="Team", position=1, staff_only=True
        )
        db.session.add_all([general, staff_room])
        db.session.commit()
        return {"general": general.id, "staff": staff_room.id}


def post_topic(client: Any, category_id: int, title: str, body: str) -> Any:
    """Write a topic through the form, as its author would: the response to the POST."""
    from tests.conftest import csrf_from

    page = client.get("/community/new").get_data(as_text=True)
    return client.post(
        "/community/new",
        data={
            "category": category_id,
            "title": title,
            "body": body,
            "csrf_token": csrf_from(page),
        },
    )


def user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def seed_topic(
    author_email: str,
    category_id: int,
    title: str = "How do I track my parcel?",
    body: str = "I ordered last week and see no tracking number.",
    replies: list[tuple[str, str]] | None = None,
    hours_ago: float = 3,
) -> int:
    """A visible topic written earlier (no approval, no flood control): call in an app context."""
    when = utcnow() - timedelta(hours=hours_ago)
    author = user_by_email(author_email)
    category = db.session.get(Category, category_id)
    topic = Topic(
        category=category,
        author_id=author.id,
        title=title,
        slug=services.slugify(title),
        state="new",
        last_position=0,
        reply_count=0,
        vote_count=0,
        revision=1,
        created_at=when,
        last_post_at=when,
    )
    db.session.add(topic)
    first = services._new_post(author, topic, body, when)
    db.session.flush()
    services.set_post_state(first, "visible")
    services.subscribe(author.id, topic, "watching")
    for number, (email, text) in enumerate(replies or [], start=1):
        post = services._new_post(
            user_by_email(email), topic, text, when + timedelta(seconds=number)
        )
        db.session.flush()
        services.set_post_state(post, "visible")
    db.session.commit()
    return topic.id


@pytest.fixture
def trusted(make_user: Any, app: Any, board: dict[str, int]) -> Any:
    """A customer who already has an approved post (so new posts need no approval)."""

    def _make(email: str, **profile: Any) -> int:
        user_id = make_user(email, **profile)
        with app.app_context():
            seed_topic(email, board["general"], title="Hello, everyone", hours_ago=5)
        return int(user_id)

    return _make


@contextmanager
def count_queries(app: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    with app.app_context():
        target = db.engines[None]
    event.listen(target, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", _count)
