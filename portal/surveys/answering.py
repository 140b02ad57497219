"""Answering: finding an invitation by its link, saving progress, one response, follow-ups."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, bindparam, exists, select, union_all
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
    QuestionTexts,
    Response,
    Survey,
    SurveyTexts,
)
from portal.surveys.sending import hash_token

log = logging.getLogger(__name__)

MAX_TEXT_ANSWER = 5000


class NotOpen(Exception):
    """The invitation no longer takes an answer: ``state`` says why ("answered", "expired",
    "closed"), as ``Link.state`` would at the moment of the refused write."""

    state = "closed"

    def __init__(self, state: str | None = None) -> None:
        super().__init__(state or self.state)
        if state is not None:
            self.state = state


class AlreadyAnswered(NotOpen):
    """The invitation has its response already (perhaps from another tab, just now)."""

    state = "answered"


class InvalidAnswers(Exception):
    """Answers that do not fit the survey's questions; nothing was kept. Carries what the
    page needs to show them again: the survey, what was typed, the errors, the invitation's
    language."""

    def __init__(
        self, spec: SurveySpec, raw: dict[str, Any], errors: dict[int, Any], locale: str
    ) -> None:
        super().__init__(errors)
        self.spec, self.raw, self.errors, self.locale = spec, raw, errors, locale


# --- the answering path -----------------------------------------------------------------------
#
# Answers through links come in bulk (a send to every customer), so the path from the link to
# the stored answer works on plain rows with Core statements built once: one read (the
# invitation and its survey's status and version, by the token's hash), the survey's questions
# from a per-process cache keyed by that version, and one short write transaction (claim the
# invitation, insert the response and its answers).

_INVITATION = Invitation.__table__
_SURVEY = Survey.__table__
_QUESTION = Question.__table__

_LINK = select(
    _INVITATION.c.id,
    _INVITATION.c.survey_id,
    _INVITATION.c.user_id,
    _INVITATION.c.locale,
    _INVITATION.c.expires_at,
    _INVITATION.c.responded_at,
    _INVITATION.c.draft_answers,
    _SURVEY.c.status,
    _SURVEY.c.updated_at,
).join_from(_INVITATION, _SURVEY, _SURVEY.c.id == _INVITATION.c.survey_id)
# The invitation whose link or reminder link carries the token, as a list of ids from each
# column's unique index: SQLite plans the plain OR of the two as a scan of every
# invitation (18 ms on 155,000 invitations, all of it holding the write lock).
_TOKEN_OWNER = _INVITATION.alias("token_owner")
_BY_TOKEN = _INVITATION.c.id.in_(
    union_all(
        select(_TOKEN_OWNER.c.id).where(_TOKEN_OWNER.c.token_hash == bindparam("digest")),
        select(_TOKEN_OWNER.c.id).where(_TOKEN_OWNER.c.reminder_token_hash == bindparam("digest")),
    )
)
_LINK_BY_TOKEN = _LINK.where(_BY_TOKEN)
_STATE_BY_TOKEN = _LINK_BY_TOKEN
_LINK_BY_ID = _LINK.where(
    _INVITATION.c.id == bindparam("invitation_id"), _INVITATION.c.user_id == bindparam("user_id")
)
_SURVEY_TEXTS = select(
    _SURVEY.c.title,
    _SURVEY.c.intro,
    _SURVEY.c.thank_you,
    _SURVEY.c.translations,
    _SURVEY.c.updated_at,
).where(_SURVEY.c.id == bindparam("survey_id"))
_QUESTIONS = (
    select(
        _QUESTION.c.id,
        _QUESTION.c.position,
        _QUESTION.c.type,
        _QUESTION.c.text,
        _QUESTION.c.choices,
        _QUESTION.c.translations,
        _QUESTION.c.required,
        _QUESTION.c.hidden,
    )
    .where(_QUESTION.c.survey_id == bindparam("survey_id"))
    .order_by(_QUESTION.c.position, _QUESTION.c.id)
)
# Of concurrent submissions exactly one finds the invitation still open and claims it. "Open"
# is judged by the write itself, at its moment: unanswered, not expired, its survey running; a
# link read open a moment before its expiry (or before its survey was closed) claims nothing.
_OPEN_NOW = (
    _INVITATION.c.responded_at.is_(None),
    _INVITATION.c.expires_at > bindparam("now"),
    exists()
    .where(_SURVEY.c.id == _INVITATION.c.survey_id, _SURVEY.c.status == "active")
    .correlate(_INVITATION),
)
_CLAIM = (
    _INVITATION.update()
    .where(_INVITATION.c.id == bindparam("invitation_id"), *_OPEN_NOW)
    .values(responded_at=bindparam("now"), draft_answers={})
)
# A link's answer claims its invitation by the token's hash and learns in the same statement
# what it needs to check and store the answers (survey, customer, the survey's version).
_CLAIM_BY_TOKEN = (
    _INVITATION.update()
    .where(_BY_TOKEN, *_OPEN_NOW)
    .values(responded_at=bindparam("now"), draft_answers={})
    .returning(
        _INVITATION.c.id,
        _INVITATION.c.survey_id,
        _INVITATION.c.user_id,
        _INVITATION.c.locale,
        select(_SURVEY.c.updated_at)
        .where(_SURVEY.c.id == _INVITATION.c.survey_id)
        .correlate(_INVITATION)
        .scalar_subquery(),
    )
)
_STATE_BY_ID = _LINK.where(_INVITATION.c.id == bindparam("invitation_id"))
_SAVE_DRAFT = (
    _INVITATION.update()
    .where(_INVITATION.c.id == bindparam("invitation_id"), _INVITATION.c.responded_at.is_(None))
    .values(draft_answers=bindparam("draft"))
)
_NEW_RESPONSE = (
    Response.__table__.insert()
    .values(
        invitation_id=bindparam("invitation_id"),
        survey_id=bindparam("survey_id"),
        user_id=bindparam("user_id"),
        locale=bindparam("locale"),
        submitted_at=bindparam("now"),
    )
    .returning(Response.__table__.c.id)
)
_NEW_ANSWER = Answer.__table__.insert()


@dataclass(frozen=True, slots=True)
class Link:
    """An invitation as the answering path sees it: plain values, no ORM object."""

    invitation_id: int
    survey_id: int
    user_id: int
    locale: str
    expires_at: datetime
    responded_at: datetime | None
    draft_answers: dict[str, Any]
    survey_status: str
    #: Changes whenever the survey or one of its questions is edited (models.py).
    survey_version: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """ "open", "answered", "expired" or "closed" (the survey no longer takes answers)."""
        if self.responded_at is not None:
            return "answered"
        if self.expires_at <= (now or utcnow()):
            return "expired"
        if self.survey_status != "active":
            return "closed"
        return "open"


@dataclass(frozen=True, slots=True)
class QuestionSpec(QuestionTexts):
    """A question as answering shows and checks it (the same reading methods as Question)."""

    id: int
    position: int
    type: str
    text: str
    choices: tuple[str, ...]
    translations: dict[str, Any]
    required: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class SurveySpec(SurveyTexts):
    """What answering needs of a survey: its texts and visible questions, at one version."""

    id: int
    version: datetime | None
    title: str
    intro: str
    thank_you: str
    translations: dict[str, Any]
    questions: tuple[QuestionSpec, ...]
    types: dict[int, str] = field(compare=False)


#: Surveys kept per process; more than this many running at once only costs reloads.
SPEC_CACHE_SIZE = 64
_SPEC_CACHE_KEY = "surveys.specs"


def _read(statement: Any, params: dict[str, Any]) -> Any:
    return db.session.connection().execute(statement, params)


def link_for_token(token: str) -> Link | None:
    """The invitation a link's token belongs to (invitation or reminder link), or None: one
    query by the token's hash, which is all that is stored of it (an altered token matches
    nothing)."""
    if not token or len(token) > 200:
        return None
    row = _read(_LINK_BY_TOKEN, {"digest": hash_token(token)}).first()
    return Link(*row) if row is not None else None


def own_link(invitation_id: int, user: Any) -> Link | None:
    """A signed-in customer's own invitation, or None."""
    row = _read(_LINK_BY_ID, {"invitation_id": invitation_id, "user_id": user.id}).first()
    return Link(*row) if row is not None else None


