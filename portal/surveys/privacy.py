"""GDPR: what the survey feature holds about a customer, and erasing it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.extensions import db
from portal.surveys.models import (
    Answer,
    ContactRequest,
    Invitation,
    Response,
    Survey,
    SurveyOptOut,
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_survey_data(user: User) -> dict[str, Any]:
    invitations = db.session.execute(
        select(Invitation, Survey.title)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(Invitation.user_id == user.id)
        .order_by(Invitation.created_at)
    ).all()
    responses = db.session.scalars(
        select(Response)
        .options(selectinload(Response.answers).selectinload(Answer.question))
        .where(Response.user_id == user.id)
        .order_by(Response.submitted_at)
    ).all()
    titles = dict(db.session.execute(select(Survey.id, Survey.title)).all())
    contact = db.session.scalars(select(ContactRequest).where(ContactRequest.user_id == user.id))
    opted_out = db.session.get(SurveyOptOut, user.id)
    return {
        "invitations": [
            {
                "survey": title,
                "sent_at": _iso(inv.created_at),
                "expires_at": _iso(inv.expires_at),
                "reminded_at": _iso(inv.reminded_at),
                "answered_at": _iso(inv.responded_at),
                "saved_answers": inv.draft_answers or {},
            }
            for inv, title in invitations
        ],
        "responses": [
            {
                "survey": titles.get(response.survey_id),
                "submitted_at": _iso(response.submitted_at),
                "answers": [
                    {
                        "question": answer.question.text,
                        "number": answer.number,
                        "choices": [
                            answer.question.choices[i]
                            for i in answer.choices
                            if i < len(answer.question.choices)
                        ]
                        if answer.choices is not None
                        else None,
                        "text": answer.text,
                    }
                    for answer in response.answers
                ],
            }
            for response in responses
        ],
        "contact_requests": [
            {"requested_at": _iso(c.created_at), "note": c.note, "reference": c.follow_up_reference}
            for c in contact
        ],
        "survey_invitations_stopped_at": _iso(opted_out.created_at) if opted_out else None,
    }


def erase_survey_data(user: User) -> None:
    """Answers stay in the totals, but nothing ties them to the person any more: the link,
    the invitations and the written answers go."""
    response_ids = select(Response.id).where(Response.user_id == user.id)
    db.session.execute(
        update(Answer)
        .where(Answer.response_id.in_(response_ids), Answer.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ContactRequest)
        .where(ContactRequest.user_id == user.id)
        .values(user_id=None, note=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Response)
        .where(Response.user_id == user.id)
        .values(user_id=None, invitation_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(Invitation).where(Invitation.user_id == user.id))
    db.session.execute(delete(SurveyOptOut).where(SurveyOptOut.user_id == user.id))
    db.session.flush()
