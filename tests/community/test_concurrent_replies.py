"""Replies to one topic at the same moment, on PostgreSQL: each gets its own position and
every counter counts them all (found by bench/faults.py: two replies took one position and
the second failed with a unique-constraint error)."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from portal import create_app
from portal.extensions import db

DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.live_db,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgresql"),
        reason="SQLite runs one writer at a time; the race needs PostgreSQL",
    ),
]

PARALLEL = 8


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[Flask]:
    from flask_migrate import upgrade

    schema = f"community_race_{secrets.token_hex(4)}"
    admin = create_engine(DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "pool_size": PARALLEL + 2,
                "connect_args": {"options": f"-csearch_path={schema}"},
            },
            "INSTANCE_DIR": str(tmp_path),
            "MAIL_BACKEND": "null",
            "RATELIMIT_ENABLED": False,
        },
    )
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_simultaneous_replies_get_distinct_positions_and_are_all_counted(pg_app: Flask) -> None:
    from portal.accounts.models import User
    from portal.accounts.services import create_user, ensure_reference_data
    from portal.community import services
    from portal.community.models import Category, Post, Topic

    with pg_app.app_context():
        ensure_reference_data()
        users = [
            create_user(f"racer{n}@example.com", "racing-password-1", roles=("agent",)).id
            for n in range(PARALLEL + 1)
        ]
        category = Category(slug="general", name="General", description="Anything", position=0)
        db.session.add(category)
        db.session.flush()
        author = db.session.get(User, users[0])
        assert author is not None
        topic_id = services.create_topic(author, category, "Where is my parcel?", "Any news?").id
        category_id = category.id
        db.session.commit()

    barrier = threading.Barrier(PARALLEL)
    errors: list[BaseException] = []

    def post_reply(user_id: int) -> None:
        with pg_app.app_context():
            try:
                topic = db.session.get(Topic, topic_id)
                user = db.session.get(User, user_id)
                assert topic is not None and user is not None
                _ = topic.category.post_count  # everything read before the others write
                barrier.wait(timeout=30)
                services.reply(user, topic, f"Reply from {user_id}.")
                db.session.commit()
            except BaseException as error:
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=post_reply, args=(u,)) for u in users[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    with pg_app.app_context():
        positions = db.session.scalars(
            select(Post.position).where(Post.topic_id == topic_id).order_by(Post.position)
        ).all()
        assert positions == list(range(1, PARALLEL + 2))
        topic = db.session.get(Topic, topic_id)
        category = db.session.get(Category, category_id)
        assert topic is not None and category is not None
        visible_replies = db.session.scalar(
            select(func.count(Post.id)).where(
                Post.topic_id == topic_id, Post.position > 1, Post.state == "visible"
            )
        )
        assert visible_replies == PARALLEL
        assert topic.last_position == PARALLEL + 1
        assert topic.reply_count == PARALLEL
        assert category.post_count == PARALLEL + 1
        assert topic.revision == 1 + PARALLEL + 1


def test_simultaneous_renames_are_each_counted_once(pg_app: Flask) -> None:
    """Members renaming themselves at the same moment, one of them a category too: every
    commit bumps the display revision once (in SQL, the counter's row lock taken last), and
    none waits on another for ever."""
    from portal.accounts.models import User
    from portal.accounts.services import create_user, ensure_reference_data
    from portal.community.models import Category, DisplayRevision

    with pg_app.app_context():
        ensure_reference_data()
        users = [
            create_user(f"renamer{n}@example.com", "renaming-password-1").id
            for n in range(PARALLEL)
        ]
        category = Category(slug="general", name="General", description="Anything", position=0)
        db.session.add(category)
        db.session.commit()
        category_id = category.id
        start = db.session.scalar(select(DisplayRevision.revision))

    barrier = threading.Barrier(PARALLEL)
    errors: list[BaseException] = []

    def rename(user_id: int) -> None:
        with pg_app.app_context():
            try:
                user = db.session.get(User, user_id)
                assert user is not None
                barrier.wait(timeout=30)
                user.preferred_name = f"Renamed {user_id}"
                db.session.flush()
                if user_id == users[0]:
                    shown = db.session.get(Category, category_id)
                    assert shown is not None
                    shown.name = "Renamed category"
                db.session.commit()
            except BaseException as error:
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=rename, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with pg_app.app_context():
        assert db.session.scalar(select(DisplayRevision.revision)) == start + PARALLEL
