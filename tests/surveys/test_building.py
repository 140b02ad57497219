"""Staff build surveys: texts, questions of every type, order, translations, preview."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.surveys import services
from portal.surveys.models import Answer, Question, Response, Survey
from tests.conftest import csrf_from
from tests.surveys.conftest import count_queries_in


def _post(client, url, data, page=None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_staff_pages_are_for_managers_and_admins(client, logged_in):
    assert client.get("/staff/surveys").status_code == 302
    logged_in("cust@example.com")
    assert client.get("/staff/surveys").status_code == 403


def test_agent_is_refused(client, logged_in):
    logged_in("agent@example.com", roles=("agent",))
    assert client.get("/staff/surveys").status_code == 403


def test_manager_builds_a_survey_with_every_question_type(app, logged_in):
    client = logged_in("boss@example.com", roles=("manager",))
    response = _post(
        client,
        "/staff/surveys/new",
        {"title": "Spring check", "intro": "Hello", "thank_you": "Cheers"},
    )
    assert response.status_code == 302
    survey_url = response.headers["Location"]
    survey_id = int(survey_url.rstrip("/").split("/")[-1])
    for kind in ("nps", "csat", "ces", "single", "multiple", "rating", "text"):
        data = {"type": kind, "text": f"Q {kind}", "required": "y" if kind == "nps" else ""}
        if kind in ("single", "multiple"):
            data["choices"] = "One\nTwo\n\nThree"
        response = _post(client, f"/staff/surveys/{survey_id}/questions/new", data)
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert [q.type for q in survey.questions] == [
            "nps",
            "csat",
            "ces",
            "single",
            "multiple",
            "rating",
            "text",
        ]
        assert survey.questions[3].choices == ["One", "Two", "Three"]
        assert survey.questions[0].required and not survey.questions[1].required
    page = client.get(survey_url).get_data(as_text=True)
    assert "Q multiple" in page and "Move up" in page


def test_choice_question_needs_two_choices_and_keeps_input(app, logged_in, build_survey):
    survey_id = build_survey(("nps",), status="draft")
    client = logged_in("boss@example.com", roles=("manager",))
    response = _post(
        client,
        f"/staff/surveys/{survey_id}/questions/new",
        {"type": "single", "text": "Pick one please", "choices": "Only"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least two choices" in body
    assert "Pick one please" in body
    with app.app_context():
        assert len(db.session.get(Survey, survey_id).questions) == 1


def test_reorder_with_up_and_down(app, logged_in, build_survey):
    survey_id = build_survey(("nps", "csat", "text"), status="draft")
    with app.app_context():
        ids = [q.id for q in db.session.get(Survey, survey_id).questions]
    client = logged_in("boss@example.com", roles=("manager",))
    page = f"/staff/surveys/{survey_id}"
    assert (
        _post(client, f"{page}/questions/{ids[2]}/move", {"direction": "up"}, page).status_code
        == 302
    )
    assert (
        _post(client, f"{page}/questions/{ids[0]}/move", {"direction": "up"}, page).status_code
        == 302
    )
    with app.app_context():
        assert [q.id for q in db.session.get(Survey, survey_id).questions] == [
            ids[0],
            ids[2],
            ids[1],
        ]
    _post(client, f"{page}/questions/{ids[0]}/move", {"direction": "down"}, page)
    with app.app_context():
        assert [q.id for q in db.session.get(Survey, survey_id).questions] == [
            ids[2],
            ids[0],
            ids[1],
        ]


def _answer_first_question(app, survey_id, number=9):
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        response = Response(survey_id=survey.id, locale="en")
        response.answers.append(Answer(question_id=survey.questions[0].id, number=number))
        db.session.add(response)
        db.session.commit()
        return survey.questions[0].id


def test_answered_question_keeps_its_type_and_is_hidden_not_deleted(app, logged_in, build_survey):
    survey_id = build_survey(("nps", "text"))
    question_id = _answer_first_question(app, survey_id)
    client = logged_in("boss@example.com", roles=("manager",))
    url = f"/staff/surveys/{survey_id}/questions/{question_id}"
    response = _post(client, url, {"type": "csat", "text": "Changed", "required": "y"})
    assert response.status_code == 422
    assert "type cannot change" in response.get_data(as_text=True)
    # Rewording is fine.
    assert (
        _post(client, url, {"type": "nps", "text": "Reworded", "required": "y"}).status_code == 302
    )
    page = f"/staff/surveys/{survey_id}"
    assert _post(client, f"{url}/remove", {}, page).status_code == 302
    with app.app_context():
        question = db.session.get(Question, question_id)
        assert question is not None and question.hidden and question.text == "Reworded"
        survey = db.session.get(Survey, survey_id)
        assert [q.id for q in services.visible_questions(survey)] != [question_id]
        text_id = survey.questions[1].id
    # An unanswered question is really deleted; adding is allowed despite responses.
    removed = _post(client, f"{page}/questions/{text_id}/remove", {}, page)
    assert removed.status_code == 302
    assert "Question deleted" in client.get(page).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Question, text_id) is None
    assert (
        _post(client, f"{page}/questions/new", {"type": "text", "text": "New one"}).status_code
        == 302
    )
    with app.app_context():
        assert [q.text for q in db.session.get(Survey, survey_id).questions] == [
            "Reworded",
            "New one",
        ]


def test_answered_choices_cannot_be_removed(app, build_survey):
    survey_id = build_survey(("single",), required=())
    _answer_first_question(app, survey_id, number=0)
    with app.app_context():
        question = db.session.get(Survey, survey_id).questions[0]
        try:
            services.update_question(
                question, type="single", text="x", required=False, choices=["A"]
            )
        except services.SurveyRuleError as error:
            assert error.field == "choices"
        else:  # pragma: no cover - the rule must refuse
            raise AssertionError("removing a choice was allowed")
        services.update_question(
            question, type="single", text="x", required=False, choices=["R", "G", "B", "Yellow"]
        )
        assert question.choices[-1] == "Yellow"


def test_status_rules(app, logged_in, build_survey):
    empty = build_survey((), status="draft")
    client = logged_in("boss@example.com", roles=("manager",))
    page = f"/staff/surveys/{empty}"
    _post(client, f"{page}/status", {"status": "active"}, page)
    with app.app_context():
        assert db.session.get(Survey, empty).status == "draft"
    answered = build_survey(("nps",))
    _answer_first_question(app, answered)
    page = f"/staff/surveys/{answered}"
    _post(client, f"{page}/status", {"status": "closed"}, page)
    _post(client, f"{page}/status", {"status": "draft"}, page)
    with app.app_context():
        assert db.session.get(Survey, answered).status == "closed"


def test_translations_fall_back_to_english(app, logged_in, build_survey):
    survey_id = build_survey(("single", "text"), required=())
    with app.app_context():
        single_id, text_id = [q.id for q in db.session.get(Survey, survey_id).questions]
    client = logged_in("boss@example.com", roles=("manager",))
    url = f"/staff/surveys/{survey_id}/translations/lv"
    response = _post(
        client,
        url,
        {
            "title": "Klientu aptauja",
            "intro": "",
            f"q{single_id}": "Izvēlieties krāsu",
            f"q{single_id}_choices": "Sarkans\n\nZils",
            f"q{text_id}": "",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert survey.text("title", "lv") == "Klientu aptauja"
        assert survey.text("intro", "lv") == "Tell us what you think."
        assert survey.text("title", "pl") == "Customer survey"
        single, text = survey.questions
        assert single.text_in("lv") == "Izvēlieties krāsu"
        assert single.choices_in("lv") == ["Sarkans", "Green", "Zils"]
        assert text.text_in("lv") == "The text question"
    preview = client.get(f"/staff/surveys/{survey_id}/preview?lang=lv").get_data(as_text=True)
    assert "Klientu aptauja" in preview and "Sarkans" in preview and "Green" in preview
    assert "disabled" in preview
    assert client.get(f"/staff/surveys/{survey_id}/translations/xx").status_code == 404


def test_survey_list_has_a_query_budget(app, logged_in, build_survey):
    for n in range(4):
        build_survey(("nps",), title=f"Survey {n}")
    client = logged_in("boss@example.com", roles=("manager",))
    client.get("/staff/surveys")
    with count_queries_in(app) as statements:
        body = client.get("/staff/surveys").get_data(as_text=True)
    assert "Survey 3" in body
    # The user, their roles, the surveys, the response counts: not one query per survey.
    assert 0 < len(statements) <= 8, statements


def test_unknown_survey_and_foreign_question_are_404(app, logged_in, build_survey):
    first = build_survey(("nps",))
    second = build_survey(("text",))
    with app.app_context():
        foreign = db.session.scalar(select(Question.id).where(Question.survey_id == second))
    client = logged_in("boss@example.com", roles=("manager",))
    assert client.get("/staff/surveys/999999").status_code == 404
    assert client.get(f"/staff/surveys/{first}/questions/{foreign}").status_code == 404


def test_manager_sets_up_the_automatic_surveys_once(app, logged_in):
    client = logged_in("boss@example.com", roles=("manager",))
    page = client.get("/staff/surveys").get_data(as_text=True)
    assert "Set up the automatic surveys" in page
    for _ in range(2):
        assert (
            client.post("/staff/surveys/builtin", data={"csrf_token": csrf_from(page)}).status_code
            == 302
        )
    with app.app_context():
        triggers = db.session.scalars(
            select(Survey.trigger).where(Survey.trigger.is_not(None))
        ).all()
        assert sorted(triggers) == ["complaint_resolved", "delivery", "lapsed"]
        exit_survey = services.survey_for_trigger("lapsed")
        assert exit_survey.text("title", "zh_Hans") != exit_survey.title
        assert exit_survey.questions[0].choices_in("ar")[0] != exit_survey.questions[0].choices[0]
    body = client.get("/staff/surveys").get_data(as_text=True)
    assert "Set up the automatic surveys" not in body and "After delivery" in body
