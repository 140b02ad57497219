"""Staff insight: the dashboard, the customer 360, exports and follow-up automation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.core import audit  # noqa: F401 - register the table
    from portal.staff import followups, rollups
    from portal.staff.views import bp

    app.register_blueprint(bp)
    followups.register_tasks()
    rollups.register_tasks()
