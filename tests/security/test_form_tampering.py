"""Forged form values that name other people's objects: ids in hidden fields and select boxes."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from tests.security.conftest import World, row_count, token_in


def test_bulk_assign_skips_items_of_other_departments(world: World) -> None:
    from portal.feedback.models import FeedbackItem

    with world.app.app_context():
        item_id = db.session.scalar(
            select(FeedbackItem.id).where(FeedbackItem.reference == world.feedback_ref)
        )
    client = world.client("agent_billing")
    token = token_in(client.get("/staff/feedback").get_data(as_text=True))
    response = client.post(
        "/staff/feedback/bulk-assign",
        data={
            "csrf_token": token,
            "items": [str(item_id)],
            "assignee": world.users["agent_billing"],
        },
    )
    assert response.status_code in (302, 400)
    with world.app.app_context():
        assert db.session.get(FeedbackItem, item_id).assignee_id is None


def test_customer_cannot_post_into_a_staff_only_category(world: World) -> None:
    from portal.community.models import Category, Topic

    with world.app.app_context():
        staff_room = db.session.scalar(select(Category.id).where(Category.slug == "staff-room"))
        topics = db.session.scalar(select(func.count()).select_from(Topic))
    client = world.client("owner")
    token = token_in(client.get("/community/new").get_data(as_text=True))
    response = client.post(
        "/community/new",
        data={
            "csrf_token": token,
            "category": staff_room,
            "title": "Sneaking into the staff room",
            "body": "Hello staff, I am not one of you.",
        },
    )
    assert response.status_code in (400, 403, 404, 422)
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Topic)) == topics


def test_feedback_cannot_name_another_customers_order(world: World) -> None:
    client = world.client("customer_b")
    token = token_in(client.get("/feedback/new").get_data(as_text=True))
    before = row_count(world.app)
    response = client.post(
        "/feedback/new",
        data={
            "csrf_token": token,
            "kind": "complaint",
            "subject": "Where is it",
            "message": "Order of someone else",
            "order": world.order_number,
        },
    )
    assert response.status_code == 422
    assert row_count(world.app) == before


def test_touchpoint_for_an_unknown_customer_is_a_404(world: World) -> None:
    client = world.client("agent_delivery")
    token = token_in(client.get("/staff/customers").get_data(as_text=True))
    response = client.post(
        "/staff/customers/999999/touchpoints", data={"csrf_token": token, "note": "x"}
    )
    assert response.status_code == 404


def test_staff_member_is_not_a_customer_in_the_360(world: World) -> None:
    response = world.client("agent_delivery").get(f"/staff/customers/{world.users['admin']}")
    assert response.status_code == 404
