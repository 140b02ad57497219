"""/staff/moderation: the review queue, moderation actions and the log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from portal.accounts.models import User
from portal.community import moderation, queries, services
from portal.community.forms import ModerationForm, MoveForm, ReasonForm, SuspendForm
from portal.community.models import Category, MemberSuspension, Topic
from portal.community.policies import MODERATOR_ROLES
from portal.core.auth import guard_blueprint
from portal.core.urls import safe_next
from portal.extensions import db

bp = Blueprint("community_staff", __name__, url_prefix="/staff/moderation")
guard_blueprint(bp, MODERATOR_ROLES)


def _back(default: str) -> WerkzeugResponse:
    return redirect(safe_next(request.form.get("next")) or default)


def _topic_or_404(topic_id: int) -> Topic:
    topic = queries.topic_with_category(topic_id)
    if topic is None:
        abort(404)
    return topic


@bp.get("")
def queue() -> ResponseReturnValue:
    posts = moderation.review_queue()
    return render_template(
        "community/staff/moderation.html",
        posts=posts,
        flags=moderation.open_flags_by_post([post.id for post in posts]),
        log=moderation.recent_log(),
        suspensions=moderation.active_suspensions(),
        form=ModerationForm(),
        suspend_form=SuspendForm(member_id=request.args.get("member", type=int)),
        lift_form=ReasonForm(),
    )


@bp.post("/post/<int:post_id>")
def moderate_post(post_id: int) -> ResponseReturnValue:
    post = queries.post_with_topic(post_id)
    if post is None:
        abort(404)
    form = ModerationForm()
    if not form.validate_on_submit() or form.action.data not in moderation.POST_ACTIONS:
        flash(_("Give a reason for every moderation action."), "danger")
        return _back(url_for("community_staff.queue")), 303
    moderation.moderate_post(
        current_user._get_current_object(), post, form.action.data, form.reason.data
    )
    flash(_("Done: the action is in the moderation log."), "success")
    return _back(url_for("community_staff.queue"))


@bp.post("/topic/<int:topic_id>")
def moderate_topic(topic_id: int) -> ResponseReturnValue:
    topic = _topic_or_404(topic_id)
    form = ModerationForm()
    if not form.validate_on_submit() or form.action.data not in moderation.TOPIC_ACTIONS:
        flash(_("Give a reason for every moderation action."), "danger")
        return _back(services.topic_url(topic)), 303
    moderation.moderate_topic(
        current_user._get_current_object(), topic, form.action.data, form.reason.data
    )
    flash(_("Done: the action is in the moderation log."), "success")
    return _back(services.topic_url(topic))


@bp.post("/topic/<int:topic_id>/move")
def move_topic(topic_id: int) -> ResponseReturnValue:
    topic = _topic_or_404(topic_id)
    form = MoveForm()
    target = db.session.get(Category, form.category.data) if form.category.data else None
    if not form.validate_on_submit() or target is None:
        flash(_("Choose a category and give a reason."), "danger")
        return redirect(services.topic_url(topic)), 303
    moderation.move_topic(current_user._get_current_object(), topic, target, form.reason.data)
    flash(_("The topic has been moved."), "success")
    return redirect(services.topic_url(topic))


@bp.post("/topic/<int:topic_id>/complaint")
def complaint(topic_id: int) -> ResponseReturnValue:
    topic = _topic_or_404(topic_id)
    form = ReasonForm()
    if not form.validate_on_submit() or not services.complaints_available():
        flash(_("Complaints cannot be opened from here yet."), "danger")
        return redirect(services.topic_url(topic)), 303
    reference = moderation.turn_into_complaint(
        current_user._get_current_object(), topic, form.reason.data
    )
    flash(_("Complaint %(ref)s opened; the author has been told.", ref=reference), "success")
    return redirect(services.topic_url(topic))


@bp.post("/suspend")
def suspend() -> ResponseReturnValue:
    form = SuspendForm()
    member = db.session.get(User, form.member_id.data) if form.member_id.data else None
    if not form.validate_on_submit() or member is None or member.is_staff:
        flash(_("Give a customer's member number, a period and a reason."), "danger")
        return redirect(url_for("community_staff.queue")), 303
    moderation.suspend_member(
        current_user._get_current_object(), member, form.days.data or 1, form.reason.data
    )
    flash(_("%(name)s cannot post until the suspension ends.", name=member.display_name), "success")
    return redirect(url_for("community_staff.queue"))


@bp.post("/suspension/<int:suspension_id>/lift")
def lift(suspension_id: int) -> ResponseReturnValue:
    suspension = db.session.scalar(
        select(MemberSuspension).where(MemberSuspension.id == suspension_id)
    )
    form = ReasonForm()
    if suspension is None:
        abort(404)
    if not form.validate_on_submit():
        flash(_("Give a reason for every moderation action."), "danger")
        return redirect(url_for("community_staff.queue")), 303
    moderation.lift_suspension(current_user._get_current_object(), suspension, form.reason.data)
    flash(_("The suspension has been lifted."), "success")
    return redirect(url_for("community_staff.queue"))
