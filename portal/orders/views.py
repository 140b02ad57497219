"""The customer's orders: the list, one order, and the home page block."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from portal.core.auth import signed_in
from portal.core.formatting import ViewerFormats
from portal.core.i18n import resolved_labels
from portal.core.nav import url_maker
from portal.orders import services
from portal.orders.forms import OrderFilterForm
from portal.orders.models import Order

bp = Blueprint("orders", __name__)


def get_own_order_or_404(number: str) -> Order:
    order = services.get_customer_order(current_user.id, number)
    if order is None:
        abort(404)
    return order


@bp.route("/orders")
@signed_in
def order_list() -> tuple[str, int]:
    form = OrderFilterForm(request.args)
    valid = form.validate()
    status = form.status.data if valid else None
    page = services.customer_orders(
        current_user.id, status=status or None, after=request.args.get("after")
    )
    return render_template(
        "orders/list.html",
        form=form,
        page=page,
        rows=_list_rows(page.orders),
        status=status or "",
    ), (200 if valid else 400)


def _list_rows(orders: list[services.OrderRow]) -> list[tuple[Any, ...]]:
    """The table's cells, worked out once per page: labels in the viewer's language, the
    viewer's date and money formats, each order's link. The template escapes them."""
    labels = resolved_labels(services.STATUS_LABELS)
    formats = ViewerFormats()
    detail_url = url_maker("orders.order_detail", "number")
    return [
        (
            detail_url(order.number),
            order.number,
            formats.date(order.placed_at, "medium"),
            ", ".join(order.item_names),
            order.item_count - 2,
            order.status,
            labels[order.status],
            formats.money(order.total_minor, order.currency),
        )
        for order in orders
    ]


@bp.route("/orders/<number>")
@signed_in
def order_detail(number: str) -> str:
    order = get_own_order_or_404(number)
    return render_template(
        "orders/detail.html",
        order=order,
        status_labels=services.STATUS_LABELS,
        in_flight=order.status in services.IN_FLIGHT_STATUSES,
    )
