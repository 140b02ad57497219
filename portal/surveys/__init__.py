"""Surveys: built by staff, sent by single-use links, answered without signing in."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from portal.accounts.services import DATA_ERASERS, DATA_EXPORTERS
    from portal.core.demo import DEMO_LOADERS
    from portal.core.nav import (
        customers,
        has_role,
        register_home_block,
        register_nav,
        register_staff_nav,
    )
    from portal.surveys import (
        models,  # noqa: F401 - register the tables
        tasks,
    )
    from portal.surveys.demo import load_demo_surveys
    from portal.surveys.privacy import erase_survey_data, export_survey_data
    from portal.surveys.staff_views import bp as staff_bp
    from portal.surveys.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    register_nav("surveys.waiting", _l("Surveys"), customers, order=40, prefix="/surveys")
    register_staff_nav(
        "surveys_staff.index",
        _l("Surveys"),
        has_role("manager", "admin"),
        order=40,
        prefix="/staff/surveys",
    )
    register_home_block("surveys/_home_block.html", customers, order=30)
    tasks.register()
    DATA_EXPORTERS["surveys"] = export_survey_data
    DATA_ERASERS["surveys"] = erase_survey_data
    if load_demo_surveys not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_demo_surveys)
    _connect_feedback()


def _connect_feedback() -> None:
    """A resolved complaint invites its customer to the handling survey."""
    from portal.feedback.services import ON_RESOLVED

    if invite_after_resolution not in ON_RESOLVED:
        ON_RESOLVED.append(invite_after_resolution)


def invite_after_resolution(item: object) -> None:
    from portal.surveys.sending import invite_for_trigger

    if getattr(item, "kind", None) != "complaint":
        return
    user = getattr(item, "user", None)
    if user is not None:
        invite_for_trigger("complaint_resolved", user, context={"reference": item.reference})  # type: ignore[attr-defined]
