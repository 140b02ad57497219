"""The answering path of a link: its statements, the per-process questions and their version,
CSRF, and the claim that makes a double submit record one response."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.extensions import db
from portal.surveys import answering, services
from portal.surveys.models import Answer, Invitation, Question, Response, Survey
from tests.conftest import csrf_from
from tests.surveys.conftest import count_queries_in


def _questions(app, survey_id):
    with app.app_context():
        return [q.id for q in db.session.get(Survey, survey_id).questions]


def _version(app, survey_id):
    with app.app_context():
        return db.session.get(Survey, survey_id).updated_at


def _responses(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


def _post(client, token, data):
    page = client.get(f"/s/{token}")
    assert page.status_code == 200, page.status_code
    return client.post(
        f"/s/{token}",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "submit": "1", **data},
    )


def test_a_known_surveys_answer_takes_four_statements(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    first = issue(survey_id, make_user("one@example.com"))
    second = issue(survey_id, make_user("two@example.com"))
    assert _post(client, first, {f"q{nps}": "9"}).status_code == 302  # the survey is now known
    page = client.get(f"/s/{second}").get_data(as_text=True)
    with count_queries_in(app) as statements:
        posted = client.post(
            f"/s/{second}", data={"csrf_token": csrf_from(page), "submit": "1", f"q{nps}": "6"}
        )
    assert posted.status_code == 302
    assert "Set-Cookie" not in posted.headers  # the session was written by the page's GET
    # The link (with its survey's status and version), the claim, the response, the answer.
    assert len(statements) == 4, statements
    assert "survey_question" not in " ".join(statements)
    with app.app_context():
        assert sorted(db.session.scalars(select(Answer.number))) == [6, 9]


def test_an_edited_question_is_read_again_in_every_process(
    app, client, make_user, build_survey, issue
):
    survey_id = build_survey(("nps", "text"))
    nps, text = _questions(app, survey_id)
    token = issue(survey_id, make_user("edit@example.com"))
    assert "The text question" in client.get(f"/s/{token}").get_data(as_text=True)
    with app.app_context():
        question = db.session.get(Question, text)
        services.update_question(question, type="text", text="Reworded question", required=True)
        db.session.commit()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Reworded question" in page and "The text question" not in page
    # The reworded question is now required: the answer without it is refused, kept and marked.
    response = _post(client, token, {f"q{nps}": "8"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(rf'id="q{text}-error"[^>]*>Please answer this question.', body)
    assert re.search(rf'id="q{nps}-8" value="8"\s+checked', body)
    assert _responses(app) == 0


def test_added_and_removed_questions_show_on_the_next_page(
    app, client, make_user, build_survey, issue
):
    survey_id = build_survey(("nps", "text"))
    nps, text = _questions(app, survey_id)
    token = issue(survey_id, make_user("added@example.com"))
    client.get(f"/s/{token}")
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        services.add_question(survey, type="csat", text="A new question", required=True)
        services.remove_question(db.session.get(Question, text))
        db.session.commit()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "A new question" in page and "The text question" not in page
    assert _post(client, token, {f"q{nps}": "8"}).status_code == 422
    assert _responses(app) == 0


@pytest.mark.parametrize(
    "edit",
    ["reword", "add", "remove", "hide", "move", "translate", "status", "texts"],
)
def test_every_edit_gives_the_survey_a_new_version(app, build_survey, edit):
    survey_id = build_survey(("nps", "single", "text"), status="draft")
    before = _version(app, survey_id)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        first, second, _third = survey.questions
        if edit == "reword":
            first.text = "Another wording"
        elif edit == "add":
            services.add_question(survey, type="text", text="More?", required=False)
        elif edit == "remove":
            services.remove_question(second)
        elif edit == "hide":
            second.hidden = True
        elif edit == "move":
            services.move_question(second, "up")
        elif edit == "translate":
            services.set_translation(survey, "lv", {f"q{first.id}": "Cik ticams?"})
        elif edit == "status":
            services.set_status(survey, "active")
        else:
            services.update_survey(survey, title="New title", intro="", thank_you="")
        db.session.commit()
    assert _version(app, survey_id) != before


def test_reading_a_survey_keeps_its_version(app, build_survey):
    survey_id = build_survey(("nps", "single"))
    before = _version(app, survey_id)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert [q.text_in("lv") for q in survey.questions]
        db.session.flush()
        db.session.commit()
    assert _version(app, survey_id) == before


def test_the_link_post_needs_the_pages_csrf_token(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    token = issue(survey_id, make_user("csrf@example.com"))
    client.get(f"/s/{token}")
    assert client.post(f"/s/{token}", data={"submit": "1", f"q{nps}": "9"}).status_code == 400
    other = app.test_client()
    foreign = csrf_from(other.get(f"/s/{token}").get_data(as_text=True))
    refused = client.post(f"/s/{token}", data={"csrf_token": foreign, f"q{nps}": "9"})
    assert refused.status_code == 400
    assert _responses(app) == 0
    assert client.get(f"/s/{token}").status_code == 200  # still open


def test_a_stale_link_cannot_answer_twice(app, make_user, build_survey, issue):
    survey_id = build_survey(("nps", "multiple", "text"), required=())
    nps, multiple, text = _questions(app, survey_id)
    token = issue(survey_id, make_user("stale@example.com"))
    form = MultiDict([(f"q{nps}", "10"), (f"q{multiple}", "2"), (f"q{multiple}", "0")])
    form.add(f"q{text}", "  Fine  ")
    with app.app_context():
        link = answering.link_for_token(token)
        assert link is not None and link.state() == "open"
        spec = answering.survey_spec(link.survey_id, link.survey_version)
        values, _raw, errors = answering.parse_answers(spec.questions, form)
        assert not errors
        answering.submit_answers(link, spec, values, locale="lv")
        # The same (now stale) link again, as a second tab would hold it.
        with pytest.raises(answering.AlreadyAnswered):
            answering.submit_answers(link, spec, {nps: 0}, locale="en")
        response = db.session.scalar(select(Response))
        assert response.locale == "lv" and response.user_id == link.user_id
        stored = {a.question_id: (a.number, a.choices, a.text) for a in response.answers}
        assert stored == {
            nps: (10, None, None),
            multiple: (None, [0, 2], None),
            text: (None, None, "Fine"),
        }
        assert db.session.scalar(select(func.count(Response.id))) == 1
        assert answering.link_for_token(token).state() == "answered"


def test_the_unique_response_is_the_last_guard(app, make_user, build_survey, issue):
    """A response already stored without the claim (data from elsewhere) still wins."""
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    token = issue(survey_id, make_user("guard@example.com"))
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        db.session.add(Response(survey_id=survey_id, invitation_id=invitation.id, locale="en"))
        db.session.commit()
        link = answering.link_for_token(token)
        spec = answering.survey_spec(link.survey_id, link.survey_version)
        with pytest.raises(answering.AlreadyAnswered):
            answering.submit_answers(link, spec, {nps: 5}, locale="en")
        # The claim was rolled back with the refused insert.
        assert db.session.get(Invitation, invitation.id).responded_at is None
        assert db.session.scalar(select(func.count(Answer.id))) == 0


def test_altered_and_oversized_tokens_find_nothing(app, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    token = issue(survey_id, make_user("tamper@example.com"))
    with app.app_context():
        assert answering.link_for_token(token) is not None
        flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
        for bad in (flipped, token.upper(), token + "x", "", "x" * 201):
            assert answering.link_for_token(bad) is None, bad
