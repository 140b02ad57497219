"""Results of a survey: headline scores, per-question distributions, trends, CSV export."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.surveys import metrics
from portal.surveys.models import (
    CHOICE_TYPES,
    SCALE_RANGES,
    Answer,
    ContactRequest,
    Invitation,
    Question,
    Response,
    Survey,
)
from portal.surveys.sending import Audience, segment_conditions

MAX_TEXT_ANSWERS_SHOWN = 200


@dataclass(frozen=True)
class ResultFilter:
    audience: Audience = field(default_factory=Audience)
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""


@dataclass
class QuestionResult:
    question: Question
    answered: int = 0
    score: float | None = None
    score_kind: str | None = None  # nps, csat, ces, mean
    distribution: list[tuple[str, int]] = field(default_factory=list)
    trend: list[metrics.WeekPoint] = field(default_factory=list)
    texts: list[tuple[datetime, str]] = field(default_factory=list)
    text_total: int = 0


@dataclass
class SurveyResults:
    invitations: int
    responses: int
    response_rate: float | None
    nps: float | None
    csat: float | None
    ces: float | None
    questions: list[QuestionResult]
    contact_requests: int


def _bounds(result_filter: ResultFilter) -> list[Any]:
    conditions: list[Any] = []
    if result_filter.date_from:
        conditions.append(
            Response.submitted_at >= datetime.combine(result_filter.date_from, time.min, tzinfo=UTC)
        )
    if result_filter.date_to:
        end = result_filter.date_to + timedelta(days=1)
        conditions.append(Response.submitted_at < datetime.combine(end, time.min, tzinfo=UTC))
    return conditions


def _segment(user_column: Any, audience: Audience) -> list[Any]:
    if not audience.is_segment:
        return []
    return [exists(select(User.id).where(User.id == user_column, *segment_conditions(audience)))]


SCORE_KIND = {"nps": "nps", "csat": "csat", "ces": "ces", "rating": "mean"}


def survey_results(survey: Survey, result_filter: ResultFilter | None = None) -> SurveyResults:
    """Everything the results page shows, in four queries."""
    result_filter = result_filter or ResultFilter()
    response_conditions = [
        Response.survey_id == survey.id,
        *_bounds(result_filter),
        *_segment(Response.user_id, result_filter.audience),
    ]
    invitation_conditions = [
        Invitation.survey_id == survey.id,
        *_segment(Invitation.user_id, result_filter.audience),
    ]
    if result_filter.date_from:
        invitation_conditions.append(
            Invitation.created_at >= datetime.combine(result_filter.date_from, time.min, tzinfo=UTC)
        )
    if result_filter.date_to:
        invitation_conditions.append(
            Invitation.created_at
            < datetime.combine(result_filter.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        )
    invitations = (
        db.session.scalar(select(func.count(Invitation.id)).where(*invitation_conditions)) or 0
    )
    responses = db.session.scalar(select(func.count(Response.id)).where(*response_conditions)) or 0
    contact_requests = (
        db.session.scalar(
            select(func.count(ContactRequest.id))
            .join(Response, Response.id == ContactRequest.response_id)
            .where(*response_conditions)
        )
        or 0
    )
    rows = db.session.execute(
        select(
            Answer.question_id, Answer.number, Answer.choices, Answer.text, Response.submitted_at
        )
        .join(Response, Response.id == Answer.response_id)
        .where(*response_conditions)
        .order_by(Response.submitted_at.desc(), Answer.id)
    ).all()
    by_question: dict[int, list[Any]] = {}
    for row in rows:
        by_question.setdefault(row.question_id, []).append(row)

    needle = result_filter.search.strip().casefold()
    results: list[QuestionResult] = []
    scores: dict[str, list[int]] = {"nps": [], "csat": [], "ces": []}
    for question in survey.questions:
        answers = by_question.get(question.id, [])
        result = QuestionResult(question=question, answered=len(answers))
        if question.type in SCALE_RANGES:
            low, high = SCALE_RANGES[question.type]
            numbers = [
                a.number for a in answers if a.number is not None and low <= a.number <= high
            ]
            kind = SCORE_KIND[question.type]
            result.score_kind = kind
            result.score = {
                "nps": metrics.nps,
                "csat": metrics.csat,
                "ces": metrics.ces_mean,
            }.get(kind, metrics.mean)(numbers)
            result.distribution = [
                (str(score), count) for score, count in metrics.distribution(numbers, low, high)
            ]
            result.trend = metrics.weekly_trend(
                [(a.submitted_at, a.number) for a in answers if a.number is not None], kind
            )
            if kind in scores:
                scores[kind].extend(numbers)
        elif question.type in CHOICE_TYPES:
            counts: Counter[int] = Counter()
            for answer in answers:
                picked = answer.choices if answer.choices is not None else [answer.number]
                counts.update(i for i in picked if i is not None)
            result.distribution = [
                (label, counts.get(index, 0)) for index, label in enumerate(question.choices)
            ]
        else:
            texts = [(a.submitted_at, a.text) for a in answers if a.text]
            if needle:
                texts = [t for t in texts if needle in t[1].casefold()]
            result.text_total = len(texts)
            result.texts = texts[:MAX_TEXT_ANSWERS_SHOWN]
        results.append(result)
    return SurveyResults(
        invitations=invitations,
        responses=responses,
        response_rate=metrics.response_rate(responses, invitations),
        nps=metrics.nps(scores["nps"]),
        csat=metrics.csat(scores["csat"]),
        ces=metrics.ces_mean(scores["ces"]),
        questions=results,
        contact_requests=contact_requests,
    )


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula: risky first characters get a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def export_csv(survey: Survey, result_filter: ResultFilter | None = None) -> str:
    """One row per response, one column per question (choices by their English label)."""
    result_filter = result_filter or ResultFilter()
    questions = list(survey.questions)
    responses = db.session.scalars(
        select(Response)
        .options(db.selectinload(Response.answers))
        .where(
            Response.survey_id == survey.id,
            *_bounds(result_filter),
            *_segment(Response.user_id, result_filter.audience),
        )
        .order_by(Response.submitted_at, Response.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [csv_safe(v) for v in ["response_id", "submitted_at", "locale", "customer_id"]]
        + [csv_safe(f"Q{i}: {q.text}") for i, q in enumerate(questions, start=1)]
    )
    for response in responses:
        answers = {a.question_id: a for a in response.answers}
        row: list[Any] = [
            response.id,
            response.submitted_at.isoformat(),
            response.locale,
            response.user_id or "",
        ]
        for question in questions:
            answer = answers.get(question.id)
            row.append(_cell(question, answer))
        writer.writerow([csv_safe(v) for v in row])
    return out.getvalue()


def _cell(question: Question, answer: Answer | None) -> str:
    if answer is None:
        return ""
    if answer.text is not None:
        return answer.text
    if answer.choices is not None:
        return "; ".join(question.choices[i] for i in answer.choices if i < len(question.choices))
    if question.type in CHOICE_TYPES and answer.number is not None:
        return question.choices[answer.number] if answer.number < len(question.choices) else ""
    return "" if answer.number is None else str(answer.number)


def deal_breakers(limit: int = 5, since: datetime | None = None) -> list[tuple[str, int]]:
    """Why lapsed customers left: the exit survey's reasons, most chosen first."""
    from portal.surveys.services import survey_for_trigger

    survey = survey_for_trigger("lapsed")
    if survey is None:
        return []
    question = next((q for q in survey.questions if q.type in CHOICE_TYPES), None)
    if question is None:
        return []
    conditions = [Answer.question_id == question.id]
    if since is not None:
        conditions.append(Response.submitted_at >= since)
    counts: Counter[int] = Counter()
    for choices, number in db.session.execute(
        select(Answer.choices, Answer.number)
        .join(Response, Response.id == Answer.response_id)
        .where(*conditions)
    ):
        counts.update(choices if choices is not None else [n for n in [number] if n is not None])
    labels = question.choices
    return [(labels[i], n) for i, n in counts.most_common() if i < len(labels)][:limit]