def survey_spec(survey_id: int, version: datetime | None) -> SurveySpec:
    """The survey's texts and visible questions, read once per process and version.

    ``version`` is the survey's ``updated_at`` as the link's query just read it; every edit
    of the survey or its questions changes it (models.py), so an edited survey is read again
    on its next answer, in every process.
    """
    cache: dict[int, SurveySpec] = current_app.extensions.setdefault(_SPEC_CACHE_KEY, {})
    spec = cache.get(survey_id)
    if spec is None or spec.version != version:
        spec = _load_spec(survey_id)
        if survey_id not in cache and len(cache) >= SPEC_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[survey_id] = spec
    return spec


def _load_spec(survey_id: int) -> SurveySpec:
    survey = _read(_SURVEY_TEXTS, {"survey_id": survey_id}).one()
    questions = tuple(
        QuestionSpec(
            id=row.id,
            position=row.position,
            type=row.type,
            text=row.text,
            choices=tuple(row.choices or ()),
            translations=row.translations or {},
            required=bool(row.required),
            hidden=bool(row.hidden),
        )
        for row in _read(_QUESTIONS, {"survey_id": survey_id})
        if not row.hidden
    )
    return SurveySpec(
        id=survey_id,
        version=survey.updated_at,
        title=survey.title,
        intro=survey.intro or "",
        thank_you=survey.thank_you or "",
        translations=survey.translations or {},
        questions=questions,
        types={q.id: q.type for q in questions},
    )


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to, as an ORM object (thanks and contact pages)."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(Invitation).options(joinedload(Invitation.survey)).where(_BY_TOKEN),
        {"digest": hash_token(token)},
    )


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
    questions: Sequence[QuestionSpec], form: MultiDict[str, str]
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
def _short_write() -> Iterator[Connection]:
    """Write in a transaction of its own, right after ending the request's reads.

    Answering reads first (the invitation, its survey and questions) and then writes a few
    rows. On SQLite a writer holds the one write lock from its BEGIN IMMEDIATE to its
    commit, so the reads are ended first and the write lock is taken only for the writes:
    answers from many processes queue for a few statements each instead of whole requests.
    On PostgreSQL this is simply two transactions.
    """
    if db.session().in_transaction():  # the link's answer has read nothing before
        db.session.commit()
    token = write_intent.set(True)
    try:
        yield db.session.connection()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        write_intent.reset(token)


