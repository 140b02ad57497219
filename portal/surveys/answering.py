"""Answering: finding an invitation by its link, saving progress, one response, follow-ups."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from portal.accounts.models import User
from portal.core.db import utcnow, write_intent
from portal.extensions import db
from portal.surveys.metrics import nps_group
from portal.surveys.models import (
    CHOICE_TYPES,
    Answer,
    ContactRequest,
    Invitation,
    Question,
    Response,
    Survey,
)
from portal.surveys.sending import hash_token

log = logging.getLogger(__name__)

MAX_TEXT_ANSWER = 5000


class AlreadyAnswered(Exception):
    """The invitation has its response already (perhaps from another tab, just now)."""


# The statements of the answering path, built once: answers through links come in bulk.
_BY_TOKEN = (
    select(Invitation)
    .options(joinedload(Invitation.survey))
    .where(
        or_(
            Invitation.token_hash == bindparam("digest"),
            Invitation.reminder_token_hash == bindparam("digest"),
        )
    )
)
_CLAIM = (
    update(Invitation)
    .where(Invitation.id == bindparam("invitation_id"), Invitation.responded_at.is_(None))
    .values(responded_at=bindparam("now"), draft_answers={})
    .execution_options(synchronize_session=False)
)
_NEW_RESPONSE = insert(Response).returning(Response.id)


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to (invitation or reminder link), or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(_BY_TOKEN, {"digest": hash_token(token)})


def get_own_invitation(invitation_id: int, user: Any) -> Invitation | None:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.user_id != user.id:
        return None
    return invitation


def invitation_state(invitation: Invitation, now: datetime | None = None) -> str:
    """ "open", "answered", "expired" or "closed" (the survey no longer takes answers)."""
    now = now or utcnow()
    if invitation.responded_at is not None:
        return "answered"
    if invitation.expires_at <= now:
        return "expired"
    if invitation.survey.status != "active":
        return "closed"
    return "open"


def waiting_invitations(user: Any, now: datetime | None = None) -> list[Invitation]:
    """Surveys waiting for a signed-in customer: unanswered, unexpired, still running."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Invitation)
            .join(Survey, Survey.id == Invitation.survey_id)
            .options(joinedload(Invitation.survey))
            .where(
                Invitation.user_id == user.id,
                Invitation.responded_at.is_(None),
                Invitation.expires_at > now,
                Survey.status == "active",
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def parse_answers(
    questions: list[Question], form: MultiDict[str, str]
) -> tuple[dict[int, Any], dict[str, Any], dict[int, Any]]:
    """Read ``q<id>`` fields: (values by question id, raw input to keep, errors by id)."""
    values: dict[int, Any] = {}
    raw: dict[str, Any] = {}
    errors: dict[int, Any] = {}
    for question in questions:
        key = f"q{question.id}"
        if question.type == "multiple":
            picked = [v for v in form.getlist(key) if v.strip()]
            raw[key] = picked
            try:
                indexes = sorted({int(v) for v in picked})
            except ValueError:
                errors[question.id] = _l("Choose from the list.")
                continue
            if any(not 0 <= i < len(question.choices) for i in indexes):
                errors[question.id] = _l("Choose from the list.")
            elif indexes:
                values[question.id] = indexes
            elif question.required:
                errors[question.id] = _l("Please choose at least one answer.")
            continue
        entry = (form.get(key) or "").strip()
        raw[key] = entry
        if not entry:
            if question.required:
                errors[question.id] = _l("Please answer this question.")
            continue
        if question.type == "text":
            if len(entry) > MAX_TEXT_ANSWER:
                errors[question.id] = _l(
                    "Please keep your answer under %(count)s characters.", count=MAX_TEXT_ANSWER
                )
            else:
                values[question.id] = entry
            continue
        try:
            number = int(entry)
        except ValueError:
            errors[question.id] = _l("Choose one of the values offered.")
            continue
        if question.type in CHOICE_TYPES:
            valid = 0 <= number < len(question.choices)
        else:
            low, high = question.scale or (0, 0)
            valid = low <= number <= high
        if valid:
            values[question.id] = number
        else:
            errors[question.id] = _l("Choose one of the values offered.")
    return values, raw, errors


@contextmanager
def _short_write() -> Iterator[None]:
    """Write in a transaction of its own, right after ending the request's reads.

    Answering reads first (the invitation, its survey and questions) and then writes a few
    rows. On SQLite a writer holds the one write lock from its BEGIN IMMEDIATE to its
    commit, so the reads are ended first and the write lock is taken only for the writes:
    answers from many processes queue for a few statements each instead of whole requests.
    On PostgreSQL this is simply two transactions.
    """
    db.session.commit()
    token = write_intent.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        write_intent.reset(token)


def save_draft(invitation: Invitation, raw: dict[str, Any]) -> None:
    """Keep what the customer has typed so far, so a reload or a later visit keeps it."""
    invitation_id = invitation.id
    with _short_write():
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.responded_at.is_(None))
            .values(draft_answers=dict(raw)),
            execution_options={"synchronize_session": False},
        )


