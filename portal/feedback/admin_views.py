"""Manager pages: routing rules (with a test box), departments' SLA targets, root causes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts.models import Department
from portal.core.auth import guard_blueprint
from portal.extensions import db
from portal.feedback import settings
from portal.feedback.forms import (
    ActionForm,
    DepartmentForm,
    RootCauseForm,
    RuleForm,
    RuleTestForm,
    language_choices,
)
from portal.feedback.models import PRIORITIES, RootCause, RoutingRule
from portal.feedback.routing import Sample

bp = Blueprint("feedback_admin", __name__, url_prefix="/staff")
guard_blueprint(bp, ("manager", "admin"))


def _rule_or_404(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404)
    return rule


def _rule_form(rule: RoutingRule | None = None) -> RuleForm:
    form = RuleForm(obj=rule) if rule is not None and request.method == "GET" else RuleForm()
    if rule is not None and request.method == "GET":
        form.keywords.data = ", ".join(rule.keywords)
    form.department_id.choices = [(d.id, d.name) for d in settings.departments()]
    form.languages.choices = language_choices()
    return form


def _test_form() -> RuleTestForm:
    form = RuleTestForm(formdata=request.args or None, meta={"csrf": False})
    form.language.choices = language_choices()
    return form


@bp.route("/routing")
def routing() -> ResponseReturnValue:
    test_form = _test_form()
    only = None
    if request.args.get("rule", "").isdigit():
        only = db.session.get(RoutingRule, int(request.args["rule"]))
    result = None
    if request.args and test_form.validate():
        sample = Sample(
            kind=test_form.kind.data or "complaint",
            subject=test_form.subject.data or "",
            message=test_form.message.data or "",
            order_status=test_form.order_status.data or None,
            segments=frozenset({test_form.segment.data} if test_form.segment.data else ()),
            language=test_form.language.data or "en",
        )
        result = settings.test_sample(sample, only)
    departments = {d.slug: d for d in settings.departments()}
    return render_template(
        "feedback/admin/routing.html",
        rules=settings.rules(),
        test_form=test_form,
        only=only,
        result=result,
        departments=departments,
        action_form=ActionForm(),
    )


@bp.route("/routing/new", methods=["GET", "POST"])
def rule_new() -> ResponseReturnValue:
    form = _rule_form()
    if form.validate_on_submit():
        settings.create_rule(form.data)
        flash(_("Rule saved."), "success")
        return redirect(url_for("feedback_admin.routing"))
    return render_template("feedback/admin/rule_form.html", form=form, rule=None), (
        422 if form.errors else 200
    )


@bp.route("/routing/<int:rule_id>", methods=["GET", "POST"])
def rule_edit(rule_id: int) -> ResponseReturnValue:
    rule = _rule_or_404(rule_id)
    form = _rule_form(rule)
    if form.validate_on_submit():
        settings.update_rule(rule, form.data)
        flash(_("Rule saved."), "success")
        return redirect(url_for("feedback_admin.routing"))
    return render_template("feedback/admin/rule_form.html", form=form, rule=rule), (
        422 if form.errors else 200
    )


@bp.route("/routing/<int:rule_id>/<action>", methods=["POST"])
def rule_action(rule_id: int, action: str) -> ResponseReturnValue:
    rule = _rule_or_404(rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if action == "up":
        settings.move_rule(rule, -1)
    elif action == "down":
        settings.move_rule(rule, 1)
    elif action == "toggle":
        settings.toggle_rule(rule)
    elif action == "delete":
        settings.delete_rule(rule)
        flash(_("Rule deleted."), "success")
    else:
        abort(404)
    return redirect(url_for("feedback_admin.routing"))


def _department_form(department: Department, table: dict[str, Any]) -> DepartmentForm:
    form = DepartmentForm(prefix=f"d{department.id}")
    if request.method == "GET" or form.submit.data is False:
        form.manager_email.data = department.manager_email
        for priority in PRIORITIES:
            getattr(form, f"{priority}_first").data = table[priority].first_response_hours
            getattr(form, f"{priority}_resolution").data = table[priority].resolution_hours
    return form


@bp.route("/departments", methods=["GET", "POST"])
def departments() -> ResponseReturnValue:
    table = settings.sla_table()
    rows = []
    status = 200
    for department in settings.departments():
        form = _department_form(department, table[department.id])
        if request.method == "POST" and form.submit.data:
            if form.validate_on_submit():
                data = {name: form[name].data for name in form._fields}
                settings.update_department(department, data)
                flash(_("%(name)s saved.", name=department.name), "success")
                return redirect(url_for("feedback_admin.departments"))
            status = 422
        rows.append((department, form))
    return render_template(
        "feedback/admin/departments.html",
        rows=rows,
        priorities=PRIORITIES,
        causes=settings.root_causes(active_only=False),
        cause_form=RootCauseForm(prefix="cause"),
        action_form=ActionForm(),
    ), status


@bp.route("/root-causes", methods=["POST"])
def root_cause_add() -> ResponseReturnValue:
    form = RootCauseForm(prefix="cause")
    if form.validate_on_submit():
        settings.add_root_cause(form.name.data or "")
        flash(_("Root cause added."), "success")
    else:
        flash(_("Give the root cause a name."), "error")
    return redirect(url_for("feedback_admin.departments", _anchor="root-causes"))


@bp.route("/root-causes/<int:cause_id>/toggle", methods=["POST"])
def root_cause_toggle(cause_id: int) -> ResponseReturnValue:
    cause = db.session.get(RootCause, cause_id)
    if cause is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    settings.toggle_root_cause(cause)
    return redirect(url_for("feedback_admin.departments", _anchor="root-causes"))
