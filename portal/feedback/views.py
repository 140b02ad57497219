"""Customer pages: /feedback, /feedback/new, /feedback/<reference> and its actions."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.core.auth import signed_in
from portal.core.db import utcnow
from portal.core.formatting import ViewerFormats
from portal.core.i18n import resolved_labels
from portal.core.nav import url_maker
from portal.extensions import db, limiter, talisman
from portal.feedback import attachments as files
from portal.feedback import forms as labels
from portal.feedback import queries, services, sla
from portal.feedback.forms import (
    EscalateForm,
    NewFeedbackForm,
    RateForm,
    ReopenForm,
    ReplyForm,
    with_submission_token,
)
from portal.orders.models import Order

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

CUSTOMER_EVENTS = frozenset({"created", "status", "reopened", "escalated"})


def _per_user() -> str:
    return f"user:{current_user.get_id() or request.remote_addr}"


def _user() -> Any:
    return current_user._get_current_object()


@bp.route("")
@signed_in
def index() -> ResponseReturnValue:
    return render_template("feedback/list.html", rows=_list_rows(queries.customer_items(_user())))


def _list_rows(items: list[Any]) -> list[tuple[Any, ...]]:
    """The table's cells, worked out once per page: labels in the viewer's language, the
    viewer's date format, each item's link. The template escapes them."""
    kinds = resolved_labels(labels.KIND_LABELS)
    statuses = resolved_labels(labels.STATUS_LABELS)
    formats = ViewerFormats()
    detail_url = url_maker("feedback.detail", "reference")
    return [
        (
            detail_url(item.reference),
            item.reference,
            item.subject,
            kinds[item.kind],
            "—" if item.order_number is None else item.order_number,
            _BADGES.get(item.status, "primary"),
            statuses[item.status],
            item.created_at.isoformat(timespec="seconds"),
            formats.datetime(item.created_at, "short"),
        )
        for item in items
    ]


#: The colour of a status's badge on the customer's list (any other status: primary).
_BADGES = {"resolved": "success", "closed": "success", "waiting_on_customer": "warning"}


def _own_orders() -> list[Order]:
    return list(
        db.session.scalars(
            select(Order).where(Order.user_id == current_user.id).order_by(Order.placed_at.desc())
        )
    )


@bp.route("/new", methods=["GET", "POST"])
@signed_in
@limiter.limit(
    lambda: current_app.config.get("FEEDBACK_RATE_LIMIT", "10 per hour"),
    key_func=_per_user,
    methods=["POST"],
    scope="feedback-new",
)
def new() -> ResponseReturnValue:
    orders = _own_orders()
    form = NewFeedbackForm()
    form.order.choices = [("", _("No order"))] + [(o.number, o.number) for o in orders]
    if request.method == "GET":
        wanted = request.args.get("order", "")
        if any(o.number == wanted for o in orders):
            form.order.data = wanted
            form.kind.data = "complaint"
        with_submission_token(form)
    if form.validate_on_submit():
        order = next((o for o in orders if o.number == form.order.data), None)
        item = services.open_item(
            _user(),
            form.kind.data or "complaint",
            form.subject.data or "",
            form.message.data or "",
            order=order,
            source="portal",
            source_ref=f"form:{form.submission.data}" if form.submission.data else None,
            uploads=form.checked_uploads,
            language=str(get_locale() or "") or None,
        )
        flash(_("Thank you. Your reference is %(reference)s.", reference=item.reference), "success")
        return redirect(url_for("feedback.detail", reference=item.reference))
    status = 422 if form.errors else 200
    return render_template("feedback/new.html", form=form, max_files=files.MAX_ATTACHMENTS), status


def _detail(item: Any, **forms: Any) -> ResponseReturnValue:
    now = utcnow()
    forms.setdefault("reply_form", ReplyForm())
    with_submission_token(forms["reply_form"])
    forms.setdefault("escalate_form", EscalateForm())
    forms.setdefault("reopen_form", ReopenForm())
    forms.setdefault("rate_form", RateForm())
    status = 422 if any(f.errors for f in forms.values()) else 200
    return render_template(
        "feedback/detail.html",
        item=item,
        messages=[m for m in item.messages if not m.internal],
        history=[e for e in item.events if e.action in CUSTOMER_EVENTS],
        promise=sla.promised_answer_at(item, now),
        can_escalate=sla.can_escalate(item, now),
        can_reopen=sla.can_reopen(item.status, item.resolved_at, now),
        can_rate=sla.can_rate(item.status, item.rating),
        **forms,
    ), status


@bp.route("/<reference>")
@signed_in
def detail(reference: str) -> ResponseReturnValue:
    return _detail(queries.own_item_or_404(_user(), reference))


@bp.route("/<reference>/reply", methods=["POST"])
@signed_in
@limiter.limit(
    lambda: current_app.config.get("FEEDBACK_REPLY_RATE_LIMIT", "30 per hour"),
    key_func=_per_user,
    methods=["POST"],
    scope="feedback-reply",
)
def reply(reference: str) -> ResponseReturnValue:
    item = queries.own_item_or_404(_user(), reference)
    form = ReplyForm()
    if item.status == "closed":
        abort(409)
    if form.validate_on_submit():
        services.customer_reply(
            item, _user(), form.body.data or "", submission=form.submission.data or None
        )
        flash(_("Your reply has been sent."), "success")
        return redirect(url_for("feedback.detail", reference=reference, _anchor="thread"))
    return _detail(item, reply_form=form)


@bp.route("/<reference>/escalate", methods=["POST"])
@signed_in
def escalate(reference: str) -> ResponseReturnValue:
    item = queries.own_item_or_404(_user(), reference)
    form = EscalateForm()
    if not form.validate_on_submit():
        return _detail(item, escalate_form=form)
    if not sla.can_escalate(item, utcnow()):
        abort(409)
    services.escalate(item, _user())
    flash(_("We have escalated your request to the department's manager."), "success")
    return redirect(url_for("feedback.detail", reference=reference))


@bp.route("/<reference>/reopen", methods=["POST"])
@signed_in
def reopen(reference: str) -> ResponseReturnValue:
    item = queries.own_item_or_404(_user(), reference)
    form = ReopenForm()
    if not form.validate_on_submit():
        return _detail(item, reopen_form=form)
    if not sla.can_reopen(item.status, item.resolved_at, utcnow()):
        abort(409)
    services.reopen(item, _user(), form.reason.data or "")
    flash(_("Your request is open again."), "success")
    return redirect(url_for("feedback.detail", reference=reference))


@bp.route("/<reference>/rate", methods=["POST"])
@signed_in
def rate(reference: str) -> ResponseReturnValue:
    item = queries.own_item_or_404(_user(), reference)
    form = RateForm()
    if item.status not in ("resolved", "closed"):
        abort(409)
    if not form.validate_on_submit():
        return _detail(item, rate_form=form)
    services.rate(item, _user(), int(form.rating.data or 0), form.comment.data or "")
    flash(_("Thank you for your rating."), "success")
    return redirect(url_for("feedback.detail", reference=reference))


def send_attachment(attachment: Any) -> Response:
    """Serve with the type we detected; only images inline; never sniffed."""
    from flask import send_file

    try:
        path = files.path_of(attachment.stored_name)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    # Files are at most 5 MB: read them whole, so no file handle outlives the request.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=attachment.content_type,
        as_attachment=not attachment.is_image,
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = files.ATTACHMENT_CSP
    return response


@bp.route("/<reference>/attachments/<int:attachment_id>")
@signed_in
@talisman(content_security_policy=files.ATTACHMENT_CSP)
def attachment(reference: str, attachment_id: int) -> ResponseReturnValue:
    item = queries.own_item_or_404(_user(), reference)
    return send_attachment(queries.attachment_or_404(item, attachment_id))
