"""The customer's order pages: list, filter, pages, detail, ownership, home block."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.core.db import utcnow
from tests.conftest import login


def test_list_newest_first_with_filter(client, make_user, make_order):
    me = make_user("buyer@example.com")
    now = utcnow()
    make_order(me, number="OLD-1", status="delivered", placed_at=now - timedelta(days=30))
    make_order(me, number="NEW-1", status="shipped", placed_at=now - timedelta(days=1))
    make_order(me, number="MID-1", status="cancelled", placed_at=now - timedelta(days=10))
    login(client, "buyer@example.com")
    page = client.get("/orders")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert body.index("NEW-1") < body.index("MID-1") < body.index("OLD-1")
    shipped = client.get("/orders?status=shipped").get_data(as_text=True)
    assert "NEW-1" in shipped and "OLD-1" not in shipped and "MID-1" not in shipped
    assert client.get("/orders?status=lost").status_code == 400


def test_pages_follow_each_other(client, make_user, make_order):
    me = make_user("many@example.com")
    start = utcnow() - timedelta(days=100)
    for day in range(25):
        make_order(me, number=f"P-{day:03d}", placed_at=start + timedelta(days=day))
    login(client, "many@example.com")
    first = client.get("/orders").get_data(as_text=True)
    numbers = re.findall(r">(P-\d{3})</a>", first)
    assert numbers == [f"P-{day:03d}" for day in range(24, 4, -1)]
    after = re.search(r'href="(/orders\?after=[^"]+)"', first)
    assert after
    second = client.get(after.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r">(P-\d{3})</a>", second) == [f"P-{day:03d}" for day in range(4, -1, -1)]
    assert "Older orders" not in second
    assert client.get("/orders?after=garbage").status_code == 200


def test_list_query_count_does_not_grow(client, make_user, make_order, count_queries):
    me = make_user("counter@example.com")
    make_order(me, items=3)
    login(client, "counter@example.com")
    client.get("/orders")
    with count_queries() as few:
        assert client.get("/orders").status_code == 200
    for _ in range(15):
        make_order(me, items=3, status="shipped")
    with count_queries() as many:
        assert client.get("/orders").status_code == 200
    assert len(many) == len(few)
    # The user, the orders with their items' names and count, the unread notifications.
    assert len(many) <= 3, many


def test_detail_shows_items_amounts_tracking_and_timeline(client, make_user, make_order, app):
    me = make_user("detail@example.com", locale="lv", timezone="Europe/Riga")
    number = make_order(me, number="SO-77", status="delivered", total_minor=123_456, items=2)
    with app.app_context():
        from sqlalchemy import select

        from portal.extensions import db
        from portal.orders.models import Order

        order = db.session.scalar(select(Order).where(Order.number == number))
        order.carrier, order.tracking_number = "DPD", "TRACK123"
        db.session.commit()
    login(client, "detail@example.com")
    body = client.get("/orders/SO-77").get_data(as_text=True)
    assert "Thing 0" in body and "Thing 1" in body
    assert "1\xa0234,56\xa0€" in body  # the Latvian way of writing euros
    assert "DPD" in body and "TRACK123" in body
    assert body.count('<time datetime="') == 5  # placed, paid, processing, shipped, delivered
    assert 'href="/feedback/new?order=SO-77"' in body


def test_another_customers_order_is_a_404(client, make_user, make_order):
    owner = make_user("owner@example.com")
    make_order(owner, number="MINE-1")
    make_user("nosy@example.com")
    login(client, "nosy@example.com")
    assert client.get("/orders/MINE-1").status_code == 404
    assert client.get("/orders/NOPE").status_code == 404
    assert "MINE-1" not in client.get("/orders").get_data(as_text=True)


def test_orders_need_sign_in(client):
    response = client.get("/orders")
    assert response.status_code in (302, 401)


def test_home_block_and_nav(client, make_user, make_order):
    me = make_user("home@example.com")
    make_order(me, number="FLY-1", status="shipped")
    make_order(me, number="DONE-1", status="delivered")
    login(client, "home@example.com")
    body = client.get("/").get_data(as_text=True)
    assert "Orders on their way" in body
    assert "FLY-1" in body and "DONE-1" not in body
    assert 'href="/orders"' in body


def test_orders_are_in_the_data_export(app, make_user, make_order):
    from portal.accounts.models import User
    from portal.accounts.services import export_personal_data
    from portal.extensions import db

    me = make_user("export@example.com")
    make_order(me, number="EXP-1", status="shipped", items=2)
    with app.app_context():
        data = export_personal_data(db.session.get(User, me))
    (order,) = data["orders"]
    assert order["number"] == "EXP-1" and len(order["items"]) == 2
    assert [e["status"] for e in order["events"]] == ["placed", "paid", "processing", "shipped"]


def test_account_deletion_keeps_orders_without_personal_details(app, make_user, make_order):
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.accounts.services import delete_account
    from portal.extensions import db
    from portal.orders.models import Order

    me = make_user("leaving@example.com")
    number = make_order(me, number="DEL-1", status="shipped")
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        order.tracking_number = "TR-PRIVATE"
        order.events[-1].note = "Left with the neighbour at number 12"
        db.session.commit()
        delete_account(db.session.get(User, me))
        db.session.commit()
        db.session.expire_all()
        order = db.session.scalar(select(Order).where(Order.number == number))
        assert order.total_minor == 1000 and order.tracking_number is None
        assert all(event.note is None for event in order.events)


def test_list_rows_show_each_orders_own_cells_escaped(app, client, make_user, make_order):
    """The list's cells are worked out in the view: each row keeps its own order's link,
    items (first two, in the order's order, then how many more), status label and total,
    escaped; nothing of another customer's orders."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.orders.models import Order

    me = make_user("rows@example.com")
    other = make_user("other-rows@example.com")
    now = utcnow()
    odd = "A B?#&ü"  # a space, query and fragment marks, an ampersand, a non-ASCII letter
    make_order(me, number=odd, status="shipped", items=4, placed_at=now - timedelta(days=1))
    make_order(me, number="TWO-1", status="cancelled", items=2, placed_at=now - timedelta(days=2))
    make_order(
        me,
        number="ONE-1",
        status="delivered",
        items=1,
        total_minor=123_456,
        placed_at=now - timedelta(days=3),
    )
    make_order(other, number="THEIRS-1", items=3)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == odd))
        order.items[0].name = "<b>Bold</b> & co"
        db.session.commit()
    login(client, "rows@example.com")
    body = client.get("/orders").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", body, re.S)
    assert len(rows) == 3, rows
    first, second, third = rows
    with app.test_request_context():
        from flask import url_for

        link = url_for("orders.order_detail", number=odd)
    assert link == "/orders/A%20B%3F%23&%C3%BC"
    assert 'href="/orders/A%20B%3F%23&amp;%C3%BC">A B?#&amp;ü</a>' in first
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co, Thing 1 and 2 more items</td>" in first
    assert "<b>Bold</b>" not in body
    assert 'order-status-shipped">Shipped</span>' in first
    assert 'href="/orders/TWO-1">TWO-1</a>' in second
    assert "<td>Thing 0, Thing 1</td>" in second  # exactly two: no "more"
    assert 'order-status-cancelled">Cancelled</span>' in second
    assert "<td>Thing 0</td>" in third and "€1,234.56" in third
    assert "THEIRS-1" not in body
    assert "A B?#&amp;ü" in client.get(link).get_data(as_text=True)  # the link leads there


