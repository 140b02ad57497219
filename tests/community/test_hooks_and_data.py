"""Complaints hook, GDPR export and erasure, muting, re-rendering, the signed-in query budget."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.services import delete_account, export_personal_data
from portal.community import markup, moderation, services
from portal.community.cli import rerender_posts
from portal.community.models import Post, PostVote, Topic, TopicSubscription
from portal.extensions import db
from portal.jobs.models import Notification, OutboxMessage
from tests.community.conftest import count_queries, seed_topic, user_by_email
from tests.conftest import login


def test_topic_turns_into_a_complaint_and_gets_a_solution(app, make_user, board):
    make_user("unhappy@example.com")
    make_user("care@example.com", roles=("agent", "moderator"))
    opened = []

    def opener(*, topic, author, staff):
        opened.append((topic.id, author.email, staff.email))
        return "FB-2026-000042"

    original = services.COMPLAINT_HOOK["open"]
    services.register_complaint_opener(opener)
    try:
        with app.test_request_context():
            topic_id = seed_topic(
                "unhappy@example.com", board["general"], title="Broken on arrival"
            )
            topic = db.session.get(Topic, topic_id)
            staff = user_by_email("care@example.com")
            assert (
                moderation.turn_into_complaint(staff, topic, "Needs a refund") == "FB-2026-000042"
            )
            assert topic.complaint_ref == "FB-2026-000042"
            told = db.session.scalars(
                select(Notification).where(
                    Notification.user_id == topic.author_id,
                    Notification.kind == "community.complaint",
                )
            ).all()
            assert len(told) == 1
            # When the complaint is resolved, its answer is published in the topic.
            post = moderation.publish_solution(staff, topic, "We sent a replacement.")
            assert post.is_official and topic.accepted_post_id == post.id
            assert post.state == "visible" and topic.reply_count == 1
            db.session.rollback()
    finally:
        services.COMPLAINT_HOOK["open"] = original
    assert opened and opened[0][1] == "unhappy@example.com"


def test_personal_data_export_and_erasure(app, make_user, board):
    make_user("leaving@example.com")
    make_user("stays@example.com")
    with app.app_context():
        topic_id = seed_topic(
            "stays@example.com", board["general"], replies=[("leaving@example.com", "My answer")]
        )
        leaving = user_by_email("leaving@example.com")
        first = db.session.scalar(select(Post).where(Post.topic_id == topic_id, Post.position == 1))
        services.vote(leaving, first)
        data = export_personal_data(leaving)
        assert data["community"]["posts"][0]["text"] == "My answer"
        assert data["community"]["votes"] == [first.id]
        delete_account(leaving)
        db.session.flush()
        assert (
            db.session.scalars(select(PostVote).where(PostVote.user_id == leaving.id)).all() == []
        )
        assert (
            db.session.scalars(
                select(TopicSubscription).where(TopicSubscription.user_id == leaving.id)
            ).all()
            == []
        )
        # The post stays; its author shows as a deleted member.
        assert db.session.scalar(select(Post.id).where(Post.body_markdown == "My answer"))
        db.session.commit()
        profile_id = leaving.id
    client = app.test_client()
    page = client.get(f"/community/t/{topic_id}", follow_redirects=True).get_data(as_text=True)
    assert "My answer" in page and "Deleted member" in page
    assert "Deleted member" in client.get(f"/community/u/{profile_id}").get_data(as_text=True)


def test_muted_members_hear_nothing(app, make_user, board):
    make_user("muter@example.com")
    make_user("replier@example.com")
    with app.test_request_context():
        topic_id = seed_topic("muter@example.com", board["general"], title="Quiet please")
        topic = db.session.get(Topic, topic_id)
        muter = user_by_email("muter@example.com")
        services.subscribe(muter.id, topic, "muted")
        post = services._new_post(
            user_by_email("replier@example.com"), topic, "Hello", topic.created_at
        )
        db.session.flush()
        services.set_post_state(post, "visible")
        assert services.notify_subscribers(post) == 0
        assert (
            db.session.scalars(select(Notification).where(Notification.user_id == muter.id)).all()
            == []
        )
        assert (
            db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.to_address == "muter@example.com")
            ).all()
            == []
        )
        db.session.rollback()


def test_rerender_applies_new_rules(app, make_user, board):
    make_user("old@example.com")
    with app.app_context():
        topic_id = seed_topic("old@example.com", board["general"], body="**now bold**")
        post = db.session.scalar(select(Post).where(Post.topic_id == topic_id))
        post.body_html = "<p>stale</p>"
        post.renderer_version = markup.RENDERER_VERSION - 1
        db.session.flush()
        assert rerender_posts() == 1
        assert "<strong>now bold</strong>" in post.body_html
        assert post.renderer_version == markup.RENDERER_VERSION
        assert rerender_posts() == 0
        db.session.rollback()


def test_signed_in_topic_page_has_a_fixed_query_count(app, client, make_user, board):
    make_user("reader@example.com")
    with app.app_context():
        small = seed_topic(
            "reader@example.com",
            board["general"],
            title="Small one",
            replies=[("reader@example.com", f"r{n}") for n in range(3)],
        )
        large = seed_topic(
            "reader@example.com",
            board["general"],
            title="Large one",
            replies=[("reader@example.com", f"r{n}") for n in range(90)],
        )
    login(client, "reader@example.com")
    counts = []
    for url in (f"/community/t/{small}-small-one", f"/community/t/{large}-large-one?page=3"):
        with count_queries(app) as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts
