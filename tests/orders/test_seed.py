"""Demo order histories and the scale generator."""

from __future__ import annotations

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