def submit_response(
    invitation: Invitation,
    values: dict[int, Any],
    *,
    locale: str,
    now: datetime | None = None,
) -> int:
    """Record the one response of ``invitation`` and commit it; raises AlreadyAnswered for
    any other. Returns the response's id.

    The invitation is claimed first (``responded_at`` set where it is still empty): of
    concurrent submissions exactly one claims it, the others change no row and are refused
    with nothing kept. The unique constraint on ``survey_response.invitation_id`` stays as
    the last guard.
    """
    now = now or utcnow()
    questions = {q.id: q.type for q in invitation.survey.questions}
    answers: list[dict[str, Any]] = []
    for question_id, value in values.items():
        row: dict[str, Any] = {"question_id": question_id, "text": None, "choices": None}
        row["number"] = None
        if questions[question_id] == "text":
            row["text"] = value
        elif questions[question_id] == "multiple":
            row["choices"] = list(value)
        else:
            row["number"] = int(value)
        answers.append(row)
    invitation_id, survey_id, user_id = invitation.id, invitation.survey_id, invitation.user_id
    try:
        with _short_write():
            claimed = db.session.execute(_CLAIM, {"invitation_id": invitation_id, "now": now})
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise AlreadyAnswered
            response_id = db.session.scalar(
                _NEW_RESPONSE,
                {
                    "invitation_id": invitation_id,
                    "survey_id": survey_id,
                    "user_id": user_id,
                    "locale": locale,
                    "submitted_at": now,
                },
            )
            assert response_id is not None
            if answers:
                db.session.execute(
                    insert(Answer), [dict(row, response_id=response_id) for row in answers]
                )
    except IntegrityError:
        raise AlreadyAnswered from None
    return response_id


def response_for(invitation: Invitation) -> Response | None:
    return db.session.scalar(
        select(Response)
        .options(joinedload(Response.answers).joinedload(Answer.question))
        .where(Response.invitation_id == invitation.id)
    )


def nps_answer(response: Response) -> int | None:
    for answer in sorted(response.answers, key=lambda a: (a.question.position, a.question_id)):
        if answer.question.type == "nps" and answer.number is not None:
            return answer.number
    return None


def closing_the_loop(response: Response | None) -> str | None:
    """ "detractor" may ask to be contacted; "promoter" sees their referral link."""
    if response is None:
        return None
    score = nps_answer(response)
    if score is None:
        return None
    group = nps_group(score)
    return group if group in ("detractor", "promoter") else None


def contact_request_for(response: Response) -> ContactRequest | None:
    return db.session.scalar(
        select(ContactRequest).where(ContactRequest.response_id == response.id)
    )


def request_contact(response: Response, note: str | None = None) -> ContactRequest | None:
    """A detractor asks to be contacted: record it once and open a follow-up item.

    Returns None when the answer was not a detractor's or the request exists already.
    """
    if closing_the_loop(response) != "detractor" or contact_request_for(response) is not None:
        return None
    request = ContactRequest(
        response_id=response.id, user_id=response.user_id, note=(note or "").strip() or None
    )
    try:
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError:
        return None
    request.response = response
    request.follow_up_reference = open_follow_up(request)
    db.session.flush()
    return request


def _follow_up_text(request: ContactRequest) -> str:
    response = request.response
    lines = [f"Survey: {response.invitation.survey.title if response.invitation else ''}"]
    for answer in sorted(response.answers, key=lambda a: (a.question.position, a.question_id)):
        question = answer.question
        if answer.text is not None:
            value = answer.text
        elif answer.choices is not None:
            value = "; ".join(
                question.choices[i] for i in answer.choices if i < len(question.choices)
            )
        elif question.type in CHOICE_TYPES and answer.number is not None:
            value = question.choices[answer.number] if answer.number < len(question.choices) else ""
        else:
            value = str(answer.number)
        lines.append(f"{question.text}: {value}")
    if request.note:
        lines.append(f"Customer's note: {request.note}")
    return "\n".join(lines)


def open_follow_up(request: ContactRequest) -> str | None:
    """Open a follow-up item for Customer care with the answer attached.

    Returns the item's reference, or None when there is no customer to follow up with or
    the item could not be opened (the contact request stays recorded and is listed in the
    results either way).
    """
    from portal.feedback.services import FeedbackError, open_item

    user = db.session.get(User, request.user_id) if request.user_id else None
    if user is None:
        return None
    score = nps_answer(request.response)
    subject = f"Survey follow-up: NPS {score}"
    try:
        with db.session.begin_nested():
            item = open_item(
                user,
                "complaint",
                subject,
                _follow_up_text(request),
                source="survey",
                source_ref=f"contact-{request.id}",
            )
    except FeedbackError:
        log.warning(
            "Opening a follow-up for survey response %s failed", request.response_id, exc_info=True
        )
        return None
    return item.reference
