"""Dashboard and customer 360: access, content, audit, touchpoints, exports."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from portal.accounts.models import CustomerValue, Touchpoint, User
from portal.core.audit import AuditEntry
from portal.core.csvexport import safe_cell
from portal.extensions import db
from portal.orders.models import Order
from tests.conftest import csrf_from
from tests.staff.conftest import count_queries


def _customer(app, make_user, email="cust360@example.com", number="A-1001", **profile):
    user_id = make_user(email, name="Carla Customer", **profile)
    with app.app_context():
        db.session.add(
            CustomerValue(
                user_id=user_id,
                spend_12m_minor=123_45,
                order_count=3,
                average_order_minor=41_15,
                is_golden=True,
                stage="commitment",
                spend_by_month={"2026-10": 50_00},
            )
        )
        db.session.add(
            Order(
                number=number,
                user_id=user_id,
                status="delivered",
                total_minor=50_00,
                placed_at=datetime(2026, 10, 3, tzinfo=UTC),
            )
        )
        db.session.commit()
    return user_id


def test_customers_cannot_reach_staff_pages(logged_in):
    client = logged_in("plain@example.com")
    for path in ("/staff/", "/staff/customers", "/staff/customers/1"):
        assert client.get(path).status_code == 403, path


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/staff/customers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_moderators_are_sent_to_moderation(logged_in):
    client = logged_in("mod@example.com", roles=("moderator",))
    assert client.get("/staff/customers").status_code == 403
    assert "/staff/moderation" in client.get("/staff/").headers["Location"]


def test_agent_sees_customer_360_and_the_view_is_audited(app, make_user, logged_in):
    user_id = _customer(app, make_user, why_chose_us="Friendly people", acquisition_source="friend")
    client = logged_in("agent360@example.com", roles=("agent",), departments=("delivery",))
    page = client.get(f"/staff/customers/{user_id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Carla Customer" in body and "Golden" in body and "Friendly people" in body
    assert "A-1001" in body and "Commitment" in body
    assert "<svg" in body and "<title" in body  # spend chart with a text alternative
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.view")
        ).all()
        assert [(e.object_id, e.actor.email) for e in entries] == [
            (str(user_id), "agent360@example.com")
        ]


def test_unknown_or_staff_id_is_404(app, make_user, logged_in):
    staff_id = make_user("colleague@example.com", roles=("agent",))
    client = logged_in("agent404@example.com", roles=("agent",))
    assert client.get("/staff/customers/999999").status_code == 404
    assert client.get(f"/staff/customers/{staff_id}").status_code == 404


def test_search_by_name_email_and_order_number(app, make_user, logged_in):
    _customer(app, make_user)
    make_user("someone.else@example.com", name="Other Person")
    client = logged_in("searcher@example.com", roles=("manager",))
    for query in ("carla", "cust360@", "A-1001"):
        body = client.get(f"/staff/customers?q={query}").get_data(as_text=True)
        assert "Carla Customer" in body, query
        assert "Other Person" not in body, query


def test_log_touchpoint_and_coupon(app, make_user, logged_in):
    user_id = _customer(app, make_user)
    client = logged_in("thanker@example.com", roles=("agent",))
    page = client.get(f"/staff/customers/{user_id}").get_data(as_text=True)
    bad = client.post(
        f"/staff/customers/{user_id}/touchpoints",
        data={"csrf_token": csrf_from(page), "kind": "coupon", "note": "kept text"},
    )
    assert bad.status_code == 422
    assert "Give the coupon code." in bad.get_data(as_text=True)
    assert "kept text" in bad.get_data(as_text=True)
    ok = client.post(
        f"/staff/customers/{user_id}/touchpoints",
        data={
            "csrf_token": csrf_from(page),
            "kind": "coupon",
            "coupon_code": "thanks-10",
            "note": "Sorry for the delay",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        touchpoint = db.session.scalar(select(Touchpoint).where(Touchpoint.user_id == user_id))
        assert (
            touchpoint.coupon_code == "THANKS-10"
            and touchpoint.created_by.email == "thanker@example.com"
        )
    assert "THANKS-10" in client.get(f"/staff/customers/{user_id}").get_data(as_text=True)


def _refresh(app):
    """What the periodic job does: today's rollups and the customer snapshot."""
    from portal.staff.rollups import refresh_recent

    with app.app_context():
        refresh_recent()
        db.session.commit()


def test_dashboard_shows_customer_figures(app, make_user, logged_in):
    friend_id = _customer(app, make_user, acquisition_source="friend")
    make_user("brought1@example.com", referred_by_id=friend_id, acquisition_source="friend")
    make_user("brought2@example.com", referred_by_id=friend_id, acquisition_source="social")
    client = logged_in("boss@example.com", roles=("manager",))
    _refresh(app)
    body = client.get("/staff/?days=7").get_data(as_text=True)
    assert "Golden customers" in body and "Where new customers came from" in body
    assert "A friend" in body and "Social media" in body
    assert "Carla Customer" in body  # brought two new customers
    export = client.get("/staff/export/customers.csv?days=7").get_data(as_text=True)
    assert "golden,1" in export.replace("\r", "")
    assert "new in period,3" in export.replace("\r", "")