def test_list_rows_follow_the_viewers_language(client, make_user, make_order):
    me = make_user("latvian@example.com", locale="lv", timezone="Europe/Riga")
    make_order(me, number="LV-1", status="shipped", total_minor=123_456, items=3)
    login(client, "latvian@example.com")
    body = client.get("/orders").get_data(as_text=True)
    assert "1\xa0234,56\xa0€" in body
    assert "Shipped<" not in body and 'order-status-shipped">Shipped' not in body


def _chosen(body: str) -> list[str]:
    """The values of the status filter's selected options."""
    select = re.search(r'<select[^>]*name="status"[^>]*>(.*?)</select>', body, re.S)
    assert select, "no status filter on the page"
    options = re.findall(r"<option ([^>]*)>", select.group(1))
    return [
        re.sub(r'.*value="([^"]*)".*', r"\1", option) for option in options if "selected" in option
    ]


def test_the_filter_shows_each_request_its_own_choice(client, make_user, make_order):
    me = make_user("chooser@example.com")
    make_order(me, status="shipped")
    login(client, "chooser@example.com")
    for _ in range(2):  # the second time from the kept fragments
        assert _chosen(client.get("/orders?status=shipped").get_data(as_text=True)) == ["shipped"]
        assert _chosen(client.get("/orders?status=delivered").get_data(as_text=True)) == [
            "delivered"
        ]
        refused = client.get("/orders?status=lost")
        body = refused.get_data(as_text=True)
        assert refused.status_code == 400
        assert 'aria-invalid="true"' in body and 'id="status-error"' in body
        assert _chosen(body) == []
        plain = client.get("/orders").get_data(as_text=True)
        assert _chosen(plain) == [""] and 'id="status-error"' not in plain
