"""Daily rollups for the dashboard: aggregates kept current by a job, never rebuilt per view.

A feature registers a builder per metric: ``builder(start, end)`` returns rows of
``(day, department_id or None, key, count, total)`` for the UTC days in [start, end). The job
rebuilds the recent days every few minutes; `flask portal rebuild-rollups` rebuilds them all.
The dashboard only sums rows over the chosen period, so it costs the same however large the
underlying tables grow. Medians come from histogram rows (the key is the bucket).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import BigInteger, Date, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import UTCDateTime, utcnow
from portal.extensions import db

RollupRow = tuple[date, int | None, str, int, int]
Builder = Callable[[date, date], Iterable[RollupRow]]

ROLLUP_BUILDERS: dict[str, Builder] = {}


class DailyMetric(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "daily_metric"
    __table_args__ = (Index("ix_daily_metric_metric_day", "metric", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    department_id: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(60), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


class InsightSnapshot(db.Model):  # type: ignore[name-defined,misc]
    """Figures about the present that would need a scan of a big table (all customers' value):
    computed by the job with the rollups, read by the dashboard in one small query."""

    __tablename__ = "insight_snapshot"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


SnapshotRow = tuple[str, int, int]
SNAPSHOT_BUILDERS: list[Callable[[], Iterable[SnapshotRow]]] = []


def register_snapshot(builder: Callable[[], Iterable[SnapshotRow]]) -> None:
    if builder not in SNAPSHOT_BUILDERS:
        SNAPSHOT_BUILDERS.append(builder)


def refresh_snapshot() -> int:
    """Replace the snapshot with what the builders compute now."""
    now = utcnow()
    rows = {}
    for builder in SNAPSHOT_BUILDERS:
        for key, count, total in builder():
            rows[key] = {"key": key, "count": int(count), "total": int(total), "computed_at": now}
    db.session.execute(delete(InsightSnapshot))
    if rows:
        db.session.execute(InsightSnapshot.__table__.insert(), list(rows.values()))
    db.session.flush()
    _forget()
    return len(rows)


def snapshot() -> dict[str, tuple[int, int]]:
    """{key: (count, total)} of the last refresh; empty before the first one."""
    cache = _cache()
    if "snapshot" not in cache:
        cache["snapshot"] = {
            key: (int(count), int(total))
            for key, count, total in db.session.execute(
                select(InsightSnapshot.key, InsightSnapshot.count, InsightSnapshot.total)
            )
        }
    return cache["snapshot"]


def _cache() -> dict:
    """Per request (application context): a page reads each window of rollups once."""
    if not has_app_context():
        return {}
    return g.setdefault("_rollup_cache", {})


def _forget() -> None:
    if has_app_context():
        g.pop("_rollup_cache", None)


def register_rollup(metric: str, builder: Builder) -> None:
    ROLLUP_BUILDERS[metric] = builder


def rebuild(start: date, end: date, metrics: Iterable[str] | None = None) -> int:
    """Replace the rows of [start, end) for the given metrics; returns rows written."""
    written = 0
    for metric in metrics or list(ROLLUP_BUILDERS):
        builder = ROLLUP_BUILDERS[metric]
        db.session.execute(
            delete(DailyMetric).where(
                DailyMetric.metric == metric, DailyMetric.day >= start, DailyMetric.day < end
            )
        )
        rows = [
            {
                "metric": metric,
                "day": day,
                "department_id": department,
                "key": key or "",
                "count": int(count),
                "total": int(total),
            }
            for day, department, key, count, total in builder(start, end)
        ]
        if rows:
            db.session.execute(DailyMetric.__table__.insert(), rows)
        written += len(rows)
    db.session.flush()
    _forget()
    return written


def refresh_recent(days: int = 2) -> int:
    """The periodic job: today and yesterday change as work happens."""
    today = utcnow().date()
    written = rebuild(today - timedelta(days=days - 1), today + timedelta(days=1))
    return written + refresh_snapshot()


def rebuild_all(since: date | None = None) -> int:
    today = utcnow().date()
    written = rebuild(since or today - timedelta(days=3 * 366), today + timedelta(days=1))
    return written + refresh_snapshot()


def _filters(metric: str, start: datetime, end: datetime, departments: list[int] | None) -> list:
    conditions = [
        DailyMetric.metric == metric,
        DailyMetric.day >= start.date(),
        DailyMetric.day < end.date() + timedelta(days=1),
    ]
    if departments is not None:
        conditions.append(DailyMetric.department_id.in_(departments))
    return conditions


def totals_by_key(
    metric: str, start: datetime, end: datetime, departments: list[int] | None = None
) -> dict[str, tuple[int, int]]:
    """{key: (count, total)} summed over the period.

    Every metric of the same window is read by one query and kept for the request, so a page
    pays one query per window (period, previous period) and department filter, not per figure.
    """
    cache = _cache()
    window = ("window", start.date(), end.date(), tuple(departments or ()), departments is None)
    if window not in cache:
        conditions = [
            DailyMetric.metric.in_(sorted(ROLLUP_BUILDERS)),
            DailyMetric.day >= start.date(),
            DailyMetric.day < end.date() + timedelta(days=1),
        ]
        if departments is not None:
            conditions.append(DailyMetric.department_id.in_(departments))
        totals: dict[str, dict[str, tuple[int, int]]] = {}
        for name, key, count, total in db.session.execute(
            select(
                DailyMetric.metric,
                DailyMetric.key,
                func.sum(DailyMetric.count),
                func.sum(DailyMetric.total),
            )
            .where(*conditions)
            .group_by(DailyMetric.metric, DailyMetric.key)
        ):
            totals.setdefault(name, {})[key] = (int(count or 0), int(total or 0))
        cache[window] = totals
    return dict(cache[window].get(metric, {}))


def counts_by_day(
    metric: str, start: datetime, end: datetime, departments: list[int] | None = None
) -> list[tuple[date, str, int]]:
    """(day, key, count) rows of the period, for trends drawn per day or week."""
    rows = db.session.execute(
        select(DailyMetric.day, DailyMetric.key, func.sum(DailyMetric.count))
        .where(*_filters(metric, start, end, departments))
        .group_by(DailyMetric.day, DailyMetric.key)
    ).all()
    return [(day, key, int(count or 0)) for day, key, count in rows]


def totals_by_department(
    metric: str, start: datetime, end: datetime, departments: list[int] | None = None
) -> dict[tuple[int | None, str], int]:
    rows = db.session.execute(
        select(DailyMetric.department_id, DailyMetric.key, func.sum(DailyMetric.count))
        .where(*_filters(metric, start, end, departments))
        .group_by(DailyMetric.department_id, DailyMetric.key)
    ).all()
    return {(department, key): int(count or 0) for department, key, count in rows}


def histogram_median(histogram: dict[str, tuple[int, int]]) -> float | None:
    """Median from histogram rows keyed by the bucket's numeric lower bound."""
    buckets = sorted((float(key), count) for key, (count, _total) in histogram.items() if key)
    size = sum(count for _bucket, count in buckets)
    if not size:
        return None
    middle = (size + 1) // 2  # the lower median when the count is even
    seen = 0
    for bucket, count in buckets:
        seen += count
        if seen >= middle:
            return bucket
    return buckets[-1][0]


def day_of(moment: datetime) -> date:
    return moment.date()


def register_tasks() -> None:
    from portal.jobs.schedule import register_periodic

    register_periodic("staff.refresh_rollups", "*/5 * * * *", refresh_recent)