def save_draft(invitation_id: int, raw: dict[str, Any]) -> None:
    """Keep what the customer has typed so far, so a reload or a later visit keeps it."""
    with _short_write() as connection:
        connection.execute(_SAVE_DRAFT, {"invitation_id": invitation_id, "draft": dict(raw)})


def answer_rows(spec: SurveySpec, values: dict[int, Any]) -> list[dict[str, Any]]:
    """The ``survey_answer`` rows of parsed ``values`` (question id -> number, text, indexes)."""
    rows = []
    for question_id, value in values.items():
        kind = spec.types[question_id]
        rows.append(
            {
                "question_id": question_id,
                "number": None if kind in ("text", "multiple") else int(value),
                "text": value if kind == "text" else None,
                "choices": list(value) if kind == "multiple" else None,
            }
        )
    return rows


def submit_answers(
    link: Link,
    spec: SurveySpec,
    values: dict[int, Any],
    *,
    locale: str,
    now: datetime | None = None,
) -> int:
    """Record the one response of ``link``'s invitation and commit it; raises NotOpen
    (AlreadyAnswered for a second answer) when the invitation no longer takes one. Returns the
    response's id.

    One write transaction: the invitation is claimed first (``responded_at`` set where it is
    still empty, unexpired at ``now`` and its survey active): of concurrent submissions exactly
    one claims it, the others change no row and are refused with nothing kept; so is an answer
    that arrives after the link expired or its survey closed, however recently ``link`` was
    read. The unique constraint on ``survey_response.invitation_id`` stays as the last guard.
    """
    now = now or utcnow()
    answers = answer_rows(spec, values)
    try:
        with _short_write() as connection:
            claimed = connection.execute(_CLAIM, {"invitation_id": link.invitation_id, "now": now})
            if claimed.rowcount != 1:
                raise _refusal(connection, _STATE_BY_ID, {"invitation_id": link.invitation_id}, now)
            return _store(
                connection, link.invitation_id, link.survey_id, link.user_id, locale, now, answers
            )
    except IntegrityError:
        raise AlreadyAnswered from None


