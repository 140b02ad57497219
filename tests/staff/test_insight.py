"""Dashboard blocks from rollups, and the 360 sections of the other features."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.core.db import utcnow
from portal.extensions import db
from portal.staff import insight, rollups, services
from tests.staff.conftest import count_queries


def _responses(app, scores, *, when=None):
    from portal.surveys.models import Answer, Question, Response, Survey

    with app.app_context():
        survey = Survey(title="NPS check", status="active")
        question = Question(survey=survey, type="nps", text="Recommend us?", position=0)
        db.session.add_all([survey, question])
        db.session.flush()
        for score in scores:
            response = Response(
                survey_id=survey.id, submitted_at=when or utcnow() - timedelta(hours=1)
            )
            db.session.add(response)
            db.session.flush()
            db.session.add(Answer(response_id=response.id, question_id=question.id, number=score))
        rollups.refresh_recent(days=3)
        db.session.commit()


def test_hour_buckets():
    assert [insight.hour_bucket(h) for h in (0, 1, 1.5, 23, 24, 25, 10_000)] == [
        1,
        1,
        2,
        24,
        24,
        48,
        1440,
    ]


def test_scores_from_histogram_is_the_nps_arithmetic():
    histogram = {
        "nps:10": (2, 0),
        "nps:8": (1, 0),
        "nps:3": (1, 0),
        "csat:5": (3, 0),
        "csat:2": (1, 0),
    }
    scores = insight.scores_from_histogram(histogram)
    assert scores["nps"] == 25.0  # 50 % promoters - 25 % detractors
    assert scores["csat"] == 75.0
    assert scores["ces"] is None


def test_dashboard_shows_nps_from_rollups_with_a_fixed_query_count(app, logged_in):
    client = logged_in("insight@example.com", roles=("manager",))
    _responses(app, [10, 9, 3])
    body = client.get("/staff/?days=7").get_data(as_text=True)
    assert "How customers feel" in body and "Complaints and requests" in body
    assert "Community health" in body
    assert ">33<" in body  # NPS: 67 % promoters - 33 % detractors
    with count_queries(app) as few:
        client.get("/staff/?days=7")
    _responses(app, [10] * 40 + [0] * 10)
    with count_queries(app) as many:
        body = client.get("/staff/?days=7").get_data(as_text=True)
    assert many.count == few.count
    assert ">58<" in body  # 42 promoters, 11 detractors of 53


def test_previous_period_gives_the_change(app, logged_in):
    client = logged_in("trend@example.com", roles=("manager",))
    _responses(app, [0, 0], when=utcnow() - timedelta(days=10))
    _responses(app, [10, 10])
    with app.app_context():
        rollups.rebuild_all(utcnow().date() - timedelta(days=30))
        db.session.commit()
    body = client.get("/staff/?days=7").get_data(as_text=True)
    assert "+200 against the previous period" in body


def test_satisfaction_export_is_csv(app, logged_in):
    client = logged_in("csv@example.com", roles=("manager",))
    _responses(app, [9])
    response = client.get("/staff/export/satisfaction.csv?days=7")
    assert response.mimetype == "text/csv"
    assert "nps,100" in response.get_data(as_text=True)


def test_customer_360_shows_feedback_surveys_and_community(app, make_user, logged_in):
    from portal.accounts.models import User
    from portal.feedback.services import open_item

    user_id = make_user("story@example.com", name="Story Teller")
    with app.test_request_context():
        user = db.session.get(User, user_id)
        item = open_item(user, "question", "Where is my parcel?", "It is late.")
        reference = item.reference
        db.session.commit()
    client = logged_in(
        "reader@example.com", roles=("agent",), departments=("customer-care", "delivery")
    )
    body = client.get(f"/staff/customers/{user_id}").get_data(as_text=True)
    assert reference in body and "Where is my parcel?" in body
    assert "Survey answers" in body and "Community activity" in body
    found = client.get(f"/staff/customers?q={reference}").get_data(as_text=True)
    assert "Story Teller" in found
    assert datetime.now(UTC)  # the clock is real here


def test_scores_from_histogram_counts_a_large_histogram():
    # Spelling 10**15 answers out as a list of scores would not fit in memory.
    scores = insight.scores_from_histogram({"nps:10": (10**15, 0), "ces:3": (10**15, 0)})
    assert scores == {"nps": 100.0, "csat": None, "ces": 3.0}


@pytest.mark.parametrize(("asked", "shown"), [("7", "7"), ("90", "90"), ("365", "30"), ("x", "30")])
def test_the_period_select_shows_the_period_the_figures_are_for(logged_in, asked, shown):
    client = logged_in("period@example.com", roles=("manager",))
    body = client.get(f"/staff/?days={asked}").get_data(as_text=True)
    selected = re.findall(r'<option value="(\d+)" selected>', body)
    assert selected == [shown]


@pytest.mark.parametrize(
    ("days", "start", "end", "preset"),
    [
        ("7", None, None, 7),
        ("365", None, None, 30),
        (None, "2026-01-01", "2026-01-31", None),
        ("90", "2026-01-01", "not a date", 90),
    ],
)
def test_a_period_knows_which_choice_it_is(days, start, end, preset):
    assert services.parse_period(days, start, end).preset == preset
