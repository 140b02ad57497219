"""Customer value (portal/orders/value.py): spend, golden, lapsed and the relationship stage."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from portal.orders import value
from portal.orders.models import ORDER_STATUSES

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
STAGES = ("exploration", "awareness", "expansion", "commitment", "dissolution")

placed = st.datetimes(
    min_value=datetime(2022, 1, 1), max_value=datetime(2026, 6, 15, 12), timezones=st.just(UTC)
)
orders = st.lists(
    st.tuples(st.sampled_from(ORDER_STATUSES), st.integers(0, 10**9), placed), max_size=30
)
spends = st.lists(st.integers(0, 10**6) | st.just(0), min_size=1, max_size=60)
percentiles = st.integers(1, 100)


def _figures(rows: list[tuple[str, int, datetime]]) -> value.CustomerFigures:
    return value.summarise(value.month_figures(rows, NOW))


@given(orders)
def test_figures_count_what_the_rules_say(rows: list[tuple[str, int, datetime]]) -> None:
    figures = _figures(rows)
    paid = [total for status, total, _at in rows if value.counts_as_spend(status)]
    assert figures.order_count == sum(1 for s, _t, _a in rows if s != "cancelled")
    assert sum(figures.spend_by_month.values()) == sum(paid)
    assert 0 <= figures.spend_12m_minor <= sum(paid)
    assert figures.quarters <= figures.order_count
    if paid:
        assert min(paid) <= figures.average_order_minor <= max(paid)
        assert abs(figures.average_order_minor * len(paid) - sum(paid)) * 2 <= len(paid)
    else:
        assert figures.average_order_minor == 0


@given(orders, st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_the_order_of_the_orders(rows, random) -> None:
    shuffled = list(rows)
    random.shuffle(shuffled)
    assert _figures(shuffled) == _figures(rows)


@given(orders, st.integers(0, 10**9), st.integers(1, 400))
def test_an_order_older_than_a_year_adds_nothing_to_the_12_month_spend(
    rows, total: int, days: int
) -> None:
    old = (NOW - timedelta(days=365 + days)).replace(microsecond=0)
    with_old = _figures([*rows, ("paid", total, old)])
    assert with_old.spend_12m_minor == _figures(rows).spend_12m_minor
    assert (
        sum(with_old.spend_by_month.values()) == sum(_figures(rows).spend_by_month.values()) + total
    )


@given(spends, percentiles)
def test_golden_is_the_top_percentile_by_12_month_spend(all_spends: list[int], pct: int) -> None:
    threshold = value.golden_threshold(all_spends, pct)
    golden = [spend for spend in all_spends if value.is_golden(spend, threshold)]
    places = math.ceil(len(all_spends) * pct / 100)
    positive = [spend for spend in all_spends if spend > 0]
    assert all(spend > 0 for spend in golden)
    # Enough golden customers (ties with the last place included), but nobody below them.
    assert len(golden) >= min(places, len(positive))
    assert sum(1 for spend in all_spends if threshold is not None and spend > threshold) < places
    if golden:
        assert all(value.is_golden(spend, threshold) for spend in positive if spend >= min(golden))


@given(spends, percentiles, st.randoms(use_true_random=False))
def test_the_golden_threshold_does_not_depend_on_the_order(all_spends, pct: int, random) -> None:
    shuffled = list(all_spends)
    random.shuffle(shuffled)
    assert value.golden_threshold(shuffled, pct) == value.golden_threshold(all_spends, pct)


@given(spends, percentiles, percentiles)
def test_a_bigger_percentile_never_makes_fewer_golden(all_spends, a: int, b: int) -> None:
    low, high = sorted((a, b))

    def count(pct: int) -> int:
        threshold = value.golden_threshold(all_spends, pct)
        return sum(1 for spend in all_spends if value.is_golden(spend, threshold))

    assert count(low) <= count(high)


@given(st.integers(0, 10), st.none() | placed, st.integers(1, 720), st.integers(0, 800))
def test_lapsed_needs_two_orders_and_stays_lapsed_as_time_passes(
    count: int, last: datetime | None, days: int, later: int
) -> None:
    lapsed = value.is_lapsed(count, last, NOW, days)
    if count < 2 or last is None:
        assert not lapsed
        return
    assert lapsed == (NOW - last > timedelta(days=days))
    if lapsed:
        assert value.is_lapsed(count, last, NOW + timedelta(days=later), days)
    assert not value.is_lapsed(count, last, last + timedelta(days=days), days)  # the boundary
    since = value.lapsed_since(last, days)
    assert since is not None and lapsed == (since < NOW)


flags = st.fixed_dictionaries(
    {
        "order_count": st.integers(0, 50),
        "quarters": st.integers(0, 20),
        "golden": st.booleans(),
        "lapsed": st.booleans(),
        "closed": st.booleans(),
    }
)


@given(flags)
def test_the_stage_follows_its_precedence(f: dict) -> None:
    assume(f["quarters"] <= f["order_count"])
    stage = value.relationship_stage(**f)
    if f["lapsed"] or f["closed"]:
        assert stage == "dissolution"
    elif f["golden"] or f["quarters"] >= 3:
        assert stage == "commitment"
    else:
        expected = ("exploration", "awareness")[f["order_count"]] if f["order_count"] < 2 else None
        assert stage == (expected or "expansion")


@given(flags, st.integers(0, 10), st.integers(0, 5))
def test_more_orders_never_move_a_customer_back(f: dict, more: int, quarters: int) -> None:
    f["lapsed"] = f["closed"] = False
    grown = dict(f, order_count=f["order_count"] + more, quarters=f["quarters"] + quarters)
    before = STAGES.index(value.relationship_stage(**f))
    assert STAGES.index(value.relationship_stage(**grown)) >= before
