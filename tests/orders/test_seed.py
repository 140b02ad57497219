"""Demo order histories and the scale generator."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts.models import CustomerValue, User
from portal.extensions import db
from portal.orders.models import ORDER_STATUSES, Order, OrderEvent, OrderItem


def test_demo_histories(app, client):
    from portal.core.demo import load_demo_data

    with app.app_context():
        assert load_demo_data()
        db.session.commit()
        statuses = set(db.session.scalars(select(Order.status).distinct()))
        assert statuses == set(ORDER_STATUSES)
        rows = db.session.execute(
            select(User.email, CustomerValue).join(CustomerValue, CustomerValue.user_id == User.id)
        ).all()
        values = {row[0]: row[1] for row in rows}
        anna = values["anna@example.com"]
        assert anna.is_golden and anna.stage == "commitment"
        # By hand, from portal/orders/demo.py (prices in cents, free shipping from 50 EUR):
        # in the last 12 months she paid for the orders 300 days ago (jacket 12900),
        # 150 (headphones 14900 + 2 bottles 3980), 90 (backpack 8900 + knife 7900),
        # 40 (jacket 12900 + scarf 3900), 12 (2 games 6980 + 2 teas 4980) and 5 days ago
        # (dinner set 18900 + 2 mugs 2900); the headphones of 210 days ago were refunded.
        assert anna.spend_12m_minor == 12900 + 18880 + 16800 + 16800 + 11960 + 21800
        assert anna.order_count == 10
        # Before that: 4 mugs and a tea (8290), 2 scarves (7800), a lamp and 2 notebooks
        # (8070): 123,300 over 9 paid orders.
        assert anna.average_order_minor == 13700
        assert anna.spend_by_month[max(anna.spend_by_month)] > 0
        olga = values["olga@example.com"]
        # 3 orders (the cancelled-then-refunded one was an order), last one 260 days ago:
        # 3 teas (7470) in the window; lapsed 180 days after that order.
        assert (olga.order_count, olga.spend_12m_minor) == (3, 7470)
        assert olga.lapsed_at == olga.last_order_at + timedelta(days=180)
        assert sum(v.is_golden for v in values.values()) >= 2
        assert values["olga@example.com"].is_lapsed
        assert values["olga@example.com"].stage == "dissolution"
        assert values["li@example.com"].stage == "awareness"
        damaged = db.session.scalar(select(Order).where(Order.number == "SO-104211"))
        assert damaged.status == "delivered" and damaged.user.email == "anna@example.com"
        # Every demo customer has orders.
        for email in ("anna", "piotr", "olga", "li", "layla", "ben"):
            assert values[f"{email}@example.com"].order_count >= 1, email


def test_seed_scale_small_run(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["portal", "seed-scale", "--customers", "40", "--orders", "300", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output
    # Counts not given follow --customers: 10 posts and responses, 2 feedback items each.
    assert "400 posts" in result.output and "80 feedback items" in result.output
    assert re.search(r"^value\s+40\s", result.output, re.MULTILINE), result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 300
        assert db.session.scalar(select(func.count(OrderItem.id))) >= 300
        assert db.session.scalar(select(func.count(OrderEvent.id))) >= 300
        assert db.session.scalar(select(func.count()).select_from(CustomerValue)) == 40
        golden = db.session.scalar(
            select(func.count()).select_from(CustomerValue).where(CustomerValue.is_golden)
        )
        assert golden == 4
        # The events agree with the status of each order.
        last_event = db.session.scalar(
            select(OrderEvent.status)
            .order_by(OrderEvent.occurred_at.desc(), OrderEvent.id.desc())
            .where(OrderEvent.order_id == select(func.min(Order.id)).scalar_subquery())
        )
        first = db.session.scalar(select(Order).order_by(Order.id))
        assert last_event == first.status
    # New rows after the explicit ids still get fresh ids (PostgreSQL sequences were moved on).
    recompute = runner.invoke(args=["portal", "recompute-value"])
    assert recompute.exit_code == 0 and "Recomputed 40 customers" in recompute.output


def test_ids_continue_after_seed_scale(app, make_user):
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["portal", "seed-scale", "--customers", "3", "--orders", "5"]).exit_code
        == 0
    )
    assert make_user("after-scale@example.com") > 0


TINY = [
    "portal", "seed-scale", "--customers", "60", "--orders", "400", "--posts", "500",
    "--big-topic-posts", "150", "--responses", "600", "--feedback", "400", "--seed", "3",
]  # fmt: skip


def test_seed_scale_builds_every_kind_consistently(app):
    from portal.community.models import Post, Topic
    from portal.community.scale import BIG_TOPIC_TITLE, big_topic_id
    from portal.feedback.models import FeedbackCounter, FeedbackEvent, FeedbackItem
    from portal.staff.rollups import DailyMetric
    from portal.surveys.models import SCALE_RANGES, Answer, Invitation, Question, Response
    from portal.surveys.scale import invitation_token
    from portal.surveys.sending import hash_token

    result = app.test_cli_runner().invoke(args=TINY)
    assert result.exit_code == 0, result.output
    with app.app_context():
        big = big_topic_id()
        assert f"Big topic: id {big} ('{BIG_TOPIC_TITLE}', 150 posts)" in result.output
        assert db.session.scalar(select(func.count(Post.id))) == 500
        assert db.session.get(Topic, big).last_position == 150
        # Surveys: one invitation per response, answered when the response came in.
        assert db.session.scalar(select(func.count(Response.id))) == 600
        pairs = db.session.execute(
            select(Response, Invitation).join(Invitation, Invitation.id == Response.invitation_id)
        ).all()
        assert len(pairs) == 600
        for response, invitation in pairs[:100]:
            assert invitation.responded_at == response.submitted_at
            assert invitation.user_id == response.user_id
            assert invitation.token_hash == hash_token(invitation_token(invitation.id))
        # Every response answers all the required questions of its survey.
        required = dict(
            db.session.execute(
                select(Question.survey_id, func.count(Question.id))
                .where(Question.required.is_(True))
                .group_by(Question.survey_id)
            ).all()
        )
        answered = db.session.execute(
            select(Response.survey_id, func.count(Answer.id))
            .join(Answer, Answer.response_id == Response.id)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.required.is_(True))
            .group_by(Response.id, Response.survey_id)
        ).all()
        assert len(answered) == 600
        assert all(count == required[survey] for survey, count in answered)
        assert len({survey for survey, _count in answered}) == 3
        for kind, number in db.session.execute(
            select(Question.type, Answer.number).join(Question, Question.id == Answer.question_id)
        ):
            if kind in SCALE_RANGES:
                low, high = SCALE_RANGES[kind]
                assert number is not None and low <= number <= high
        # Feedback: unique references, the counter past them, statuses that fit the clock.
        items = list(db.session.scalars(select(FeedbackItem)))
        assert len(items) == 400 == len({item.reference for item in items})
        for year, last in db.session.execute(
            select(FeedbackCounter.year, FeedbackCounter.last_value)
        ):
            numbers = [
                int(i.reference.rsplit("-", 1)[1]) for i in items if i.reference[3:7] == str(year)
            ]
            assert last >= max(numbers, default=0)
        statuses = {item.status for item in items}
        assert {"closed", "resolved", "in_progress"} <= statuses
        breached = 0
        for item in items:
            if item.status in ("resolved", "closed"):
                assert item.resolved_at and item.root_cause_id and item.how_resolved
                assert item.next_due_at is None
            elif item.status == "waiting_on_customer":
                assert item.paused_since and item.next_due_at is None
            else:
                assert item.next_due_at in (item.first_response_due_at, item.resolution_due_at)
            if item.status == "closed":
                assert item.closed_at > item.resolved_at
            if item.first_response_at is not None:
                assert item.assignee_id is not None
            breached += bool(item.first_response_breached_at or item.resolution_breached_at)
            assert item.first_response_due_at < item.resolution_due_at or item.priority == "low"
        assert 0 < breached < len(items) / 2
        assert db.session.scalar(select(func.count(FeedbackEvent.id))) >= 2 * 400
        # The dashboard's rollups were rebuilt from the new rows.
        metrics = set(db.session.scalars(select(DailyMetric.metric).distinct()))
        assert {"survey.score", "feedback.opened", "community.topics"} <= metrics


def test_seed_scale_runs_once_per_database(app):
    runner = app.test_cli_runner()
    small = ["portal", "seed-scale", "--customers", "5", "--orders", "10", "--posts", "20"]
    small += ["--big-topic-posts", "5", "--responses", "10", "--feedback", "10"]
    assert runner.invoke(args=small).exit_code == 0
    with app.app_context():
        before = db.session.scalar(select(func.count(Order.id)))
    again = runner.invoke(args=small)
    assert again.exit_code != 0
    assert "already has scale data" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == before


def test_portal_continues_after_seed_scale(app, make_user):
    """New feedback takes the next reference; a reply takes the next position."""
    from portal.community import services as community
    from portal.community.models import Post, Topic
    from portal.community.scale import big_topic_id
    from portal.feedback.models import FeedbackItem
    from portal.feedback.services import open_item

    args = ["portal", "seed-scale", "--customers", "8", "--orders", "20", "--posts", "40"]
    args += ["--big-topic-posts", "25", "--responses", "20", "--feedback", "30"]
    assert app.test_cli_runner().invoke(args=args).exit_code == 0
    user_id = make_user("late@example.com")
    with app.app_context():
        user = db.session.get(User, user_id)
        references = set(db.session.scalars(select(FeedbackItem.reference)))
        item = open_item(user, "question", "Where is my parcel?", "It is late.")
        db.session.flush()
        assert item.reference not in references
        topic = db.session.get(Topic, big_topic_id())
        post = community._new_post(user, topic, "Me too.", topic.last_post_at)
        db.session.flush()
        assert post.position == 26
        assert db.session.scalar(select(func.count(Post.id)).where(Post.topic_id == topic.id)) == 26
