"""Staff pages: the queue and one item (agents, managers, admins)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Department, User
from portal.core.auth import guard_blueprint
from portal.core.db import utcnow
from portal.core.urls import safe_next
from portal.extensions import db, talisman
from portal.feedback import attachments as files
from portal.feedback import queries, services, settings, sla
from portal.feedback.forms import (
    PRIORITY_LABELS,
    STAFF_STATUS_LABELS,
    AssignForm,
    BulkAssignForm,
    PriorityForm,
    PublishSolutionForm,
    RerouteForm,
    ResolveForm,
    StaffReplyForm,
    StatusForm,
    with_submission_token,
)
from portal.feedback.models import KINDS, PRIORITIES, STATUSES, RootCause
from portal.feedback.views import send_attachment

bp = Blueprint("feedback_staff", __name__, url_prefix="/staff/feedback")
guard_blueprint(bp, ("agent", "manager", "admin"))


def _user() -> Any:
    return current_user._get_current_object()


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _assignee_choices(department_id: int | None = None) -> list[tuple[Any, str]]:
    return [(None, _("Nobody"))] + [
        (user.id, user.display_name) for user in queries.department_staff(department_id)
    ]


@bp.route("")
def queue() -> ResponseReturnValue:
    filters = queries.QueueFilters(
        department=_int_arg("department"),
        status=request.args.get("status") or None,
        priority=request.args.get("priority") or None,
        assignee=_int_arg("assignee"),
        sla=request.args.get("sla") or None,
        kind=request.args.get("kind") or None,
        mine=request.args.get("mine") == "1",
        sort=request.args.get("sort", "due"),
    )
    page = queries.staff_queue(_user(), filters, _int_arg("page") or 1)
    bulk_form = BulkAssignForm()
    bulk_form.assignee.choices = _assignee_choices()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "feedback/staff/queue.html",
        page=page,
        filters=filters,
        args=args,
        now=utcnow(),
        sla_state=sla.sla_state,
        departments=settings.departments(),
        staff=queries.department_staff(),
        kinds=KINDS,
        statuses=STATUSES,
        priorities=PRIORITIES,
        bulk_form=bulk_form,
    )


@bp.route("/bulk-assign", methods=["POST"])
def bulk_assign() -> ResponseReturnValue:
    form = BulkAssignForm()
    form.assignee.choices = _assignee_choices()
    if not form.validate_on_submit():
        abort(400)
    ids = [int(value) for value in request.form.getlist("items") if value.isdigit()]
    assignee = db.session.get(User, form.assignee.data) if form.assignee.data else None
    if assignee is not None and not assignee.is_staff:
        abort(400)
    count = services.bulk_assign(queries.items_by_ids(_user(), ids), assignee, _user())
    flash(_("%(count)d items assigned.", count=count), "success")
    return redirect(safe_next(request.form.get("back")) or url_for("feedback_staff.queue"))


def _item_forms(item: Any) -> dict[str, Any]:
    assign_form = AssignForm(prefix="assign")
    assign_form.assignee.choices = _assignee_choices(item.department_id)
    status_form = StatusForm(prefix="status")
    status_form.status.choices = [
        (s, STAFF_STATUS_LABELS[s]) for s in services.TRANSITIONS.get(item.status, ())
    ]
    priority_form = PriorityForm(prefix="priority")
    reroute_form = RerouteForm(prefix="reroute")
    reroute_form.department.choices = [(d.id, d.name) for d in settings.departments()]
    resolve_form = ResolveForm(prefix="resolve")
    resolve_form.root_cause.choices = [(None, "—")] + [
        (cause.id, cause.name) for cause in settings.root_causes()
    ]
    forms: dict[str, Any] = {}
    if linked_topic(item) is not None:
        publish_form = PublishSolutionForm(prefix="publish")
        if request.method == "GET":
            publish_form.answer.data = item.how_resolved
        forms["publish_form"] = publish_form
    return forms | {
        "reply_form": with_submission_token(StaffReplyForm(prefix="reply")),
        "assign_form": assign_form,
        "status_form": status_form,
        "priority_form": priority_form,
        "reroute_form": reroute_form,
        "resolve_form": resolve_form,
    }


def linked_topic(item: Any) -> Any:
    """The community topic a resolved complaint came from, while its answer is unpublished."""
    from portal.community.services import topic_for_complaint

    if item.status not in ("resolved", "closed"):
        return None
    topic = topic_for_complaint(item.reference)
    if topic is None or topic.official_post_id is not None:
        return None
    return topic


def _render_item(
    item: Any, forms: dict[str, Any], status: int | None = None
) -> ResponseReturnValue:
    now = utcnow()
    if request.method == "GET":
        forms["assign_form"].assignee.data = item.assignee_id
        forms["priority_form"].priority.data = item.priority
        forms["reroute_form"].department.data = item.department_id
    suggestion = queries.suggest_department(item)
    suggested = None
    if suggestion is not None:
        suggested = (
            db.session.scalar(db.select(Department).where(Department.slug == suggestion[0])),
            suggestion[1],
        )
    if status is None:
        status = 422 if any(form.errors for form in forms.values()) else 200
    return render_template(
        "feedback/staff/item.html",
        item=item,
        now=now,
        state=sla.sla_state(item.next_due_at, now),
        summary=queries.customer_summary(item.user, exclude_id=item.id),
        suggested=suggested,
        priority_labels=PRIORITY_LABELS,
        **forms,
    ), status


@bp.route("/<reference>")
def item(reference: str) -> ResponseReturnValue:
    found = queries.staff_item_or_404(_user(), reference)
    return _render_item(found, _item_forms(found))


@bp.route("/<reference>/<action>", methods=["POST"])
def act(reference: str, action: str) -> ResponseReturnValue:
    found = queries.staff_item_or_404(_user(), reference)
    forms = _item_forms(found)
    me = _user()
    key = f"{action}_form"
    if key not in forms:
        abort(404)
    form = forms[key]
    if not form.validate_on_submit():
        return _render_item(found, forms)
    try:
        if action == "reply":
            services.staff_reply(
                found,
                me,
                form.body.data,
                internal=form.internal.data,
                wait=form.wait.data,
                submission=form.submission.data or None,
            )
        elif action == "assign":
            assignee = db.session.get(User, form.assignee.data) if form.assignee.data else None
            if assignee is not None and assignee not in queries.department_staff(
                found.department_id
            ):
                form.assignee.errors = [_("This person cannot take items of this department.")]
                return _render_item(found, forms)
            services.assign(found, assignee, me)
        elif action == "status":
            services.change_status(found, form.status.data, me)
        elif action == "priority":
            services.change_priority(found, form.priority.data, me)
        elif action == "reroute":
            department = db.session.get(Department, form.department.data)
            if department is None:
                abort(400)
            services.reroute(found, department, me, form.reason.data)
        elif action == "publish":
            from portal.community.moderation import publish_solution

            publish_solution(me, linked_topic(found), form.answer.data)
        elif action == "resolve":
            cause = db.session.get(RootCause, form.root_cause.data)
            if cause is None:
                form.root_cause.errors = [_("Choose a root cause.")]
                return _render_item(found, forms)
            services.resolve(
                found,
                me,
                root_cause=cause,
                what_went_wrong=form.what_went_wrong.data,
                how_resolved=form.how_resolved.data,
                prevention=form.prevention.data,
            )
    except services.FeedbackError:
        flash(_("That change is not possible in the item's current state."), "error")
        return _render_item(found, forms, status=409)
    flash(_("Saved."), "success")
    # After a re-route an agent of the old department may no longer see the item.
    if queries.sees_all_departments(me) or found.department in me.departments:
        return redirect(url_for("feedback_staff.item", reference=reference))
    return redirect(url_for("feedback_staff.queue"))


@bp.route("/<reference>/attachments/<int:attachment_id>")
@talisman(content_security_policy=files.ATTACHMENT_CSP)
def attachment(reference: str, attachment_id: int) -> ResponseReturnValue:
    found = queries.staff_item_or_404(_user(), reference)
    return send_attachment(queries.attachment_or_404(found, attachment_id))
