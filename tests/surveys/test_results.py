"""The results page: figures, distributions, trends, search, filters, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from portal.accounts.models import CustomerValue
from portal.core.db import utcnow
from portal.extensions import db
from portal.surveys import results, sending
from portal.surveys.models import Answer, Invitation, Response, Survey
from tests.surveys.conftest import count_queries_in


def _respond(survey, user_id, when, values):
    invitation = Invitation(
        survey_id=survey.id,
        user_id=user_id,
        occasion=f"t:{when.isoformat()}",
        token_hash=sending.hash_token(sending.new_token()),
        expires_at=when + timedelta(days=30),
        created_at=when,
        responded_at=when,
    )
    db.session.add(invitation)
    db.session.flush()
    response = Response(
        invitation_id=invitation.id, survey_id=survey.id, user_id=user_id, submitted_at=when
    )
    for question, value in zip(survey.questions, values, strict=False):
        if value is None:
            continue
        answer = Answer(question_id=question.id)
        if isinstance(value, str):
            answer.text = value
        elif isinstance(value, list):
            answer.choices = value
        else:
            answer.number = value
        response.answers.append(answer)
    db.session.add(response)


def _fill(app, build_survey, make_user):
    survey_id = build_survey(("nps", "csat", "ces", "multiple", "text"), required=())
    gold = make_user("gold@example.com")
    plain = make_user("plain@example.com")
    with app.app_context():
        db.session.add(CustomerValue(user_id=gold, is_golden=True))
        survey = db.session.get(Survey, survey_id)
        now = utcnow()
        _respond(survey, gold, now - timedelta(days=1), [10, 5, 7, [0, 2], "=cmd|' /C calc'!A0"])
        _respond(survey, plain, now - timedelta(days=8), [3, 2, 1, [2], "Slow delivery"])
        _respond(survey, plain, now - timedelta(days=15), [8, 4, None, None, "Nice people"])
        # An invitation nobody answered yet.
        db.session.add(
            Invitation(
                survey_id=survey.id,
                user_id=gold,
                occasion="pending",
                token_hash=sending.hash_token("x"),
                expires_at=now + timedelta(days=30),
            )
        )
        db.session.commit()
    return survey_id


def test_figures_and_distributions(app, build_survey, make_user):
    survey_id = _fill(app, build_survey, make_user)
    with app.app_context():
        outcome = results.survey_results(db.session.get(Survey, survey_id))
    assert (outcome.invitations, outcome.responses) == (4, 3)
    assert outcome.response_rate == 75.0
    assert outcome.nps == 0.0  # one promoter, one passive, one detractor
    assert outcome.csat == 66.7
    assert outcome.ces == 4.0
    nps, csat, ces, multiple, text = outcome.questions
    assert csat.score == 66.7 and ces.score == 4.0 and ces.score_kind == "ces"
    assert dict(nps.distribution) == {str(n): (1 if n in (3, 8, 10) else 0) for n in range(11)}
    assert multiple.distribution == [("Red", 1), ("Green", 0), ("Blue", 2)]
    assert len(nps.trend) == 3 and [p.responses for p in nps.trend] == [1, 1, 1]
    assert text.text_total == 3


def test_segment_date_and_search_filters(app, build_survey, make_user):
    survey_id = _fill(app, build_survey, make_user)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        golden = results.survey_results(
            survey, results.ResultFilter(audience=sending.Audience(golden=True))
        )
        assert golden.responses == 1 and golden.nps == 100.0 and golden.invitations == 2
        recent = results.survey_results(
            survey, results.ResultFilter(date_from=(utcnow() - timedelta(days=10)).date())
        )
        assert recent.responses == 2
        searched = results.survey_results(survey, results.ResultFilter(search="DELIVERY"))
        assert [t for _when, t in searched.questions[-1].texts] == ["Slow delivery"]


def test_results_page_draws_accessible_charts(app, logged_in, build_survey, make_user):
    survey_id = _fill(app, build_survey, make_user)
    client = logged_in("boss@example.com", roles=("manager",))
    client.get(f"/staff/surveys/{survey_id}/results")
    with count_queries_in(app) as statements:
        response = client.get(f"/staff/surveys/{survey_id}/results")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 0 < len(statements) <= 12, statements
    assert '<svg class="survey-chart"' in body and 'role="img"' in body
    assert "<title id=" in body and "<desc id=" in body
    assert "<caption>Answers per option</caption>" in body and "Weekly trend" in body
    assert "75.0%" in body and "66.7%" in body
    assert "Slow delivery" in body
    assert "style=" not in body and "<script>" not in body
    filtered = client.get(f"/staff/surveys/{survey_id}/results?q=nice").get_data(as_text=True)
    assert "Nice people" in filtered and "Slow delivery" not in filtered
    bad = client.get(f"/staff/surveys/{survey_id}/results?date_from=not-a-date")
    assert bad.status_code == 422


def test_csv_export_guards_against_formulas(app, logged_in, build_survey, make_user):
    survey_id = _fill(app, build_survey, make_user)
    client = logged_in("boss@example.com", roles=("manager",))
    response = client.get(f"/staff/surveys/{survey_id}/results.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["response_id", "submitted_at", "locale", "customer_id"]
    assert len(rows) == 4
    newest = rows[-1]
    assert newest[4:8] == ["10", "5", "7", "Red; Blue"]
    assert newest[8] == "'=cmd|' /C calc'!A0"
    golden_only = client.get(f"/staff/surveys/{survey_id}/results.csv?golden=y")
    assert len(list(csv.reader(io.StringIO(golden_only.get_data(as_text=True))))) == 2


def test_deal_breakers_come_from_the_exit_survey(app, make_user):
    from portal.surveys.services import ensure_builtin_surveys

    uid = make_user("left@example.com")
    with app.app_context():
        exit_survey = ensure_builtin_surveys()["lapsed"]
        now = utcnow()
        _respond(exit_survey, uid, now, [[0, 1], "Cheaper please"])
        _respond(exit_survey, uid, now - timedelta(days=1), [[0]])
        db.session.commit()
        assert results.deal_breakers() == [
            ("Prices are too high", 2),
            ("Delivery took too long", 1),
        ]


def test_scores_between_and_customer_history(app, build_survey, make_user):
    survey_id = _fill(app, build_survey, make_user)
    with app.app_context():
        now = utcnow()
        week = results.scores_between(now - timedelta(days=7), now)
        assert (week.nps, week.csat, week.ces, week.responses) == (100.0, 100.0, 7.0, 1)
        before = results.scores_between(now - timedelta(days=20), now - timedelta(days=7))
        assert before.responses == 2 and before.nps == -50.0 and before.ces == 1.0
        from sqlalchemy import select

        from portal.accounts.models import User

        plain = db.session.scalar(select(User.id).where(User.email == "plain@example.com"))
        history = results.responses_of_customer(plain)
        assert [h["survey_id"] for h in history] == [survey_id, survey_id]
        assert history[0]["answers"][0] == ("The nps question", "3")


def test_contact_requests_are_listed_on_the_results_page(app, logged_in, build_survey, make_user):
    from sqlalchemy import select

    from portal.surveys import answering

    survey_id = _fill(app, build_survey, make_user)
    with app.app_context():
        detractor = db.session.scalar(select(Response).join(Answer).where(Answer.number == 3))
        answering.request_contact(detractor, "Please call")
        db.session.commit()
    client = logged_in("boss@example.com", roles=("manager",))
    body = client.get(f"/staff/surveys/{survey_id}/results").get_data(as_text=True)
    assert "Please call" in body and "plain@example.com" in body
