"""What the features contribute to the dashboard and the customer 360.

Daily rollups (see ``rollups``) hold the figures that grow with history: survey scores,
items opened, response and resolution times, root causes, topics. Figures about the present
(open items, breaches now, the flag queue, unanswered topics) are read live from indexed
columns, so they cost the same however much history there is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select

from portal.accounts.models import Department, User
from portal.core.db import utcnow
from portal.extensions import db
from portal.staff import rollups
from portal.staff.charts import bar_chart, column_chart
from portal.staff.services import (
    SEARCH_PROVIDERS,
    TIMELINE_PROVIDERS,
    Period,
    TimelineEntry,
    customer_snapshot_rows,
    joined_by_referrer,
    joined_by_source,
    register_customer_section,
    register_dashboard_block,
)

#: Upper bounds (hours) of the response-time histogram's buckets.
HOUR_BUCKETS = (1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 336, 720)


def hour_bucket(hours: float) -> int:
    """The histogram bucket of a duration: the smallest bound not below it."""
    for bound in HOUR_BUCKETS:
        if hours <= bound:
            return bound
    return HOUR_BUCKETS[-1] * 2


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    from datetime import UTC

    return (
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        datetime(end.year, end.month, end.day, tzinfo=UTC),
    )


# --- Rollup builders -------------------------------------------------------------------------


def survey_scores(start: date, end: date) -> Iterable[rollups.RollupRow]:
    from portal.surveys.models import Answer, Question, Response

    low, high = _day_bounds(start, end)
    day = func.date(Response.submitted_at)
    rows = db.session.execute(
        select(day, Question.type, Answer.number, func.count())
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, Question.id == Answer.question_id)
        .where(
            Response.submitted_at >= low,
            Response.submitted_at < high,
            Question.type.in_(("nps", "csat", "ces")),
            Answer.number.is_not(None),
        )
        .group_by(day, Question.type, Answer.number)
    )
    for when, kind, number, count in rows:
        yield _as_date(when), None, f"{kind}:{number}", count, 0


def feedback_rollups(start: date, end: date) -> dict[str, list[rollups.RollupRow]]:
    """Items opened, first-response and resolution times, breaches and root causes per day."""
    from portal.feedback.models import FeedbackItem, RootCause

    low, high = _day_bounds(start, end)
    counts: dict[str, dict[tuple[date, int | None, str], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    opened = db.session.execute(
        select(
            func.date(FeedbackItem.created_at),
            FeedbackItem.department_id,
            FeedbackItem.priority,
            func.count(),
        )
        .where(FeedbackItem.created_at >= low, FeedbackItem.created_at < high)
        .group_by(
            func.date(FeedbackItem.created_at), FeedbackItem.department_id, FeedbackItem.priority
        )
    )
    for when, department, priority, count in opened:
        counts["feedback.opened"][(_as_date(when), department, priority)] += count
    responded = db.session.execute(
        select(
            FeedbackItem.first_response_at, FeedbackItem.created_at, FeedbackItem.department_id
        ).where(FeedbackItem.first_response_at >= low, FeedbackItem.first_response_at < high)
    )
    for answered, created, department in responded:
        if answered is None:
            continue
        hours = (answered - created).total_seconds() / 3600
        counts["feedback.first_response"][
            (answered.date(), department, str(hour_bucket(hours)))
        ] += 1
    resolved = db.session.execute(
        select(
            FeedbackItem.resolved_at,
            FeedbackItem.created_at,
            FeedbackItem.department_id,
            RootCause.name,
        )
        .outerjoin(RootCause, RootCause.id == FeedbackItem.root_cause_id)
        .where(FeedbackItem.resolved_at >= low, FeedbackItem.resolved_at < high)
    )
    for done, created, department, cause in resolved:
        if done is None:
            continue
        hours = (done - created).total_seconds() / 3600
        counts["feedback.resolution"][(done.date(), department, str(hour_bucket(hours)))] += 1
        if cause:
            counts["feedback.root_cause"][(done.date(), department, cause[:60])] += 1
    for column in (FeedbackItem.first_response_breached_at, FeedbackItem.resolution_breached_at):
        breached = db.session.execute(
            select(func.date(column), FeedbackItem.department_id, func.count())
            .where(column >= low, column < high)
            .group_by(func.date(column), FeedbackItem.department_id)
        )
        for when, department, count in breached:
            counts["feedback.breaches"][(_as_date(when), department, "")] += count
    return {
        metric: [(d, dep, key, n, 0) for (d, dep, key), n in rows.items()]
        for metric, rows in counts.items()
    }


_FEEDBACK_PASS: dict[tuple[date, date, datetime], dict[str, list[rollups.RollupRow]]] = {}


def _feedback_metric(metric: str) -> rollups.Builder:
    """One pass over the items serves the five feedback metrics of the same rebuild."""

    def build(start: date, end: date) -> Iterable[rollups.RollupRow]:
        minute = utcnow().replace(second=0, microsecond=0)
        key = (start, end, minute)
        if key not in _FEEDBACK_PASS:
            _FEEDBACK_PASS.clear()
            _FEEDBACK_PASS[key] = feedback_rollups(start, end)
        return _FEEDBACK_PASS[key].get(metric, [])

    return build


def community_topics(start: date, end: date) -> Iterable[rollups.RollupRow]:
    from portal.community.models import Topic

    low, high = _day_bounds(start, end)
    rows = db.session.execute(
        select(func.date(Topic.created_at), Topic.accepted_post_id.is_not(None), func.count())
        .where(Topic.created_at >= low, Topic.created_at < high, Topic.state == "visible")
        .group_by(func.date(Topic.created_at), Topic.accepted_post_id.is_not(None))
    )
    for when, accepted, count in rows:
        yield _as_date(when), None, "accepted" if accepted else "open", count, 0


def deal_breakers(start: date, end: date) -> Iterable[rollups.RollupRow]:
    """Reasons chosen in the exit survey of lapsed customers, per day (key: the reason)."""
    from portal.surveys.models import CHOICE_TYPES, Answer, Response
    from portal.surveys.services import survey_for_trigger

    survey = survey_for_trigger("lapsed")
    question = (
        next((q for q in survey.questions if q.type in CHOICE_TYPES), None) if survey else None
    )
    if question is None:
        return []
    low, high = _day_bounds(start, end)
    labels = question.choices
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for submitted, choices, number in db.session.execute(
        select(Response.submitted_at, Answer.choices, Answer.number)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Answer.question_id == question.id,
            Response.submitted_at >= low,
            Response.submitted_at < high,
        )
    ):
        chosen = choices if choices is not None else [n for n in [number] if n is not None]
        for index in chosen:
            if 0 <= index < len(labels):
                counts[(submitted.date(), str(labels[index])[:60])] += 1
    return [(day, None, label, count, 0) for (day, label), count in counts.items()]


# --- Dashboard blocks ------------------------------------------------------------------------


@dataclass
class Change:
    """A figure of the period and of the period before, formatted for showing."""

    value: float | None
    previous: float | None
    digits: int = 0
    unit: str = ""
    better: str = "up"  # which direction is good news

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def shown(self) -> str:
        return "—" if self.value is None else f"{self.value:.{self.digits}f}{self.unit}"

    @property
    def delta_shown(self) -> str:
        delta = self.delta
        return "" if delta is None else f"{delta:+.{self.digits}f}{self.unit}"

    @property
    def good(self) -> bool:
        delta = self.delta or 0
        return delta >= 0 if self.better == "up" else delta <= 0


def scores_from_histogram(histogram: dict[str, tuple[int, int]]) -> dict[str, float | None]:
    from portal.surveys import metrics

    # Counted, not spelt out: a period's histogram holds as many answers as were given.
    counts: dict[str, Counter[int]] = {"nps": Counter(), "csat": Counter(), "ces": Counter()}
    for key, (count, _total) in histogram.items():
        kind, _, number = key.partition(":")
        if kind in counts and number.lstrip("-").isdigit():
            counts[kind][int(number)] += count
    return {
        "nps": metrics.nps_of_counts(counts["nps"]),
        "csat": metrics.csat_of_counts(counts["csat"]),
        "ces": metrics.ces_mean_of_counts(counts["ces"]),
    }


def satisfaction_block(period: Period, _departments: list[int] | None) -> dict[str, Any]:
    now = scores_from_histogram(rollups.totals_by_key("survey.score", period.start, period.end))
    before_period = period.previous()
    before = scores_from_histogram(
        rollups.totals_by_key("survey.score", before_period.start, before_period.end)
    )
    # One query for the whole period, bucketed into weeks here.
    histograms: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for day, key, count in rollups.counts_by_day("survey.score", period.start, period.end):
        week_index = (day - period.start.date()).days // 7
        previous_count = histograms[week_index].get(key, (0, 0))[0]
        histograms[week_index][key] = (previous_count + count, 0)
    weekly = []
    for index in range((period.days + 6) // 7):
        nps = scores_from_histogram(histograms.get(index, {}))["nps"]
        label = (period.start + timedelta(days=7 * index)).strftime("%d.%m")
        weekly.append(
            (label, max(nps, 0) if nps is not None else 0, "—" if nps is None else f"{nps:.0f}")
        )
    breakers = sorted(
        (
            (label, count)
            for label, (count, _t) in rollups.totals_by_key(
                "survey.deal_breaker", period.start, period.end
            ).items()
            if count
        ),
        key=lambda row: (-row[1], row[0]),
    )[:5]
    return {
        "scores": {
            "nps": Change(now["nps"], before["nps"]),
            "csat": Change(now["csat"], before["csat"], unit=" %"),
            "ces": Change(now["ces"], before["ces"], digits=1, better="down"),
        },
        "nps_chart": column_chart(
            gettext("NPS by week"),
            gettext(
                "Net promoter score of each week of the period (negative weeks are drawn as zero)."
            ),
            weekly,
        ),
        "breakers_chart": bar_chart(
            gettext("Why customers left"),
            gettext("Reasons lapsed customers gave in the exit survey, most given first."),
            [(label, count, str(count)) for label, count in breakers],
        ),
    }


def complaints_block(period: Period, departments: list[int] | None) -> dict[str, Any]:
    from portal.feedback.models import OPEN_STATUSES, FeedbackItem

    overdue = FeedbackItem.next_due_at < utcnow()
    open_rows = db.session.execute(
        select(
            Department.name,
            FeedbackItem.priority,
            func.count(FeedbackItem.id),
            func.count(FeedbackItem.id).filter(overdue),
        )
        .outerjoin(Department, Department.id == FeedbackItem.department_id)
        .where(
            FeedbackItem.status.in_(OPEN_STATUSES),
            *([FeedbackItem.department_id.in_(departments)] if departments is not None else []),
        )
        .group_by(Department.name, FeedbackItem.priority)
    ).all()
    priorities = ("urgent", "high", "normal", "low")
    table: dict[str, dict[str, int]] = defaultdict(dict)
    breached_now = 0
    for department, priority, count, late in open_rows:
        breached_now += late or 0
        if department is not None:
            table[department][priority] = count
    previous = period.previous()

    def median(metric: str, which: Period) -> float | None:
        return rollups.histogram_median(
            rollups.totals_by_key(metric, which.start, which.end, departments)
        )

    causes = rollups.totals_by_key("feedback.root_cause", period.start, period.end, departments)
    top_causes = sorted(
        ((key, count) for key, (count, _t) in causes.items()), key=lambda kv: -kv[1]
    )[:8]
    breaches = rollups.totals_by_key("feedback.breaches", period.start, period.end, departments)
    return {
        "priorities": priorities,
        "open_table": sorted(table.items()),
        "breached_now": breached_now,
        "breaches_in_period": sum(count for count, _t in breaches.values()),
        "first_response": Change(
            median("feedback.first_response", period),
            median("feedback.first_response", previous),
            better="down",
        ),
        "resolution": Change(
            median("feedback.resolution", period),
            median("feedback.resolution", previous),
            better="down",
        ),
        "causes_chart": bar_chart(
            gettext("Top root causes"),
            gettext(
                "Root causes recorded on resolved complaints in the period, most frequent first."
            ),
            [(cause, count, str(count)) for cause, count in top_causes],
        ),
    }


def community_block(period: Period, _departments: list[int] | None) -> dict[str, Any]:
    from portal.community.models import Post, PostFlag, Topic

    topics = rollups.totals_by_key("community.topics", period.start, period.end)
    new_topics = sum(count for count, _t in topics.values())
    accepted = topics.get("accepted", (0, 0))[0]
    # Pending posts and posts with an open flag, counted apart (each through its own index:
    # an OR of the two reads every post) without counting a flagged pending post twice.
    flagged_visible = (
        select(func.count(func.distinct(PostFlag.post_id)))
        .join(Post, Post.id == PostFlag.post_id)
        .where(PostFlag.resolved_at.is_(None), Post.state != "pending")
    )
    unanswered, pending, flagged = db.session.execute(
        select(
            # count(*): answered from the index alone (ix_community_topic_unanswered).
            select(func.count())
            .select_from(Topic)
            .where(
                Topic.state == "visible",
                Topic.reply_count == 0,
                Topic.created_at < utcnow() - timedelta(hours=48),
            )
            .scalar_subquery(),
            select(func.count(Post.id)).where(Post.state == "pending").scalar_subquery(),
            flagged_visible.scalar_subquery(),
        )
    ).one()
    queue = (pending or 0) + (flagged or 0)
    return {
        "new_topics": new_topics,
        "accepted_rate": accepted / new_topics if new_topics else None,
        "unanswered": unanswered,
        "flag_queue": queue,
    }


# --- Customer 360 ----------------------------------------------------------------------------


def _per_request(user: User, name: str, load: Any) -> Any:
    """The timeline and the sections of one 360 page share what they read about a customer."""
    from flask import g

    store = g.setdefault("_customer_360", {})
    if (user.id, name) not in store:
        store[(user.id, name)] = load()
    return store[(user.id, name)]


def _feedback_items(user: User) -> list[Any]:
    from sqlalchemy.orm import joinedload

    from portal.feedback.models import FeedbackItem

    return _per_request(
        user,
        "feedback",
        lambda: list(
            db.session.scalars(
                select(FeedbackItem)
                .where(FeedbackItem.user_id == user.id)
                .options(joinedload(FeedbackItem.order))
                .order_by(FeedbackItem.created_at.desc(), FeedbackItem.id.desc())
                .limit(50)
            )
        ),
    )


def _topics(user: User) -> list[Any]:
    from portal.community.models import Topic

    return _per_request(
        user,
        "topics",
        lambda: list(
            db.session.scalars(
                select(Topic)
                .where(Topic.author_id == user.id)
                .order_by(Topic.created_at.desc())
                .limit(50)
            )
        ),
    )


def feedback_section(user: User) -> dict[str, Any]:
    return {"items": _feedback_items(user)[:20]}


def surveys_section(user: User) -> dict[str, Any]:
    from portal.surveys.results import responses_of_customer

    return {"responses": responses_of_customer(user.id, limit=10)}


def community_section(user: User) -> dict[str, Any]:
    from portal.community.models import Post, Topic

    posts, answers = db.session.execute(
        select(
            select(func.count(Post.id))
            .where(Post.author_id == user.id, Post.state == "visible")
            .scalar_subquery(),
            select(func.count(Topic.id))
            .join(Post, Post.id == Topic.accepted_post_id)
            .where(Post.author_id == user.id)
            .scalar_subquery(),
        )
    ).one()
    return {"posts": posts or 0, "accepted_answers": answers or 0, "topics": _topics(user)[:5]}


def timeline_entries(user: User) -> list[TimelineEntry]:
    from flask import url_for

    from portal.community.services import topic_url
    from portal.surveys.models import Response, Survey

    entries: list[TimelineEntry] = []
    for item in _feedback_items(user):
        entries.append(
            TimelineEntry(
                item.created_at,
                "feedback",
                f"{item.reference} · {item.subject}",
                url=url_for("feedback_staff.item", reference=item.reference),
                detail=item.status,
            )
        )
    for submitted, title in db.session.execute(
        select(Response.submitted_at, Survey.title)
        .join(Survey, Survey.id == Response.survey_id)
        .where(Response.user_id == user.id)
        .order_by(Response.submitted_at.desc())
        .limit(50)
    ):
        entries.append(
            TimelineEntry(submitted, "survey", gettext("Answered “%(title)s”", title=title))
        )
    for topic in _topics(user):
        entries.append(
            TimelineEntry(
                topic.created_at,
                "community",
                gettext("Asked “%(title)s”", title=topic.title),
                url=topic_url(topic),
            )
        )
    return entries


def find_by_reference(query: str) -> list[int]:
    from portal.feedback.models import FeedbackItem

    if not query.upper().startswith("FB-"):
        return []
    return list(
        db.session.scalars(
            select(FeedbackItem.user_id).where(FeedbackItem.reference == query.strip().upper())
        )
    )


def register() -> None:
    rollups.register_rollup("survey.score", survey_scores)
    for metric in (
        "feedback.opened",
        "feedback.first_response",
        "feedback.resolution",
        "feedback.breaches",
        "feedback.root_cause",
    ):
        rollups.register_rollup(metric, _feedback_metric(metric))
    rollups.register_rollup("community.topics", community_topics)
    rollups.register_rollup("survey.deal_breaker", deal_breakers)
    rollups.register_rollup("customers.joined", joined_by_source)
    rollups.register_rollup("customers.referred", joined_by_referrer)
    rollups.register_snapshot(customer_snapshot_rows)
    register_dashboard_block("staff/blocks/satisfaction.html", satisfaction_block, order=10)
    register_dashboard_block("staff/blocks/complaints.html", complaints_block, order=20)
    register_dashboard_block("staff/blocks/community.html", community_block, order=30)
    register_customer_section("staff/sections/feedback.html", feedback_section, order=10)
    register_customer_section("staff/sections/surveys.html", surveys_section, order=20)
    register_customer_section("staff/sections/community.html", community_section, order=30)
    if timeline_entries not in TIMELINE_PROVIDERS:
        TIMELINE_PROVIDERS.append(timeline_entries)
    if find_by_reference not in SEARCH_PROVIDERS:
        SEARCH_PROVIDERS.append(find_by_reference)
