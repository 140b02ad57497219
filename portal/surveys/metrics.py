"""The survey arithmetic as pure functions: NPS, CSAT, CES, distributions, weekly trends.

Every function takes plain numbers and returns None when there is nothing to measure, so
"no answers" is never shown as a score of zero.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta


def _checked(scores: Iterable[int], low: int, high: int) -> list[int]:
    values = list(scores)
    for value in values:
        if not low <= value <= high:
            raise ValueError(f"score {value} outside {low}..{high}")
    return values


def _checked_counts(counts: Mapping[int, int], low: int, high: int) -> dict[int, int]:
    """``counts`` (how many answers gave each score) without the scores nobody gave."""
    for value, count in counts.items():
        if not low <= value <= high:
            raise ValueError(f"score {value} outside {low}..{high}")
        if count < 0:
            raise ValueError(f"negative count {count} for score {value}")
    return {value: count for value, count in counts.items() if count}


def nps(scores: Iterable[int]) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100."""
    return nps_of_counts(Counter(_checked(scores, 0, 10)))


def nps_of_counts(counts: Mapping[int, int]) -> float | None:
    """``nps`` of answers counted by score (a histogram: as many answers as it counts)."""
    counts = _checked_counts(counts, 0, 10)
    total = sum(counts.values())
    if not total:
        return None
    promoters = sum(count for value, count in counts.items() if value >= 9)
    detractors = sum(count for value, count in counts.items() if value <= 6)
    return round(100.0 * (promoters - detractors) / total, 1)


def nps_group(score: int) -> str:
    """ "promoter" (9-10), "passive" (7-8) or "detractor" (0-6)."""
    _checked([score], 0, 10)
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def csat(scores: Iterable[int]) -> float | None:
    """Customer satisfaction: the share of 4 and 5 answers on the 1-5 scale, in %."""
    return csat_of_counts(Counter(_checked(scores, 1, 5)))


def csat_of_counts(counts: Mapping[int, int]) -> float | None:
    """``csat`` of answers counted by score."""
    counts = _checked_counts(counts, 1, 5)
    total = sum(counts.values())
    if not total:
        return None
    return round(100.0 * sum(count for value, count in counts.items() if value >= 4) / total, 1)


def ces_mean(scores: Iterable[int]) -> float | None:
    """Customer effort score: the mean of the 1-7 answers."""
    return ces_mean_of_counts(Counter(_checked(scores, 1, 7)))


def ces_mean_of_counts(counts: Mapping[int, int]) -> float | None:
    """``ces_mean`` of answers counted by score."""
    counts = _checked_counts(counts, 1, 7)
    total = sum(counts.values())
    if not total:
        return None
    return round(sum(value * count for value, count in counts.items()) / total, 2)


def mean(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def response_rate(responses: int, invitations: int) -> float | None:
    """Responses per invitation in %; None when nobody was invited."""
    if invitations <= 0:
        return None
    return round(100.0 * min(responses, invitations) / invitations, 1)


def distribution(values: Iterable[int], low: int, high: int) -> list[tuple[int, int]]:
    """Count per score from ``low`` to ``high`` inclusive, zeros included."""
    counts = Counter(_checked(values, low, high))
    return [(score, counts.get(score, 0)) for score in range(low, high + 1)]


def week_start(moment: datetime | date) -> date:
    """The Monday of the ISO week ``moment`` falls in."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WeekPoint:
    week: date
    responses: int
    score: float | None


def weekly_trend(answers: Iterable[tuple[datetime, int]], score: str = "nps") -> list[WeekPoint]:
    """Per ISO week, oldest first, the number of answers and their score (nps/csat/ces/mean).

    Weeks without answers between the first and the last are included with no score.
    """
    by_week: dict[date, list[int]] = {}
    for moment, value in answers:
        by_week.setdefault(week_start(moment), []).append(value)
    if not by_week:
        return []
    scorer = {"nps": nps, "csat": csat, "ces": ces_mean}.get(score, mean)
    points = []
    week = min(by_week)
    last = max(by_week)
    while week <= last:
        values = by_week.get(week, [])
        points.append(WeekPoint(week, len(values), scorer(values) if values else None))
        week += timedelta(days=7)
    return points
