"""The approval queue for first posts, and query budgets of the other list pages."""

from __future__ import annotations

from sqlalchemy import select

from portal.community import services
from portal.community.models import ModerationAction, Post, Topic
from portal.extensions import db
from portal.jobs.models import Notification
from tests.community.conftest import count_queries, seed_topic, user_by_email
from tests.conftest import csrf_from, login


def test_first_post_waits_for_approval_then_notifies(app, client, make_user, board):
    make_user("newbie@example.com")
    make_user("owner@example.com")
    make_user("mod3@example.com", roles=("moderator",))
    with app.app_context():
        topic_id = seed_topic("owner@example.com", board["general"], title="Returns abroad")
    login(client, "newbie@example.com")
    page = client.get(f"/community/t/{topic_id}", follow_redirects=True).get_data(as_text=True)
    response = client.post(
        f"/community/t/{topic_id}/reply",
        data={"body": "First words here", "csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert "waits for a moderator" in response.get_data(as_text=True)
    # The author sees it marked as waiting; others do not see it at all.
    assert "Waiting for approval" in response.get_data(as_text=True)
    anonymous = app.test_client().get(f"/community/t/{topic_id}", follow_redirects=True)
    assert "First words here" not in anonymous.get_data(as_text=True)
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.body_markdown == "First words here"))
        assert post.state == "pending"
        assert db.session.get(Topic, topic_id).reply_count == 0
        post_id = post.id
        owner_id = user_by_email("owner@example.com").id
        assert not db.session.scalars(
            select(Notification).where(Notification.user_id == owner_id)
        ).all()

    moderator = app.test_client()
    login(moderator, "mod3@example.com")
    queue = moderator.get("/staff/moderation").get_data(as_text=True)
    assert "First words here" in queue
    moderator.post(
        f"/staff/moderation/post/{post_id}",
        data={"action": "approve", "reason": "Looks fine", "csrf_token": csrf_from(queue)},
    )
    with app.app_context():
        assert db.session.get(Post, post_id).state == "visible"
        assert db.session.get(Topic, topic_id).reply_count == 1
        assert db.session.scalars(
            select(Notification).where(Notification.user_id == owner_id)
        ).all()
        entry = db.session.scalar(
            select(ModerationAction).where(ModerationAction.post_id == post_id)
        )
        assert entry.action == "post.approve" and entry.reason == "Looks fine"
        # After one approved post, the next goes straight through.
        assert not services.needs_approval(user_by_email("newbie@example.com"))


def test_search_profile_and_queue_have_query_budgets(app, client, make_user, board):
    make_user("busy@example.com")
    make_user("mod4@example.com", roles=("moderator",))
    with app.app_context():
        for n in range(8):
            topic_id = seed_topic(
                "busy@example.com",
                board["general"],
                title=f"Topic about lockers {n}",
                replies=[("busy@example.com", f"lockers reply {n}")],
            )
            post = db.session.scalar(
                select(Post).where(Post.topic_id == topic_id, Post.position == 2)
            )
            post.hidden_reason = "flags"
            services.set_post_state(post, "hidden")
        db.session.commit()
        busy_id = user_by_email("busy@example.com").id
    with count_queries(app) as statements:
        assert client.get("/community/search?q=lockers").status_code == 200
    assert len(statements) <= 2
    with count_queries(app) as statements:
        assert client.get(f"/community/u/{busy_id}").status_code == 200
    assert len(statements) <= 4
    login(client, "mod4@example.com")
    with count_queries(app) as statements:
        page = client.get("/staff/moderation")
    assert page.status_code == 200 and "lockers reply 7" in page.get_data(as_text=True)
    assert len(statements) <= 10