def test_dashboard_reads_customer_figures_from_the_snapshot(app, make_user, logged_in):
    """Until the job runs again the dashboard shows the last snapshot, not a live scan: the
    number of customers does not change what a view costs."""
    client = logged_in("snap@example.com", roles=("manager",))
    _customer(app, make_user, "first@example.com", number="S-1", acquisition_source="press")
    _refresh(app)
    with count_queries(app) as few:
        client.get("/staff/?days=30")
    for n in range(15):
        _customer(app, make_user, f"more{n}@example.com", number=f"S-{n + 2}")
    with count_queries(app) as many:
        body = client.get("/staff/export/customers.csv?days=30").get_data(as_text=True)
    assert "golden,1" in body.replace("\r", "")  # the snapshot, not yet refreshed
    _refresh(app)
    with count_queries(app) as refreshed:
        client.get("/staff/?days=30")
    body = client.get("/staff/export/customers.csv?days=30").get_data(as_text=True)
    assert "golden,16" in body.replace("\r", "")
    assert few.count == refreshed.count
    assert many.count <= few.count


def test_exports_are_csv_and_neutralise_formulas(app, make_user, logged_in):
    make_user("formula@example.com", name="=HYPERLINK(1)", acquisition_source="other")
    client = logged_in("exporter@example.com", roles=("manager",))
    response = client.get("/staff/export/acquisition.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("-2") == "'-2" and safe_cell("ok") == "ok"
    assert client.get("/staff/export/nonsense.csv").status_code == 404


def test_customer_list_query_count_is_fixed(app, make_user, logged_in):
    from tests.staff.conftest import count_queries

    client = logged_in("counter@example.com", roles=("manager",))
    _customer(app, make_user, email="first@example.com", number="F-1")
    client.get("/staff/customers")
    with count_queries(app) as few:
        client.get("/staff/customers")
    for index in range(8):
        _customer(app, make_user, email=f"many{index}@example.com", number=f"M-{index}")
    with count_queries(app) as many:
        client.get("/staff/customers")
    assert many.count == few.count
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) >= 9


def test_audit_log_is_for_admins_and_searchable(app, make_user):
    from tests.conftest import login

    user_id = _customer(app, make_user, email="audited@example.com", number="AU-1")
    make_user("viewer@example.com", roles=("manager",))
    make_user("auditor@example.com", roles=("admin",))
    with app.app_context():
        from portal.accounts.models import User as U

        admin = db.session.scalar(select(U).where(U.email == "auditor@example.com"))
        admin.tf_primary_method = "authenticator"  # admins need two-factor to get in
        db.session.commit()
    viewer = app.test_client()
    login(viewer, "viewer@example.com")
    viewer.get(f"/staff/customers/{user_id}")
    assert viewer.get("/staff/audit").status_code == 403
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == str(user_id)))
        assert entry is not None and entry.actor.email == "viewer@example.com"


def test_customer_360_query_count_does_not_grow_with_the_customers_history(
    app, make_user, logged_in
):
    user_id = _customer(app, make_user, "history@example.com", number="H-0")
    client = logged_in("historian@example.com", roles=("manager",))
    with count_queries(app) as few:
        assert client.get(f"/staff/customers/{user_id}").status_code == 200
    for n in range(1, 8):
        make_user(f"friend{n}@example.com", referred_by_id=user_id)
        with app.app_context():
            db.session.add(
                Order(
                    number=f"H-{n}",
                    user_id=user_id,
                    status="delivered",
                    total_minor=10_00,
                    placed_at=datetime(2026, 9, n, tzinfo=UTC),
                )
            )
            db.session.add(Touchpoint(user_id=user_id, kind="call", note=f"call {n}"))
            db.session.commit()
    with count_queries(app) as many:
        body = client.get(f"/staff/customers/{user_id}").get_data(as_text=True)
    assert "H-7" in body and "call 7" in body
    assert many.count == few.count


def test_demo_data_fills_every_customer_block_and_tells_the_stories(app, client):
    from portal.core.demo import DEMO_PASSWORD, load_demo_data
    from tests.conftest import login

    with app.app_context():
        assert load_demo_data()
        db.session.commit()
        anna = db.session.scalar(select(User).where(User.email == "anna@example.com"))
        olga = db.session.scalar(select(User).where(User.email == "olga@example.com"))
        anna_id, olga_id = anna.id, olga.id
    assert login(client, "manager@example.com", DEMO_PASSWORD).status_code == 302
    body = client.get("/staff/").get_data(as_text=True)
    assert "No referrals in this period." not in body
    assert "A friend" in body and "Search engine" in body
    figures = client.get("/staff/export/customers.csv").get_data(as_text=True)
    new_in_period = int(figures.split("new in period,")[1].split()[0])
    assert new_in_period >= 5
    leaders = client.get("/staff/export/referrals.csv").get_data(as_text=True)
    assert f",{anna_id},2" in leaders
    anna_page = client.get(f"/staff/customers/{anna_id}").get_data(as_text=True)
    assert "BDAY-5A7C21" in anna_page and "Marta Kalniņa" in anna_page
    assert "Nothing logged yet." not in anna_page
    assert "COMEBACK-15" in client.get(f"/staff/customers/{olga_id}").get_data(as_text=True)
