"""Answering from a link without signing in, in the portal, and closing the loop."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.core.db import utcnow
from portal.extensions import db
from portal.surveys.models import Answer, ContactRequest, Invitation, Response, Survey
from tests.conftest import csrf_from, login
from tests.surveys.conftest import answer_fields, user_id


def _questions(app, survey_id):
    with app.app_context():
        return [q.id for q in db.session.get(Survey, survey_id).questions]


def _responses(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


def _submit(client, token, data, button="submit"):
    page = client.get(f"/s/{token}")
    assert page.status_code == 200, page.status_code
    return client.post(
        f"/s/{token}",
        data={**answer_fields(page.get_data(as_text=True)), button: "1", **data},
    )


def test_answer_from_the_link_without_signing_in(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps", "single", "multiple", "rating", "text"), required=("nps",))
    uid = make_user("ans@example.com")
    token = issue(survey_id, uid)
    nps, single, multiple, rating, text = _questions(app, survey_id)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "The nps question" in page and "Tell us what you think." in page
    response = _submit(
        client,
        token,
        {
            f"q{nps}": "8",
            f"q{single}": "2",
            f"q{multiple}": ["0", "2"],
            f"q{rating}": "4",
            f"q{text}": "Lovely shop",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/s/{token}/thanks")
    assert "Thanks a lot!" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalar(select(Response))
        assert stored.user_id == uid
        values = {a.question_id: (a.number, a.choices, a.text) for a in stored.answers}
        assert values == {
            nps: (8, None, None),
            single: (2, None, None),
            multiple: (None, [0, 2], None),
            rating: (4, None, None),
            text: (None, None, "Lovely shop"),
        }
        invitation = db.session.scalar(select(Invitation))
        assert invitation.responded_at is not None


def test_missing_required_answer_keeps_the_rest(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps", "text"))
    token = issue(survey_id, make_user("req@example.com"))
    _nps, text = _questions(app, survey_id)
    response = _submit(client, token, {f"q{text}": "kept words"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please answer this question." in body and "kept words" in body
    assert 'aria-invalid="true"' in body
    assert _responses(app) == 0


def test_out_of_range_answer_is_refused(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    token = issue(survey_id, make_user("range@example.com"))
    (nps,) = _questions(app, survey_id)
    assert _submit(client, token, {f"q{nps}": "11"}).status_code == 422
    assert _submit(client, token, {f"q{nps}": "ten"}).status_code == 422
    assert _responses(app) == 0


def test_progress_is_kept_on_reload(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps", "text"))
    token = issue(survey_id, make_user("later@example.com"))
    nps, text = _questions(app, survey_id)
    response = _submit(client, token, {f"q{nps}": "7", f"q{text}": "half done"}, button="save")
    assert response.status_code == 302
    body = client.get(f"/s/{token}").get_data(as_text=True)
    assert "half done" in body
    assert re.search(rf'id="q{nps}-7" value="7"\s+checked', body)
    assert not re.search(rf'id="q{nps}-8" value="8"\s+checked', body)
    assert _responses(app) == 0
    # A new browser (no session) sees the saved answers too: they live on the invitation.
    fresh = app.test_client()
    assert "half done" in fresh.get(f"/s/{token}").get_data(as_text=True)


def test_second_submit_records_nothing(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    token = issue(survey_id, make_user("twice@example.com"))
    (nps,) = _questions(app, survey_id)
    page = answer_fields(client.get(f"/s/{token}").get_data(as_text=True))
    first = client.post(f"/s/{token}", data={**page, "submit": "1", f"q{nps}": "9"})
    second = client.post(f"/s/{token}", data={**page, "submit": "1", f"q{nps}": "0"})
    assert first.status_code == 302
    assert second.status_code == 410
    assert "already answered" in second.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1
        assert db.session.scalar(select(Answer.number)) == 9


def test_unknown_token_is_a_friendly_404(app, client):
    response = client.get("/s/not-a-real-token")
    assert response.status_code == 404
    assert "could not find this survey" in response.get_data(as_text=True)
    for posted in (
        client.post("/s/not-a-real-token", data={"locale": "en", "submit": "1"}),
        client.post("/s/not-a-real-token", data={"submit": "1"}),
    ):
        assert posted.status_code == 404
        assert "could not find this survey" in posted.get_data(as_text=True)
    assert _responses(app) == 0


def test_expired_token_is_gone_and_records_nothing(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    uid = make_user("old@example.com")
    token = issue(survey_id, uid, now=utcnow() - timedelta(days=31))
    (nps,) = _questions(app, survey_id)
    response = client.get(f"/s/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    for posted in (
        client.post(f"/s/{token}", data={"locale": "en", "submit": "1", f"q{nps}": "9"}),
        client.post(f"/s/{token}", data={"submit": "1", f"q{nps}": "9"}),
    ):
        assert posted.status_code == 410
        assert "expired" in posted.get_data(as_text=True)
    assert _responses(app) == 0


def test_closed_survey_takes_no_answers(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    token = issue(survey_id, make_user("closed@example.com"))
    with app.app_context():
        db.session.get(Survey, survey_id).status = "closed"
        db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410
    (nps,) = _questions(app, survey_id)
    for data in ({"locale": "en"}, {}):  # the page's form, and one without its language
        assert client.post(f"/s/{token}", data={**data, f"q{nps}": "9"}).status_code == 410
    assert _responses(app) == 0


def test_detractor_may_ask_to_be_contacted_once(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps", "text"))
    token = issue(survey_id, make_user("sad@example.com"))
    nps, text = _questions(app, survey_id)
    _submit(client, token, {f"q{nps}": "3", f"q{text}": "Parcel was broken"})
    thanks = client.get(f"/s/{token}/thanks").get_data(as_text=True)
    assert "contact you" in thanks
    csrf = csrf_from(thanks)
    for _ in range(2):
        response = client.post(
            f"/s/{token}/contact", data={"csrf_token": csrf, "note": "Call after 5pm"}
        )
        assert response.status_code == 302
    with app.app_context():
        requests = db.session.scalars(select(ContactRequest)).all()
        assert len(requests) == 1
        assert requests[0].note == "Call after 5pm"
    assert "You asked us to contact you" in client.get(f"/s/{token}/thanks").get_data(as_text=True)


def test_promoter_sees_their_referral_link(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    uid = make_user("happy@example.com")
    token = issue(survey_id, uid)
    (nps,) = _questions(app, survey_id)
    _submit(client, token, {f"q{nps}": "10"})
    with app.app_context():
        from portal.accounts.models import User

        code = db.session.get(User, uid).referral_code
    body = client.get(f"/s/{token}/thanks").get_data(as_text=True)
    assert f"/r/{code}" in body
    assert "contact you" not in body
    # A passive sees neither.
    other = issue(survey_id, make_user("meh@example.com"))
    _submit(client, other, {f"q{nps}": "7"})
    body = client.get(f"/s/{other}/thanks").get_data(as_text=True)
    assert "/r/" not in body and "contact you" not in body


def test_contact_is_refused_for_promoters(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    token = issue(survey_id, make_user("fan@example.com"))
    (nps,) = _questions(app, survey_id)
    _submit(client, token, {f"q{nps}": "10"})
    csrf = csrf_from(client.get(f"/s/{token}/thanks").get_data(as_text=True))
    client.post(f"/s/{token}/contact", data={"csrf_token": csrf})
    with app.app_context():
        assert db.session.scalar(select(func.count(ContactRequest.id))) == 0


def test_signed_in_customer_sees_waiting_surveys(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",), title="Winter survey")
    uid = make_user("portal@example.com")
    issue(survey_id, uid)
    login(client, "portal@example.com")
    assert "Winter survey" in client.get("/").get_data(as_text=True)
    listing = client.get("/surveys").get_data(as_text=True)
    assert "Winter survey" in listing
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    (nps,) = _questions(app, survey_id)
    page = client.get(f"/surveys/{invitation_id}")
    assert page.status_code == 200
    response = client.post(
        f"/surveys/{invitation_id}",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "submit": "1", f"q{nps}": "9"},
    )
    assert response.status_code == 302
    assert "Winter survey" not in client.get("/surveys").get_data(as_text=True)


def test_someone_elses_invitation_is_404(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    issue(survey_id, make_user("owner@example.com"))
    make_user("nosy@example.com")
    login(client, "nosy@example.com")
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    assert client.get(f"/surveys/{invitation_id}").status_code == 404
    assert client.get(f"/surveys/{invitation_id}/thanks").status_code == 404


def test_waiting_list_has_a_query_budget(app, client, make_user, build_survey, issue):
    from tests.surveys.conftest import count_queries_in

    uid = make_user("many@example.com")
    for n in range(5):
        issue(build_survey(("nps",), title=f"Survey {n}"), uid)
    login(client, "many@example.com")
    client.get("/surveys")
    with count_queries_in(app) as statements:
        body = client.get("/surveys").get_data(as_text=True)
    assert "Survey 4" in body
    assert 0 < len(statements) <= 8, statements


def test_user_id_helper(app, make_user):
    make_user("helper@example.com")
    with app.app_context():
        assert user_id("helper@example.com") > 0


def test_autosave_keeps_answers_without_a_page_change(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps", "text"))
    token = issue(survey_id, make_user("auto@example.com"))
    _nps, text = _questions(app, survey_id)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "js/survey-autosave." in page and "data-survey-autosave" in page
    saved = client.post(
        f"/s/{token}",
        data={**answer_fields(page), "save": "1", "autosave": "1", f"q{text}": "typing"},
    )
    assert saved.status_code == 204
    assert "typing" in app.test_client().get(f"/s/{token}").get_data(as_text=True)
    assert _responses(app) == 0


def test_too_long_contact_note_is_explained(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps",))
    token = issue(survey_id, make_user("verbose@example.com"))
    (nps,) = _questions(app, survey_id)
    _submit(client, token, {f"q{nps}": "1"})
    thanks = client.get(f"/s/{token}/thanks").get_data(as_text=True)
    response = client.post(
        f"/s/{token}/contact", data={"csrf_token": csrf_from(thanks), "note": "x" * 2001}
    )
    assert response.status_code == 422
    assert "2000" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(ContactRequest.id))) == 0
