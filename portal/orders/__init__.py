"""Orders: orders, items, status events, import, and the customer's order pages."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l
    from flask_login import current_user
    from flask_security.signals import password_reset

    from portal.accounts.services import DATA_ERASERS, DATA_EXPORTERS
    from portal.core.demo import DEMO_LOADERS
    from portal.core.nav import has_role, register_home_block, register_nav
    from portal.jobs.schedule import register_periodic
    from portal.orders import cli, models, services  # noqa: F401 - tables and `flask portal` commands
    from portal.orders.demo import load_demo_orders
    from portal.orders.formatting import money
    from portal.orders.recompute import nightly_recompute
    from portal.orders.views import bp

    app.register_blueprint(bp)
    app.add_template_global(money, "money")
    register_nav(
        "orders.order_list", _l("Orders"), has_role("customer"), order=20, prefix="/orders"
    )
    register_home_block("orders/_home_block.html", has_role("customer"), order=10)
    register_periodic("customer_value.recompute", "30 2 * * *", nightly_recompute)
    DATA_EXPORTERS.setdefault("orders", services.export_orders)
    DATA_ERASERS.setdefault("orders", services.erase_order_personal_data)
    if load_demo_orders not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_demo_orders)

    @password_reset.connect_via(app)
    def _on_password_reset(_sender: Any, user: Any, **_extra: Any) -> None:
        services.confirm_claimed_account(user)

    @app.context_processor
    def _orders_context() -> dict[str, Any]:
        def orders_in_flight() -> list[models.Order]:
            if not current_user.is_authenticated:
                return []
            return services.orders_in_flight(current_user.id)

        def order_status_label(status: str) -> str:
            return str(services.STATUS_LABELS.get(status, status))

        return {"orders_in_flight": orders_in_flight, "order_status_label": order_status_label}
