"""/notifications: what happened to my things."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from flask_security import auth_required
from flask_wtf import FlaskForm

from portal.jobs import notifications

bp = Blueprint("jobs", __name__)


def render_notification(message: str, data: dict) -> str:
    """Translate a stored msgid in the reader's language and fill in its values."""
    try:
        return gettext(message, **data)
    except (KeyError, ValueError, TypeError):
        return gettext(message)


@bp.route("/notifications", methods=["GET", "POST"])
@auth_required()
def notification_list() -> ResponseReturnValue:
    form = FlaskForm()
    if form.validate_on_submit():
        notifications.mark_all_read(current_user.id)
        return redirect(url_for("jobs.notification_list"))
    items = notifications.recent(current_user.id)
    return render_template(
        "jobs/notifications.html", items=items, form=form, render_notification=render_notification
    )


@bp.app_context_processor
def _unread() -> dict[str, object]:
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return notifications.unread_count(current_user.id)

    return {"unread_notifications": unread_notifications}
