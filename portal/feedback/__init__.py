"""Feedback and complaints: routing to departments, the SLA clock, resolution and rating."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from portal.accounts.services import DATA_ERASERS, DATA_EXPORTERS
    from portal.core.demo import DEMO_LOADERS
    from portal.core.nav import (
        customers,
        has_role,
        register_home_block,
        register_nav,
        register_staff_nav,
    )
    from portal.feedback import cli, models  # noqa: F401 - register the tables and commands
    from portal.feedback import forms as labels
    from portal.feedback.admin_views import bp as admin_bp
    from portal.feedback.demo import load_demo
    from portal.feedback.privacy import erase_feedback, export_feedback
    from portal.feedback.staff_views import bp as staff_bp
    from portal.feedback.tasks import register_tasks
    from portal.feedback.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(admin_bp)

    register_nav("feedback.index", _l("Feedback"), customers, order=40, prefix="/feedback")
    register_home_block("feedback/_home_block.html", customers, order=30)
    staff_roles = has_role("agent", "manager", "admin")
    register_staff_nav("feedback_staff.queue", _l("Feedback queue"), staff_roles, order=20)
    managers = has_role("manager", "admin")
    register_staff_nav("feedback_admin.routing", _l("Routing rules"), managers, order=60)
    register_staff_nav("feedback_admin.departments", _l("Departments"), managers, order=61)

    register_tasks()
    DATA_EXPORTERS["feedback"] = export_feedback
    DATA_ERASERS["feedback"] = erase_feedback
    if load_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_demo)

    @app.context_processor
    def _feedback_labels() -> dict[str, object]:
        return {
            "feedback_kind_labels": labels.KIND_LABELS,
            "feedback_status_labels": labels.STATUS_LABELS,
            "feedback_staff_status_labels": labels.STAFF_STATUS_LABELS,
            "feedback_priority_labels": labels.PRIORITY_LABELS,
            "feedback_sla_labels": labels.SLA_LABELS,
            "feedback_segment_labels": labels.SEGMENT_LABELS,
            "feedback_event_labels": labels.EVENT_LABELS,
            "feedback_money": _money,
            "feedback_home_items": _home_items,
        }


def _home_items() -> list:
    """The signed-in customer's open items for the home page block."""
    from flask_login import current_user

    from portal.feedback.queries import open_items_of

    return open_items_of(current_user._get_current_object(), limit=5)


def _money(minor: int, currency: str) -> str:
    """Integer minor units formatted in the viewer's locale."""
    from portal.core.formatting import money

    return money(minor, currency)
