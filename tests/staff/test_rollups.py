"""Rollups: rebuilt per day, summed per period, medians from histograms."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.staff import rollups


def test_rebuild_replaces_days_and_totals_sum_the_period(app):
    calls = []

    def builder(start, end):
        calls.append((start, end))
        return [
            (date(2026, 5, 1), 1, "a", 2, 10),
            (date(2026, 5, 2), 2, "a", 3, 5),
            (date(2026, 5, 2), 2, "b", 1, 1),
        ]

    with app.app_context():
        rollups.register_rollup("test.metric", builder)
        try:
            assert rollups.rebuild(date(2026, 5, 1), date(2026, 5, 3), ["test.metric"]) == 3
            assert (
                rollups.rebuild(date(2026, 5, 1), date(2026, 5, 3), ["test.metric"]) == 3
            )  # replaced
            start, end = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, 12, tzinfo=UTC)
            assert rollups.totals_by_key("test.metric", start, end) == {"a": (5, 15), "b": (1, 1)}
            assert rollups.totals_by_key("test.metric", start, end, [1]) == {"a": (2, 10)}
            assert rollups.totals_by_department("test.metric", start, end) == {
                (1, "a"): 2,
                (2, "a"): 3,
                (2, "b"): 1,
            }
        finally:
            rollups.ROLLUP_BUILDERS.pop("test.metric")


def test_histogram_median():
    assert rollups.histogram_median({}) is None
    assert rollups.histogram_median({"1": (1, 0), "2": (1, 0), "8": (1, 0)}) == 2
    assert rollups.histogram_median({"1": (3, 0), "24": (1, 0)}) == 1
    assert rollups.histogram_median({"4": (2, 0), "12": (2, 0)}) == 4