@dataclass(frozen=True)
class Scores:
    nps: float | None
    csat: float | None
    ces: float | None
    responses: int


def scores_between(start: datetime, end: datetime) -> Scores:
    """NPS, CSAT and CES over every survey answered in [start, end): for the dashboard,
    which compares a period with the one before it."""
    rows = db.session.execute(
        select(Question.type, Answer.number)
        .join(Answer, Answer.question_id == Question.id)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.submitted_at >= start,
            Response.submitted_at < end,
            Question.type.in_(("nps", "csat", "ces")),
            Answer.number.is_not(None),
        )
    ).all()
    by_type: dict[str, list[int]] = {"nps": [], "csat": [], "ces": []}
    for kind, number in rows:
        low, high = SCALE_RANGES[kind]
        if number is not None and low <= number <= high:
            by_type[kind].append(number)
    responses = (
        db.session.scalar(
            select(func.count(Response.id)).where(
                Response.submitted_at >= start, Response.submitted_at < end
            )
        )
        or 0
    )
    return Scores(
        nps=metrics.nps(by_type["nps"]),
        csat=metrics.csat(by_type["csat"]),
        ces=metrics.ces_mean(by_type["ces"]),
        responses=responses,
    )


def responses_of_customer(user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """A customer's latest survey answers, for the customer 360 page."""
    responses = db.session.scalars(
        select(Response)
        .options(
            db.selectinload(Response.answers).joinedload(Answer.question),
            db.joinedload(Response.invitation).joinedload(Invitation.survey),
        )
        .where(Response.user_id == user_id)
        .order_by(Response.submitted_at.desc())
        .limit(limit)
    ).all()
    titles = dict(
        db.session.execute(
            select(Survey.id, Survey.title).where(
                Survey.id.in_({response.survey_id for response in responses})
            )
        ).all()
    )
    return [
        {
            "survey": titles.get(response.survey_id, ""),
            "survey_id": response.survey_id,
            "submitted_at": response.submitted_at,
            "answers": [
                (answer.question.text, _cell(answer.question, answer))
                for answer in sorted(
                    response.answers, key=lambda a: (a.question.position, a.question_id)
                )
            ],
        }
        for response in responses
    ]


def contact_requests(
    survey: Survey, result_filter: ResultFilter | None = None
) -> list[tuple[ContactRequest, int | None]]:
    """Detractors who asked to be contacted, newest first, with their NPS answer."""
    result_filter = result_filter or ResultFilter()
    requests = db.session.scalars(
        select(ContactRequest)
        .join(Response, Response.id == ContactRequest.response_id)
        .options(
            db.joinedload(ContactRequest.user),
            db.joinedload(ContactRequest.response)
            .selectinload(Response.answers)
            .joinedload(Answer.question),
        )
        .where(
            Response.survey_id == survey.id,
            *_bounds(result_filter),
            *_segment(Response.user_id, result_filter.audience),
        )
        .order_by(ContactRequest.created_at.desc())
    ).all()
    listed = []
    for request in requests:
        score = next((a.number for a in request.response.answers if a.question.type == "nps"), None)
        listed.append((request, score))
    return listed
