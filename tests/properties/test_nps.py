"""Survey arithmetic (portal/surveys/metrics.py): NPS, CSAT, CES and the weekly trend."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.surveys import metrics

nps_scores = st.lists(st.integers(0, 10), min_size=1, max_size=200)


@given(nps_scores)
def test_nps_is_promoters_minus_detractors_in_percent(scores: list[int]) -> None:
    result = metrics.nps(scores)
    assert result is not None and -100 <= result <= 100
    groups = [metrics.nps_group(score) for score in scores]
    share = 100 / len(scores)
    expected = share * groups.count("promoter") - share * groups.count("detractor")
    assert abs(result - expected) <= 0.05 + 1e-9  # one decimal


@given(nps_scores, st.randoms(use_true_random=False), st.integers(2, 5))
def test_nps_depends_on_the_shares_only(scores: list[int], random, times: int) -> None:
    shuffled = list(scores)
    random.shuffle(shuffled)
    assert metrics.nps(shuffled) == metrics.nps(scores)
    assert metrics.nps(scores * times) == metrics.nps(scores)


@given(nps_scores, st.integers(0, 10))
def test_one_more_answer_moves_nps_the_way_of_its_group(scores: list[int], score: int) -> None:
    before = metrics.nps(scores)
    after = metrics.nps([*scores, score])
    assert before is not None and after is not None
    group = metrics.nps_group(score)
    if group == "promoter":
        assert after >= before
    elif group == "detractor":
        assert after <= before
    else:
        assert abs(after) <= abs(before)  # a passive pulls towards zero


@given(st.integers(0, 10))
def test_one_answer_gives_the_extremes(score: int) -> None:
    expected = {"promoter": 100.0, "passive": 0.0, "detractor": -100.0}
    assert metrics.nps([score]) == expected[metrics.nps_group(score)]


@given(st.lists(st.integers(-5, 15), min_size=1))
def test_scores_outside_the_scale_are_refused(scores: list[int]) -> None:
    if all(0 <= s <= 10 for s in scores):
        assert metrics.nps(scores) is not None
    else:
        with pytest.raises(ValueError):
            metrics.nps(scores)


def test_no_answers_is_no_score() -> None:
    assert metrics.nps([]) is None and metrics.csat([]) is None and metrics.ces_mean([]) is None


@given(st.lists(st.integers(1, 5), min_size=1, max_size=200))
def test_csat_is_the_share_of_fours_and_fives(scores: list[int]) -> None:
    result = metrics.csat(scores)
    assert result is not None and 0 <= result <= 100
    assert abs(result - 100 * sum(1 for s in scores if s >= 4) / len(scores)) <= 0.05 + 1e-9


@given(st.lists(st.integers(1, 7), min_size=1, max_size=200))
def test_ces_is_a_mean_within_the_answers(scores: list[int]) -> None:
    result = metrics.ces_mean(scores)
    assert result is not None and min(scores) <= result <= max(scores)


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(st.lists(st.tuples(moments, st.integers(0, 10)), max_size=60))
def test_the_weekly_trend_covers_every_answer_once(answers) -> None:
    points = metrics.weekly_trend(answers)
    assert sum(point.responses for point in points) == len(answers)
    for earlier, later in itertools.pairwise(points):
        assert later.week - earlier.week == timedelta(days=7)
    for point in points:
        assert point.week.weekday() == 0
        values = [v for at, v in answers if metrics.week_start(at) == point.week]
        assert point.score == (metrics.nps(values) if values else None)