def submit_by_token(
    token: str, form: MultiDict[str, str], *, locale: str, now: datetime | None = None
) -> int:
    """A link's answer in one short write transaction, without reading the link first:
    claim the invitation by the token's hash (where it is still open), check ``form``'s
    answers against its survey's questions, store them. Returns the response's id.

    Raises NotOpen (state "unknown" for a token that matches no invitation, AlreadyAnswered
    for a second answer) or InvalidAnswers; either way nothing is kept. The answers are
    checked after the claim, inside the transaction, because only the claim says which
    survey they answer: the claim is rolled back with them. ``locale`` is the language of
    the page the answers were given on.
    """
    if not token or len(token) > 200:
        raise NotOpen("unknown")
    now = now or utcnow()
    digest = hash_token(token)
    try:
        with _short_write() as connection:
            row = connection.execute(_CLAIM_BY_TOKEN, {"digest": digest, "now": now}).first()
            if row is None:
                raise _refusal(connection, _STATE_BY_TOKEN, {"digest": digest}, now)
            invitation_id, survey_id, user_id, invitation_locale, version = row
            spec = survey_spec(survey_id, version)
            values, raw, errors = parse_answers(spec.questions, form)
            if errors:
                raise InvalidAnswers(spec, raw, errors, invitation_locale)
            answers = answer_rows(spec, values)
            return _store(connection, invitation_id, survey_id, user_id, locale, now, answers)
    except IntegrityError:
        raise AlreadyAnswered from None


def _store(
    connection: Connection,
    invitation_id: int,
    survey_id: int,
    user_id: int,
    locale: str,
    now: datetime,
    answers: list[dict[str, Any]],
) -> int:
    """The response and its answers, for an invitation just claimed."""
    response_id: int = connection.execute(
        _NEW_RESPONSE,
        {
            "invitation_id": invitation_id,
            "survey_id": survey_id,
            "user_id": user_id,
            "locale": locale,
            "now": now,
        },
    ).scalar_one()
    for row in answers:
        row["response_id"] = response_id
    if answers:
        # One row (most surveys ask one question) as a single execute, more as many.
        connection.execute(_NEW_ANSWER, answers[0] if len(answers) == 1 else answers)
    return response_id


def _refusal(
    connection: Connection, statement: Any, params: dict[str, Any], now: datetime
) -> NotOpen:
    """Why a claim changed no row, read in the claim's own transaction (the rare path)."""
    row = connection.execute(statement, params).first()
    if row is None:
        return NotOpen("unknown")
    state = Link(*row).state(now)
    return AlreadyAnswered() if state in ("answered", "open") else NotOpen(state)


def submit_response(
    invitation: Invitation,
    values: dict[int, Any],
    *,
    locale: str,
    now: datetime | None = None,
) -> int:
    """``submit_answers`` for an ORM invitation (scripts and tests that hold one)."""
    link = Link(
        invitation_id=invitation.id,
        survey_id=invitation.survey_id,
        user_id=invitation.user_id,
        locale=invitation.locale,
        expires_at=invitation.expires_at,
        responded_at=invitation.responded_at,
        draft_answers=invitation.draft_answers or {},
        survey_status=invitation.survey.status,
        survey_version=invitation.survey.updated_at,
    )
    spec = survey_spec(link.survey_id, link.survey_version)
    return submit_answers(link, spec, values, locale=locale, now=now)


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
