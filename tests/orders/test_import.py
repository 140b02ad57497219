"""`flask portal import-orders`: a good file imports; a bad file imports nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.orders.models import Order, OrderItem

HEADER = (
    "order_number,customer_email,customer_name,status,currency,placed_at,status_at,"
    "shipping_minor,tax_minor,total_minor,carrier,tracking_number,sku,item_name,quantity,"
    "unit_price_minor\n"
)
GOOD = HEADER + (
    "CSV-1,known@example.com,Known,delivered,EUR,2026-10-01T09:00:00Z,2026-10-03T12:00:00Z,"
    "490,0,,DPD,TR1,MUG-1,Mug,2,1450\n"
    "CSV-1,known@example.com,Known,delivered,EUR,2026-10-01T09:00:00Z,2026-10-03T12:00:00Z,"
    "490,0,,DPD,TR1,TEA-1,Tea,1,990\n"
    "CSV-2,fresh@example.com,Fresh Face,placed,EUR,2026-11-01T09:00:00,,0,0,1000,,,SCF-1,Scarf,1,1000\n"
)


def run(app, tmp_path, text):
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["portal", "import-orders", str(path)])


def order_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Order.id)))


def test_good_file_imports_with_a_report(app, tmp_path, make_user, mailbox):
    make_user("known@example.com")
    result = run(app, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert "Imported 2 orders: 2 new, 0 updated, 0 unchanged; 1 customers invited." in result.output
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == "CSV-1"))
        assert order.status == "delivered" and order.total_minor == 2 * 1450 + 990 + 490
        assert [i.sku for i in order.items] == ["MUG-1", "TEA-1"]
        assert order.carrier == "DPD" and len(order.events) == 1
        fresh = db.session.scalar(select(User).where(User.email == "fresh@example.com"))
        assert fresh is not None and fresh.confirmed_at is None
    # Running the same file again changes nothing.
    again = run(app, tmp_path, GOOD)
    assert "0 new, 0 updated, 2 unchanged" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(OrderItem.id))) == 3


def test_bad_rows_import_nothing_and_say_why(app, tmp_path):
    bad = GOOD + (
        "CSV-3,not-an-email,X,placed,EUR,2026-11-01T09:00:00Z,,0,0,,,,A,B,1,100\n"
        "CSV-4,x@example.com,X,lost,EUR,2026-11-01T09:00:00Z,,0,0,,,,A,B,1,100\n"
        "CSV-5,y@example.com,Y,placed,EUR,yesterday,,0,0,,,,A,B,0,100\n"
        "CSV-1,known@example.com,Known,shipped,EUR,2026-10-01T09:00:00Z,2026-10-03T12:00:00Z,"
        "490,0,,DPD,TR1,LMP-1,Lamp,1,5000\n"
    )
    result = run(app, tmp_path, bad)
    assert result.exit_code == 1
    output = result.output
    assert "4 rejected row(s); nothing was imported" in output
    assert "line 5 order CSV-3: customer_email" in output
    assert "line 6 order CSV-4: status: unknown status 'lost'" in output
    assert "line 7 order CSV-5: placed_at" in output
    assert "line 8 order CSV-1: differs from line 2 in status" in output
    assert order_count(app) == 0


def test_a_refused_status_change_rolls_back_the_whole_file(app, tmp_path, make_user):
    make_user("known@example.com")
    assert run(app, tmp_path, GOOD).exit_code == 0
    backwards = HEADER + (
        "CSV-9,known@example.com,Known,paid,EUR,2026-11-02T09:00:00Z,,0,0,,,,A,B,1,100\n"
        "CSV-1,known@example.com,Known,shipped,EUR,2026-10-01T09:00:00Z,,490,0,,DPD,TR1,MUG-1,Mug,2,1450\n"
    )
    result = run(app, tmp_path, backwards)
    assert result.exit_code == 1
    assert (
        "order CSV-1: status: An order cannot go back from “Delivered” to “Shipped”."
        in result.output
    )
    with app.app_context():
        assert db.session.scalar(select(Order).where(Order.number == "CSV-9")) is None
        assert db.session.scalar(select(Order.status).where(Order.number == "CSV-1")) == "delivered"


def test_missing_columns(app, tmp_path):
    result = run(app, tmp_path, "order_number,status\nX,placed\n")
    assert result.exit_code == 1
    assert "missing columns: customer_email, currency, placed_at" in result.output
