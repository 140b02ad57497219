"""The answering path of a link: its statements, the per-process questions and their version,
CSRF, and the claim that makes a double submit record one response."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.extensions import db
from portal.surveys import answering, services
from portal.surveys.models import Answer, Invitation, Question, Response, Survey
from tests.conftest import csrf_from, login
from tests.surveys.conftest import answer_fields, count_queries_in


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
        data={**answer_fields(page.get_data(as_text=True)), "submit": "1", **data},
    )


def test_a_known_surveys_answer_takes_three_statements(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    first = issue(survey_id, make_user("one@example.com"))
    second = issue(survey_id, make_user("two@example.com"))
    assert _post(client, first, {f"q{nps}": "9"}).status_code == 302  # the survey is now known
    page = answer_fields(client.get(f"/s/{second}").get_data(as_text=True))
    assert page == {"locale": "en"}  # no CSRF token: the link's token is the credential
    with count_queries_in(app) as statements:
        posted = client.post(f"/s/{second}", data={**page, "submit": "1", f"q{nps}": "6"})
    assert posted.status_code == 302
    assert "Set-Cookie" not in posted.headers
    # The claim by the token's hash (returning the survey and its version), the response,
    # the answer: no read before the write.
    assert len(statements) == 3, statements
    assert statements[0].lstrip().upper().startswith("UPDATE SURVEY_INVITATION")
    assert "survey_question" not in " ".join(statements)
    with app.app_context():
        assert sorted(db.session.scalars(select(Answer.number))) == [6, 9]


def test_an_answer_neither_reads_nor_writes_the_session(
    app, client, make_user, build_survey, issue, monkeypatch
):
    from portal.core.sessions import LazySession

    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    token = issue(survey_id, make_user("cookie@example.com"))
    page = client.get(f"/s/{token}")
    assert "Set-Cookie" in page.headers  # the footer's language form has a CSRF token

    def fail(_self):
        raise AssertionError("the session was read")

    monkeypatch.setattr(LazySession, "_load", fail)
    posted = client.post(
        f"/s/{token}", data={**answer_fields(page.get_data(as_text=True)), f"q{nps}": "9"}
    )
    assert posted.status_code == 302
    assert "Set-Cookie" not in posted.headers and "Cookie" not in posted.vary
    with pytest.raises(AssertionError, match="the session was read"):
        client.get(f"/s/{token}/thanks")  # the control: a page that uses it
    monkeypatch.undo()
    assert _responses(app) == 1


def test_the_answer_is_recorded_in_the_language_of_its_page(
    app, client, make_user, build_survey, issue
):
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    tokens = [issue(survey_id, make_user(f"lang{n}@example.com", locale="lv")) for n in range(3)]
    page = client.get(f"/s/{tokens[0]}").get_data(as_text=True)
    assert 'lang="lv"' in page and answer_fields(page) == {"locale": "lv"}
    assert client.post(f"/s/{tokens[0]}", data={"locale": "lv", f"q{nps}": "9"}).status_code == 302
    # A page from before the form carried its language: the language is chosen as for the page.
    assert client.post(f"/s/{tokens[1]}", data={f"q{nps}": "9"}).status_code == 302
    # The visitor's own choice of language beats the invitation's.
    chooser = app.test_client()
    home = chooser.get("/").get_data(as_text=True)
    chooser.post("/language", data={"csrf_token": csrf_from(home), "locale": "ru", "next": "/"})
    page = chooser.get(f"/s/{tokens[2]}").get_data(as_text=True)
    assert answer_fields(page) == {"locale": "ru"}
    assert chooser.post(f"/s/{tokens[2]}", data={"locale": "ru", f"q{nps}": "9"}).status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(select(Response.locale))) == ["lv", "lv", "ru"]


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


def test_the_links_token_is_its_credential(app, client, make_user, build_survey, issue):
    """The link's form has no CSRF token: a POST can do only what its URL's token allows, to
    that invitation alone, whatever cookies come with it; the signed-in path keeps CSRF."""
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    uid = make_user("csrf@example.com")
    token = issue(survey_id, uid)
    other = issue(survey_id, make_user("other@example.com"))
    # A cross-site form without the token's exact value finds nothing and keeps nothing.
    for guess in (token[:-1] + ("A" if token[-1] != "A" else "B"), token.upper(), "x" * 43):
        assert client.post(f"/s/{guess}", data={"locale": "en", f"q{nps}": "9"}).status_code == 404
    assert _responses(app) == 0
    # A signed-in visitor answering someone else's link answers for that invitation only.
    make_user("signed@example.com")
    login(client, "signed@example.com")
    assert client.post(f"/s/{other}", data={"locale": "en", f"q{nps}": "3"}).status_code == 302
    with app.app_context():
        response = db.session.scalar(select(Response))
        assert response.user_id != uid and response.invitation.token_hash is not None
        invitation_id = db.session.scalar(select(Invitation.id).where(Invitation.user_id == uid))
    own = app.test_client()
    login(own, "csrf@example.com")
    page = own.get(f"/surveys/{invitation_id}").get_data(as_text=True)
    assert "csrf_token" in answer_fields(page)
    refused = own.post(f"/surveys/{invitation_id}", data={"locale": "en", f"q{nps}": "9"})
    assert refused.status_code == 400
    assert _responses(app) == 1
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


def test_the_write_itself_refuses_a_link_that_closed_after_it_was_read(
    app, make_user, build_survey, issue
):
    """The claim re-checks expiry and the survey's status at the moment it writes: a link read
    open a few milliseconds before it expired, or before its survey closed, keeps nothing."""
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    token = issue(survey_id, make_user("late@example.com"))
    form = MultiDict({f"q{nps}": "9"})
    with app.app_context():
        link = answering.link_for_token(token)
        spec = answering.survey_spec(link.survey_id, link.survey_version)
        just_before = link.expires_at - timedelta(milliseconds=3)
        just_after = link.expires_at + timedelta(milliseconds=3)
        assert link.state(just_before) == "open"
        for submit in (
            lambda now: answering.submit_answers(link, spec, {nps: 9}, locale="en", now=now),
            lambda now: answering.submit_by_token(token, form, locale="en", now=now),
        ):
            with pytest.raises(answering.NotOpen) as refused:
                submit(just_after)
            assert refused.value.state == "expired"
            assert not isinstance(refused.value, answering.AlreadyAnswered)
            db.session.get(Survey, survey_id).status = "closed"
            db.session.commit()
            with pytest.raises(answering.NotOpen) as refused:
                submit(just_before)
            assert refused.value.state == "closed"
            assert db.session.scalar(select(func.count(Response.id))) == 0
            assert db.session.get(Invitation, link.invitation_id).responded_at is None
            db.session.get(Survey, survey_id).status = "active"
            db.session.commit()
        # Open again at the moment of writing: the same link is taken, once.
        answering.submit_by_token(token, form, locale="en", now=just_before)
        with pytest.raises(answering.AlreadyAnswered):
            answering.submit_answers(link, spec, {nps: 9}, locale="en", now=just_before)
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_a_link_posted_as_it_expires_is_gone(
    app, client, make_user, build_survey, issue, monkeypatch
):
    survey_id = build_survey(("nps",))
    (nps,) = _questions(app, survey_id)
    token = issue(survey_id, make_user("expiring@example.com"))
    page = answer_fields(client.get(f"/s/{token}").get_data(as_text=True))
    with app.app_context():
        expires_at = answering.link_for_token(token).expires_at
    monkeypatch.setattr(answering, "utcnow", lambda: expires_at + timedelta(milliseconds=2))
    posted = client.post(f"/s/{token}", data={**page, f"q{nps}": "9"})
    assert posted.status_code == 410
    assert "expired" in posted.get_data(as_text=True)
    assert _responses(app) == 0


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
