"""/notifications (what happened to my things) and /unsubscribe/<token> (no sign-in)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.accounts.models import User
from portal.core.auth import signed_in
from portal.extensions import csrf, db
from portal.jobs import notifications
from portal.jobs import unsubscribe as unsubscribe_service

bp = Blueprint("jobs", __name__)

KIND_LABELS = {
    "newsletter": _l("the newsletter"),
    "surveys": _l("survey invitations"),
    "greetings": _l("greetings and thank-you messages"),
}


def render_notification(message: str, data: dict) -> str:
    """Translate a stored msgid in the reader's language and fill in its values."""
    try:
        return gettext(message, **data)
    except (KeyError, ValueError, TypeError):
        return gettext(message)


@bp.route("/notifications", methods=["GET", "POST"])
@signed_in
def notification_list() -> ResponseReturnValue:
    form = FlaskForm()
    if form.validate_on_submit():
        notifications.mark_all_read(current_user.id)
        return redirect(url_for("jobs.notification_list"))
    items = notifications.recent(current_user.id)
    return render_template(
        "jobs/notifications.html", items=items, form=form, render_notification=render_notification
    )


def _load_unsubscriber(token: str) -> tuple[User, str]:
    parsed = unsubscribe_service.read_token(token)
    if parsed is None:
        abort(404)
    user_id, kind = parsed
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        abort(404)
    return user, kind


def _masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click POSTs come from mail providers, without a form token
def unsubscribe(token: str) -> ResponseReturnValue:
    user, kind = _load_unsubscriber(token)
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        unsubscribe_service.unsubscribe(user, kind)
        return gettext("You are unsubscribed."), 200, {"Content-Type": "text/plain; charset=utf-8"}
    form = FlaskForm()
    context = {
        "form": form,
        "what": KIND_LABELS[kind],
        "address": _masked(user.email),
        "done": False,
    }
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("jobs/unsubscribe.html", **context), 400
        unsubscribe_service.unsubscribe(user, kind)
        context["done"] = True
    return render_template("jobs/unsubscribe.html", **context)


@bp.app_context_processor
def _unread() -> dict[str, object]:
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return notifications.unread_count(current_user.id)

    return {"unread_notifications": unread_notifications}
