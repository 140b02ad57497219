"""The customer's orders: the list, one order, and the home page block."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from flask_security import auth_required

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
@auth_required()
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
        status=status or "",
        status_labels=services.STATUS_LABELS,
    ), (200 if valid else 400)


@bp.route("/orders/<number>")
@auth_required()
def order_detail(number: str) -> str:
    order = get_own_order_or_404(number)
    return render_template(
        "orders/detail.html",
        order=order,
        status_labels=services.STATUS_LABELS,
        in_flight=order.status in services.IN_FLIGHT_STATUSES,
    )
