"""Staff insight: the dashboard, the customer 360, exports and follow-up automation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.core import audit  # noqa: F401 - register the table
    from portal.core.demo import DEMO_LOADERS
    from portal.staff import followups, insight, mailtemplates, rollups  # noqa: F401
    from portal.staff.views import bp

    app.register_blueprint(bp)
    followups.register_tasks()
    rollups.register_tasks()
    insight.register()
    if build_demo_rollups not in DEMO_LOADERS:
        DEMO_LOADERS.append(build_demo_rollups)


def build_demo_rollups(_users: object) -> None:
    """After every feature's demo data: fill the dashboard's rollups for it."""
    from portal.staff.rollups import rebuild_all

    rebuild_all()
