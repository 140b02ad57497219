"""Customer value: the rules at their edges, and the stored figures by hand calculation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import CustomerValue, User
from portal.extensions import db
from portal.orders import value as rules
from portal.orders.recompute import customer_segments, recompute_customer_values

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def figures(*orders, now=NOW, **kwargs):
    return rules.summarise(rules.month_figures(orders, now, **kwargs))


# --- Pure rules ----------------------------------------------------------------------------


def test_spend_counts_paid_orders_less_refunds_and_cancellations():
    f = figures(
        ("paid", 1000, NOW - timedelta(days=1)),
        ("processing", 200, NOW - timedelta(days=1)),
        ("shipped", 30, NOW - timedelta(days=1)),
        ("delivered", 4, NOW - timedelta(days=1)),
        ("placed", 50_000, NOW - timedelta(days=1)),
        ("cancelled", 60_000, NOW - timedelta(days=1)),
        ("returned", 70_000, NOW - timedelta(days=1)),
        ("refunded", 80_000, NOW - timedelta(days=1)),
    )
    assert f.spend_12m_minor == 1234
    # Cancelled orders are not orders; returned and refunded ones were.
    assert f.order_count == 7
    assert f.average_order_minor == 309  # 308.5 rounded half up


def test_twelve_month_window_edges():
    inside = figures(("delivered", 100, NOW - timedelta(days=365)))
    outside = figures(("delivered", 100, NOW - timedelta(days=365, seconds=1)))
    assert inside.spend_12m_minor == 100
    assert outside.spend_12m_minor == 0
    assert outside.spend_by_month == {"2025-11": 100}  # still in the monthly history


def test_spend_by_month_and_first_last():
    f = figures(
        ("delivered", 100, datetime(2026, 3, 31, 23, 59, tzinfo=UTC)),
        ("delivered", 50, datetime(2026, 4, 1, 0, 0, tzinfo=UTC)),
        ("paid", 25, datetime(2026, 4, 15, tzinfo=UTC)),
        ("cancelled", 999, datetime(2026, 5, 1, tzinfo=UTC)),
    )
    assert f.spend_by_month == {"2026-03": 100, "2026-04": 75}
    assert f.first_order_at == datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
    # A cancelled order is neither the first nor the last order.
    assert f.last_order_at == datetime(2026, 4, 15, tzinfo=UTC)
    assert f.quarters == 2


def test_other_currencies_are_not_summed():
    f = figures(("delivered", 100, NOW), currency="EUR", order_currency="PLN")
    assert f.spend_12m_minor == 0 and f.order_count == 1


def test_no_orders():
    f = figures()
    assert (f.spend_12m_minor, f.order_count, f.average_order_minor) == (0, 0, 0)
    assert f.first_order_at is None and f.last_order_at is None and f.quarters == 0


@pytest.mark.parametrize(
    ("spend", "orders", "expected"), [(0, 0, 0), (10, 3, 3), (11, 2, 6), (5, 2, 3), (1, 3, 0)]
)
def test_average_order_rounds_half_up(spend, orders, expected):
    assert rules.average_order(spend, orders) == expected


def test_quarter_of():
    assert [rules.quarter_of(m) for m in ("2026-01", "2026-03", "2026-04", "2026-12")] == [
        "2026-Q1",
        "2026-Q1",
        "2026-Q2",
        "2026-Q4",
    ]


@pytest.mark.parametrize(
    ("spends", "percentile", "threshold"),
    [
        ([], 10, None),
        ([0, 0, 0], 10, None),
        (list(range(1, 11)), 10, 10),  # 10 customers: the top 1
        (list(range(1, 12)), 10, 10),  # 11 customers: 1.1 rounds up to 2
        (list(range(1, 21)), 10, 19),  # 20 customers: the top 2
        ([500, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 20, 500),  # fewer spenders than places
        (list(range(1, 11)), 0, None),
        (list(range(1, 11)), 100, 1),
    ],
)
def test_golden_threshold(spends, percentile, threshold):
    assert rules.golden_threshold(spends, percentile) == threshold


def test_golden_ties_and_zero():
    threshold = rules.golden_threshold([100, 100, 100, 5, 5, 5, 5, 5, 5, 5], 10)
    assert threshold == 100
    assert rules.is_golden(100, threshold)  # all three tied at the top
    assert not rules.is_golden(99, threshold)
    assert not rules.is_golden(0, 0)
    assert not rules.is_golden(100, None)


def test_lapsed_edges():
    days = 180
    exactly = NOW - timedelta(days=days)
    assert not rules.is_lapsed(2, exactly, NOW, days)
    assert rules.is_lapsed(2, exactly - timedelta(seconds=1), NOW, days)
    assert not rules.is_lapsed(1, exactly - timedelta(days=100), NOW, days)  # one order only
    assert not rules.is_lapsed(0, None, NOW, days)
    assert rules.lapsed_since(exactly, days) == NOW


@pytest.mark.parametrize(
    ("kwargs", "stage"),
    [
        ({"order_count": 0, "quarters": 0}, "exploration"),
        ({"order_count": 1, "quarters": 1}, "awareness"),
        ({"order_count": 2, "quarters": 2}, "expansion"),
        ({"order_count": 3, "quarters": 3}, "commitment"),
        ({"order_count": 1, "quarters": 1, "golden": True}, "commitment"),
        ({"order_count": 9, "quarters": 5, "golden": True, "lapsed": True}, "dissolution"),
        ({"order_count": 0, "quarters": 0, "closed": True}, "dissolution"),
    ],
)
def test_relationship_stage(kwargs, stage):
    arguments = {"golden": False, "lapsed": False, "closed": False, **kwargs}
    assert rules.relationship_stage(**arguments) == stage


def test_spend_per_month_fills_gaps():
    series = rules.spend_per_month({"2026-11": 5, "2026-01": 7, "2025-11": 9}, NOW)
    assert len(series) == 12
    assert series[0] == ("2025-12", 0)
    assert series[1] == ("2026-01", 7)
    assert series[-1] == ("2026-11", 5)


# --- Stored figures, by hand -----------------------------------------------------------------


def at(*parts):
    return datetime(*parts, tzinfo=UTC)


def test_recompute_matches_a_hand_calculation(app, make_user, make_order):
    ids = {name: make_user(f"{name}@value.example") for name in "abcdefghij"}
    a, b, c, e, f, g, h = (ids[k] for k in "abcefgh")
    make_order(a, status="delivered", placed_at=at(2026, 10, 5), total_minor=12_000)
    make_order(a, status="paid", placed_at=at(2026, 10, 20), total_minor=3_000)
    make_order(a, status="refunded", placed_at=at(2026, 3, 10), total_minor=5_000)
    make_order(a, status="cancelled", placed_at=at(2025, 12, 1), total_minor=9_999)
    make_order(a, status="delivered", placed_at=at(2025, 6, 1), total_minor=4_000)
    make_order(b, status="delivered", placed_at=at(2026, 1, 15), total_minor=8_000)
    make_order(b, status="delivered", placed_at=at(2026, 2, 1), total_minor=2_000)
    make_order(c, status="placed", placed_at=at(2026, 11, 20), total_minor=5_000)
    make_order(e, status="delivered", placed_at=NOW - timedelta(days=365), total_minor=7_000)
    make_order(f, status="delivered", placed_at=at(2026, 11, 1), total_minor=50_000, currency="PLN")
    make_order(g, status="delivered", placed_at=at(2026, 11, 1), total_minor=1_000)
    make_order(g, status="delivered", placed_at=at(2026, 11, 2), total_minor=1_000)
    make_order(h, status="delivered", placed_at=at(2026, 1, 1), total_minor=500)
    make_order(h, status="delivered", placed_at=NOW - timedelta(days=180), total_minor=500)
    with app.app_context():
        db.session.get(User, g).deleted_at = NOW - timedelta(days=1)
        app.config.update(GOLDEN_PERCENTILE=10, LAPSED_DAYS=180)
        assert recompute_customer_values(NOW) == 10
        db.session.commit()
        values = {
            v.user.email[0]: v
            for v in db.session.scalars(select(CustomerValue).join(CustomerValue.user))
        }
    va = values["a"]
    assert va.spend_12m_minor == 12_000 + 3_000
    assert va.spend_by_month == {"2025-06": 4_000, "2026-10": 15_000}
    assert va.order_count == 4
    assert va.average_order_minor == 6_333  # 19,000 over 3 paid orders
    assert va.first_order_at == at(2025, 6, 1)
    assert va.last_order_at == at(2026, 10, 20)
    assert (va.is_golden, va.is_lapsed, va.stage) == (True, False, "commitment")

    vb = values["b"]
    assert (vb.spend_12m_minor, vb.order_count, vb.average_order_minor) == (10_000, 2, 5_000)
    assert (vb.is_golden, vb.is_lapsed, vb.stage) == (False, True, "dissolution")
    assert vb.lapsed_at == at(2026, 2, 1) + timedelta(days=180)

    vc = values["c"]
    assert (vc.spend_12m_minor, vc.order_count, vc.stage) == (0, 1, "awareness")
    assert values["d"].stage == "exploration" and values["d"].order_count == 0
    assert values["e"].spend_12m_minor == 7_000  # exactly 365 days ago is inside the window
    assert (values["f"].spend_12m_minor, values["f"].order_count) == (0, 1)  # PLN
    vg = values["g"]
    assert (vg.spend_12m_minor, vg.is_golden, vg.stage) == (2_000, False, "dissolution")
    vh = values["h"]
    assert (vh.is_lapsed, vh.stage) == (False, "expansion")  # last order exactly 180 days ago
    assert sum(v.is_golden for v in values.values()) == 1


def test_recompute_twice_keeps_one_row_each(app, make_user, make_order):
    user = make_user()
    make_order(user, status="delivered", total_minor=100)
    with app.app_context():
        recompute_customer_values()
        recompute_customer_values()
        rows = db.session.scalars(select(CustomerValue).where(CustomerValue.user_id == user)).all()
        assert len(rows) == 1 and rows[0].spend_12m_minor == 100


def test_customer_segments(app, make_user, make_order):
    golden = make_user()
    for _ in range(2):
        make_order(golden, status="delivered", placed_at=NOW - timedelta(days=400), total_minor=10)
    make_order(golden, status="delivered", placed_at=NOW - timedelta(days=10), total_minor=90_000)
    lapsed = make_user()
    for days in (300, 200):
        make_order(lapsed, status="delivered", placed_at=NOW - timedelta(days=days))
    with app.app_context():
        for user_id in (golden, lapsed):
            db.session.get(User, user_id).joined_at = NOW - timedelta(days=500)
        newcomer = make_user()
        recompute_customer_values(NOW)
        assert customer_segments(golden, now=NOW) == {"golden"}
        assert customer_segments(lapsed, now=NOW) == {"lapsed"}
        assert customer_segments(newcomer, now=NOW) == {"new"}
        assert customer_segments(999_999) == set()


def test_recompute_is_registered_nightly(app):
    from portal.jobs.schedule import PERIODIC_TASKS

    task = PERIODIC_TASKS["customer_value.recompute"]
    assert task.cron == "30 2 * * *"


def test_badges_macro(app):
    from types import SimpleNamespace

    with app.test_request_context():
        macros = app.jinja_env.get_template("macros/customer.html").module
        golden = SimpleNamespace(is_golden=True, is_lapsed=False, stage="commitment")
        html = str(macros.value_badges(golden))
        assert "Golden" in html and "Committed" in html and "Lapsed" not in html
        lapsed = SimpleNamespace(is_golden=False, is_lapsed=True, stage="dissolution")
        assert "Lapsed" in str(macros.value_badges(lapsed, with_stage=False))
        assert str(macros.value_badges(None)).strip() == ""
        assert "New" in str(macros.segment_badges({"new"}))
