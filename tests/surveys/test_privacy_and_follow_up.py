"""Personal data export and erasure; the follow-up item a detractor's request opens."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.accounts.services import delete_account, export_personal_data
from portal.extensions import db
from portal.surveys import answering, sending
from portal.surveys.models import Answer, ContactRequest, Invitation, Response, Survey, SurveyOptOut
from tests.conftest import csrf_from


def _answer(client, app, token, survey_id, values):
    with app.app_context():
        ids = [q.id for q in db.session.get(Survey, survey_id).questions]
    page = client.get(f"/s/{token}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "submit": "1"}
    data.update({f"q{qid}": value for qid, value in zip(ids, values, strict=True)})
    assert client.post(f"/s/{token}", data=data).status_code == 302


def test_export_and_erase(app, client, make_user, build_survey, issue):
    survey_id = build_survey(("nps", "text"))
    uid = make_user("mine@example.com")
    token = issue(survey_id, uid)
    _answer(client, app, token, survey_id, ["4", "My private story"])
    with app.app_context():
        response = db.session.scalar(select(Response))
        answering.request_contact(response, "Call me on +371 2000000")
        sending.opt_out(db.session.get(User, uid))
        db.session.commit()
        data = export_personal_data(db.session.get(User, uid))["surveys"]
        assert data["responses"][0]["answers"][1]["text"] == "My private story"
        assert data["invitations"][0]["survey"] == "Customer survey"
        assert data["contact_requests"][0]["note"] == "Call me on +371 2000000"
        assert data["survey_invitations_stopped_at"]

        delete_account(db.session.get(User, uid))
        db.session.commit()
        assert db.session.scalar(select(func.count(Invitation.id))) == 0
        assert db.session.get(SurveyOptOut, uid) is None
        kept = db.session.scalar(select(Response))
        assert kept.user_id is None and kept.invitation_id is None
        assert db.session.scalar(select(Answer.text).where(Answer.text.is_not(None))) is None
        assert db.session.scalar(select(Answer.number)) == 4  # the score still counts
        request = db.session.scalar(select(ContactRequest))
        assert request.user_id is None and request.note is None
    assert client.get(f"/s/{token}").status_code == 404


def test_detractor_request_opens_a_follow_up_item(app, client, make_user, build_survey, issue):
    from portal.feedback.models import FeedbackItem

    survey_id = build_survey(("nps", "text"))
    token = issue(survey_id, make_user("angry@example.com"))
    _answer(client, app, token, survey_id, ["2", "Late again"])
    thanks = client.get(f"/s/{token}/thanks").get_data(as_text=True)
    client.post(f"/s/{token}/contact", data={"csrf_token": csrf_from(thanks), "note": "Evenings"})
    client.post(f"/s/{token}/contact", data={"csrf_token": csrf_from(thanks), "note": "Evenings"})
    with app.app_context():
        items = db.session.scalars(
            select(FeedbackItem).where(FeedbackItem.source == "survey")
        ).all()
        assert len(items) == 1
        item = items[0]
        assert item.user.email == "angry@example.com" and item.kind == "complaint"
        assert item.department.slug == "customer-care"
        assert "2" in item.message and "Late again" in item.message and "Evenings" in item.message
        assert db.session.scalar(select(ContactRequest.follow_up_reference)) == item.reference
