"""Demo order histories and the scale generator."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts.models import CustomerValue, User
from portal.extensions import db
from portal.orders.models import ORDER_STATUSES, Order, OrderEvent, OrderItem


def test_demo_histories(app, client):
    from portal.core.demo import load_demo_data

    with app.app_context():
        assert load_demo_data()
        db.session.commit()
        statuses = set(db.session.scalars(select(Order.status).distinct()))
        assert statuses == set(ORDER_STATUSES)
        rows = db.session.execute(
            select(User.email, CustomerValue).join(CustomerValue, CustomerValue.user_id == User.id)
        ).all()
        values = {row[0]: row[1] for row in rows}
        anna = values["anna@example.com"]
        assert anna.is_golden and anna.stage == "commitment"
        # By hand, from portal/orders/demo.py (prices in cents, free shipping from 50 EUR):
        # in the last 12 months she paid for the orders 300 days ago (jacket 12900),
        # 150 (headphones 14900 + 2 bottles 3980), 90 (backpack 8900 + knife 7900),
        # 40 (jacket 12900 + scarf 3900), 12 (2 games 6980 + 2 teas 4980) and 5 days ago
        # (dinner set 18900 + 2 mugs 2900); the headphones of 210 days ago were refunded.
        assert anna.spend_12m_minor == 12900 + 18880 + 16800 + 16800 + 11960 + 21800
        assert anna.order_count == 10
        # Before that: 4 mugs and a tea (8290), 2 scarves (7800), a lamp and 2 notebooks
        # (8070): 123,300 over 9 paid orders.
        assert anna.average_order_minor == 13700
        assert anna.spend_by_month[max(anna.spend_by_month)] > 0
        olga = values["olga@example.com"]
        # 3 orders (the cancelled-then-refunded one was an order), last one 260 days ago:
        # 3 teas (7470) in the window; lapsed 180 days after that order.
        assert (olga.order_count, olga.spend_12m_minor) == (3, 7470)
        assert olga.lapsed_at == olga.last_order_at + timedelta(days=180)
        assert sum(v.is_golden for v in values.values()) >= 2
        assert values["olga@example.com"].is_lapsed
        assert values["olga@example.com"].stage == "dissolution"
        assert values["li@example.com"].stage == "awareness"
        damaged = db.session.scalar(select(Order).where(Order.number == "SO-104211"))
        assert damaged.status == "delivered" and damaged.user.email == "anna@example.com"
        # Every demo customer has orders.
        for email in ("anna", "piotr", "olga", "li", "layla", "ben"):
            assert values[f"{email}@example.com"].order_count >= 1, email


def test_seed_scale_small_run(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["portal", "seed-scale", "--customers", "40", "--orders", "300", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output and "Recomputed value of 40 customers" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 300
        assert db.session.scalar(select(func.count(OrderItem.id))) >= 300
        assert db.session.scalar(select(func.count(OrderEvent.id))) >= 300
        assert db.session.scalar(select(func.count()).select_from(CustomerValue)) == 40
        golden = db.session.scalar(
            select(func.count()).select_from(CustomerValue).where(CustomerValue.is_golden)
        )
        assert golden == 4
        # The events agree with the status of each order.
        last_event = db.session.scalar(
            select(OrderEvent.status)
            .order_by(OrderEvent.occurred_at.desc(), OrderEvent.id.desc())
            .where(OrderEvent.order_id == select(func.min(Order.id)).scalar_subquery())
        )
        first = db.session.scalar(select(Order).order_by(Order.id))
        assert last_event == first.status
    # New rows after the explicit ids still get fresh ids (PostgreSQL sequences were moved on).
    recompute = runner.invoke(args=["portal", "recompute-value"])
    assert recompute.exit_code == 0 and "Recomputed 40 customers" in recompute.output


def test_ids_continue_after_seed_scale(app, make_user):
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["portal", "seed-scale", "--customers", "3", "--orders", "5"]).exit_code
        == 0
    )
    assert make_user("after-scale@example.com") > 0
