"""Staff pages: the mail outbox (admins) and bulk mail progress (managers and admins)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from portal.core.auth import guard_blueprint
from portal.core.nav import has_role, register_staff_nav
from portal.extensions import db
from portal.jobs import bulk, outbox
from portal.jobs.models import OUTBOX_STATUSES, MailCampaign, OutboxMessage

PER_PAGE = 50

outbox_bp = Blueprint("jobs_outbox", __name__, url_prefix="/staff/outbox")
guard_blueprint(outbox_bp, ["admin"])

mailings_bp = Blueprint("jobs_mailings", __name__, url_prefix="/staff/mailings")
guard_blueprint(mailings_bp, ["admin", "manager"])

STATUS_LABELS = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}
CAMPAIGN_STATUS_LABELS = {
    "sending": _l("Sending"),
    "done": _l("Finished"),
    "cancelled": _l("Cancelled"),
}


def register_staff_pages() -> None:
    register_staff_nav("jobs_outbox.message_list", _l("Mail outbox"), has_role("admin"), order=80)
    register_staff_nav(
        "jobs_mailings.campaign_list", _l("Bulk mail"), has_role("admin", "manager"), order=81
    )


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@outbox_bp.get("/")
def message_list() -> ResponseReturnValue:
    status = request.args.get("status", "")
    if status and status not in OUTBOX_STATUSES:
        abort(404)
    campaign_id = request.args.get("campaign", type=int)
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        ).all()
    )
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    if campaign_id:
        query = query.where(OutboxMessage.campaign_id == campaign_id)
    page = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False, count=True)
    return render_template(
        "jobs/staff/outbox_list.html",
        page=page,
        status=status,
        campaign_id=campaign_id,
        counts={s: counts.get(s, 0) for s in OUTBOX_STATUSES},
        total=sum(counts.values()),
        labels=STATUS_LABELS,
    )


def _load_message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@outbox_bp.get("/<int:message_id>")
def message_detail(message_id: int) -> ResponseReturnValue:
    message = _load_message(message_id)
    return render_template(
        "jobs/staff/outbox_detail.html", message=message, form=FlaskForm(), labels=STATUS_LABELS
    )


@outbox_bp.post("/<int:message_id>/resend")
def message_resend(message_id: int) -> ResponseReturnValue:
    message = _load_message(message_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    if outbox.resend(message):
        flash(gettext("The message will be sent again."), "success")
    else:
        flash(gettext("Only a failed message can be sent again."), "warning")
    return redirect(url_for("jobs_outbox.message_detail", message_id=message.id))


@mailings_bp.get("/")
def campaign_list() -> ResponseReturnValue:
    page = db.paginate(
        select(MailCampaign).order_by(MailCampaign.id.desc()),
        page=_page(),
        per_page=PER_PAGE,
        error_out=False,
    )
    campaigns = list(page.items)
    return render_template(
        "jobs/staff/campaign_list.html",
        page=page,
        campaigns=campaigns,
        progress=bulk.progress([c.id for c in campaigns]),
        labels=CAMPAIGN_STATUS_LABELS,
    )
