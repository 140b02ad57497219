"""The survey arithmetic at its edges."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.surveys import charts, metrics
from portal.surveys.results import csv_safe


def test_nps_edges():
    assert metrics.nps([]) is None
    assert metrics.nps([10, 9]) == 100.0
    assert metrics.nps([0, 6]) == -100.0
    assert metrics.nps([7, 8]) == 0.0
    # 9 is a promoter, 6 a detractor, 7 and 8 count in the total only.
    assert metrics.nps([9, 6, 7, 8]) == 0.0
    assert metrics.nps([9, 7, 8]) == pytest.approx(33.3)
    assert metrics.nps([10, 10, 0]) == pytest.approx(33.3)


@pytest.mark.parametrize(
    ("score", "group"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_nps_groups(score, group):
    assert metrics.nps_group(score) == group


@pytest.mark.parametrize("bad", [-1, 11])
def test_nps_refuses_out_of_range(bad):
    with pytest.raises(ValueError):
        metrics.nps([bad])


def test_csat_edges():
    assert metrics.csat([]) is None
    assert metrics.csat([4, 5]) == 100.0
    assert metrics.csat([1, 2, 3]) == 0.0
    assert metrics.csat([3, 4]) == 50.0
    with pytest.raises(ValueError):
        metrics.csat([0])
    with pytest.raises(ValueError):
        metrics.csat([6])


def test_ces_mean_edges():
    assert metrics.ces_mean([]) is None
    assert metrics.ces_mean([1]) == 1.0
    assert metrics.ces_mean([7, 7]) == 7.0
    assert metrics.ces_mean([1, 7]) == 4.0
    assert metrics.ces_mean([1, 2, 2]) == pytest.approx(1.67)
    with pytest.raises(ValueError):
        metrics.ces_mean([8])


def test_response_rate():
    assert metrics.response_rate(0, 0) is None
    assert metrics.response_rate(0, 10) == 0.0
    assert metrics.response_rate(10, 10) == 100.0
    assert metrics.response_rate(1, 3) == pytest.approx(33.3)


def test_distribution_includes_empty_scores():
    assert metrics.distribution([1, 1, 5], 1, 5) == [(1, 2), (2, 0), (3, 0), (4, 0), (5, 1)]
    assert metrics.distribution([], 0, 2) == [(0, 0), (1, 0), (2, 0)]


def test_weekly_trend_groups_by_iso_week_and_keeps_gaps():
    monday = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    sunday = datetime(2026, 3, 8, 23, 59, tzinfo=UTC)
    two_weeks_later = datetime(2026, 3, 17, tzinfo=UTC)
    points = metrics.weekly_trend([(monday, 10), (sunday, 0), (two_weeks_later, 9)], "nps")
    assert [p.week for p in points] == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert [p.responses for p in points] == [2, 0, 1]
    assert [p.score for p in points] == [0.0, None, 100.0]
    assert metrics.weekly_trend([]) == []


def test_csv_cells_cannot_become_formulas():
    assert csv_safe('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    for risky in ("+1", "-1", "@SUM(A1)", "\tx"):
        assert csv_safe(risky).startswith("'")
    assert csv_safe("plain") == "plain"
    assert csv_safe(None) == ""
    assert csv_safe(7) == "7"


def test_charts_scale_to_the_largest_value():
    chart = charts.bar_chart(
        [("a", 0), ("b", 5), ("c", 10)], height=134, label_space=20, headroom=14
    )
    assert [bar.height for bar in chart.bars] == [0.0, 50.0, 100.0]
    assert chart.bars[2].y == 14 and chart.baseline == 114
    line = charts.line_chart([("w1", -100), ("w2", None), ("w3", 100)], low=-100, high=100)
    assert line.points[0].y > line.points[2].y
    assert line.path.count(",") == 2  # the missing week draws no point
    assert line.zero_y is not None


@pytest.mark.parametrize(
    ("by_list", "by_counts", "low", "high"),
    [
        (metrics.nps, metrics.nps_of_counts, 0, 10),
        (metrics.csat, metrics.csat_of_counts, 1, 5),
        (metrics.ces_mean, metrics.ces_mean_of_counts, 1, 7),
    ],
)
def test_counted_scores_give_the_same_figures_as_listed_ones(by_list, by_counts, low, high):
    for counts in (
        {},
        {low: 0},
        {high: 3},
        {low: 2, high: 1},
        {v: v + 1 for v in range(low, high + 1)},
    ):
        listed = [value for value, count in counts.items() for _ in range(count)]
        assert by_counts(counts) == by_list(listed)
    with pytest.raises(ValueError):
        by_counts({high + 1: 1})
    with pytest.raises(ValueError):
        by_counts({low: -1})


def test_a_histogram_of_many_answers_is_counted_not_spelt_out():
    # A year of answers is millions: the figures come from the counts alone.
    many = 10**15
    assert metrics.nps_of_counts({10: many, 0: many, 8: 2 * many}) == 0.0
    assert metrics.csat_of_counts({5: 3 * many, 1: many}) == 75.0
    assert metrics.ces_mean_of_counts({2: many, 4: many}) == 3.0
