"""A community topic becomes a complaint; its resolution is published back as the answer."""

from __future__ import annotations

from sqlalchemy import select

from portal.community import moderation
from portal.community.models import Post, Topic
from portal.extensions import db
from portal.feedback import services, settings
from portal.feedback.models import FeedbackItem
from tests.community.conftest import seed_topic, user_by_email
from tests.conftest import csrf_from


def test_topic_to_complaint_and_solution_back(app, make_user, board, logged_in):
    make_user("asker@example.com")
    make_user("mod@example.com", roles=("moderator", "manager"))
    with app.test_request_context():
        topic_id = seed_topic(
            "asker@example.com", board["general"], title="My parcel arrived broken"
        )
        topic = db.session.get(Topic, topic_id)
        reference = moderation.turn_into_complaint(
            user_by_email("mod@example.com"), topic, "Refund"
        )
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        assert item.user.email == "asker@example.com" and item.source == "community"
        assert "no tracking number" in item.message
        # Doing it again changes nothing.
        assert (
            moderation.turn_into_complaint(user_by_email("mod@example.com"), topic, "x")
            == reference
        )
        services.resolve(
            item,
            user_by_email("mod@example.com"),
            root_cause=settings.root_causes()[0],
            what_went_wrong="Packed badly",
            how_resolved="We sent a new one.",
            prevention="Better boxes",
        )
        db.session.commit()
    client = logged_in("lead@example.com", roles=("manager",))
    page = client.get(f"/staff/feedback/{reference}").get_data(as_text=True)
    assert "Share the solution with the community" in page and "We sent a new one." in page
    token = csrf_from(page)
    done = client.post(
        f"/staff/feedback/{reference}/publish",
        data={"csrf_token": token, "publish-answer": "We sent a new one."},
    )
    assert done.status_code == 302
    again = client.post(
        f"/staff/feedback/{reference}/publish",
        data={"csrf_token": token, "publish-answer": "Twice?"},
    )
    assert again.status_code == 404
    with app.app_context():
        topic = db.session.get(Topic, topic_id)
        answer = db.session.get(Post, topic.accepted_post_id)
        assert answer.is_official and "We sent a new one." in answer.body_markdown
        assert topic.official_post_id == answer.id
