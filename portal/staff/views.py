"""/staff: the dashboard and the customer 360."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.core.auth import guard_blueprint, require_roles
from portal.core.csvexport import csv_response
from portal.core.nav import has_role, register_nav, register_staff_nav
from portal.staff import services
from portal.staff.charts import bar_chart, column_chart
from portal.staff.forms import TOUCHPOINT_LABELS, MailTemplateForm, ResetForm, TouchpointForm

bp = Blueprint("staff", __name__, url_prefix="/staff")
guard_blueprint(bp, ("agent", "moderator", "manager", "admin"))

INSIGHT_ROLES = ("agent", "manager", "admin")


def _period() -> services.Period:
    return services.parse_period(
        request.args.get("days"), request.args.get("start"), request.args.get("end")
    )


def _visible_departments() -> list[int] | None:
    """None means all departments (managers, admins); agents see their own."""
    if current_user.has_any_role("manager", "admin"):
        wanted = request.args.get("department", type=int)
        return [wanted] if wanted else None
    own = [department.id for department in current_user.departments]
    chosen = request.args.get("department", type=int)
    return [chosen] if chosen is not None and chosen in own else own


@bp.route("/")
def dashboard() -> ResponseReturnValue:
    if not current_user.has_any_role(*INSIGHT_ROLES):
        if current_user.has_any_role("moderator"):
            return redirect(request.host_url.rstrip("/") + "/staff/moderation")
        abort(403)
    period = _period()
    departments = _visible_departments()
    figures = services.customer_figures(period)
    source_chart = bar_chart(
        _("Where new customers came from"),
        _("New customers in the period by how they heard about us."),
        [(source_label(source), count, str(count)) for source, count in figures.sources],
    )
    stage_chart = bar_chart(
        _("Relationship stages"),
        _("Customers by relationship stage."),
        [(stage_label(stage), count, str(count)) for stage, count in figures.stages],
    )
    blocks = [
        (template, builder(period, departments))
        for _order, template, builder in services.DASHBOARD_BLOCKS
    ]
    return render_template(
        "staff/dashboard.html",
        period=period,
        period_choices=services.PERIOD_CHOICES,
        figures=figures,
        source_chart=source_chart,
        stage_chart=stage_chart,
        blocks=blocks,
        departments=departments,
        all_departments=_department_choices(),
    )


@bp.route("/export/<block>.csv")
def export(block: str) -> ResponseReturnValue:
    require_roles(*INSIGHT_ROLES)
    period = _period()
    figures = services.customer_figures(period)
    if block == "acquisition":
        return csv_response("acquisition-sources.csv", ["source", "new customers"], figures.sources)
    if block == "referrals":
        leaders = [(user.display_name, user.id, count) for user, count in figures.referral_leaders]
        return csv_response(
            "referral-leaders.csv", ["customer", "id", "customers brought"], leaders
        )
    if block == "stages":
        return csv_response("stages.csv", ["stage", "customers"], figures.stages)
    if block in ("satisfaction", "complaints", "community"):
        return _export_insight(block, period)
    if block == "customers":
        summary: list[tuple[str, object]] = [
            ("customers", figures.customers),
            ("golden", figures.golden),
            ("golden share of 12-month revenue", f"{figures.golden_revenue_share:.4f}"),
            ("lapsed", figures.lapsed),
            ("new in period", figures.new_customers),
        ]
        return csv_response("customers.csv", ["figure", "value"], summary)
    abort(404)


def _export_insight(block: str, period: services.Period) -> ResponseReturnValue:
    from portal.staff import insight

    departments = _visible_departments()
    if block == "satisfaction":
        data = insight.satisfaction_block(period, departments)
        rows: list[tuple[object, ...]] = [
            (name, change.shown, change.delta_shown) for name, change in data["scores"].items()
        ]
        rows += [(f"nps week {bar.label}", bar.display, "") for bar in data["nps_chart"].columns]
        rows += [
            (f"deal breaker: {bar.label}", bar.display, "") for bar in data["breakers_chart"].bars
        ]
        return csv_response("satisfaction.csv", ["figure", "value", "change"], rows)
    if block == "complaints":
        data = insight.complaints_block(period, departments)
        rows = [
            ("promises broken now", data["breached_now"], ""),
            ("breaches in period", data["breaches_in_period"], ""),
            (
                "median first response hours",
                data["first_response"].shown,
                data["first_response"].delta_shown,
            ),
            ("median resolution hours", data["resolution"].shown, data["resolution"].delta_shown),
        ]
        rows += [
            (f"open {department} {priority}", count, "")
            for department, counts in data["open_table"]
            for priority, count in counts.items()
        ]
        rows += [(f"root cause: {bar.label}", bar.display, "") for bar in data["causes_chart"].bars]
        return csv_response("complaints.csv", ["figure", "value", "change"], rows)
    data = insight.community_block(period, departments)
    rows = [(key, "" if value is None else value, "") for key, value in data.items()]
    return csv_response("community.csv", ["figure", "value", "change"], rows)


@bp.route("/customers")
def customers() -> ResponseReturnValue:
    require_roles(*INSIGHT_ROLES)
    query = request.args.get("q", "")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    users, total = services.search_customers(query, page=page)
    return render_template(
        "staff/customers/list.html", users=users, total=total, query=query, page=page, per_page=25
    )


@bp.route("/customers/<int:user_id>", methods=["GET"])
def customer_detail(user_id: int) -> ResponseReturnValue:
    require_roles(*INSIGHT_ROLES)
    user = services.get_customer_or_404(user_id)
    return _render_360(user, TouchpointForm())


def _render_360(user, form: TouchpointForm, status: int = 200) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    view = services.customer_360(user)
    months = services.spend_by_month(view.value)
    currency = view.value.currency if view.value else "EUR"
    from flask_babel import format_currency

    spend_chart = column_chart(
        _("Spend per month"),
        _("Paid orders less refunds, per month, for the last 12 months."),
        [(key[5:], amount, format_currency(amount / 100, currency)) for key, amount in months],
    )
    return render_template(
        "staff/customers/detail.html",
        view=view,
        form=form,
        spend_chart=spend_chart,
        touchpoint_labels=TOUCHPOINT_LABELS,
        currency=currency,
    ), status


@bp.route("/customers/<int:user_id>/touchpoints", methods=["POST"])
def log_touchpoint(user_id: int) -> ResponseReturnValue:
    require_roles(*INSIGHT_ROLES)
    user = services.get_customer_or_404(user_id)
    form = TouchpointForm()
    if form.validate_on_submit():
        services.log_touchpoint(
            user,
            kind=form.kind.data,
            note=form.note.data,
            coupon_code=form.coupon_code.data,
            staff_id=current_user.id,
        )
        flash(_("Logged."), "success")
        return redirect(url_for("staff.customer_detail", user_id=user.id) + "#touchpoints")
    return _render_360(user, form, 422)


@bp.route("/audit")
def audit_log() -> ResponseReturnValue:
    require_roles("admin")
    query = request.args.get("q", "")
    action = request.args.get("action") or None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    entries, total = services.search_audit(query, action=action, page=page)
    if request.args.get("format") == "csv":
        rows = [
            (
                e.created_at.isoformat(),
                e.actor.email if e.actor else "",
                e.action,
                e.object_type,
                e.object_id,
                e.ip_address,
            )
            for e in entries
        ]
        return csv_response("audit.csv", ["at", "actor", "action", "object", "id", "ip"], rows)
    return render_template(
        "staff/audit.html",
        entries=entries,
        total=total,
        query=query,
        action=action,
        actions=services.audit_actions(),
        page=page,
        per_page=50,
    )


TEMPLATE_ROLES = ("manager", "admin")


@bp.route("/mail-templates")
def mail_templates() -> ResponseReturnValue:
    from portal.staff import mailtemplates

    require_roles(*TEMPLATE_ROLES)
    return render_template(
        "staff/mail_templates/list.html",
        kinds=mailtemplates.KINDS,
        locales=mailtemplates.LOCALES,
        kind_labels=mailtemplates.KIND_LABELS,
        edited=mailtemplates.all_stored(),
    )


def _template_or_404(kind: str, locale: str) -> None:
    from portal.staff import mailtemplates

    require_roles(*TEMPLATE_ROLES)
    if kind not in mailtemplates.KINDS or locale not in mailtemplates.LOCALES:
        abort(404)


@bp.route("/mail-templates/<kind>/<locale>", methods=["GET", "POST"])
def mail_template_edit(kind: str, locale: str) -> ResponseReturnValue:
    from portal.extensions import db
    from portal.staff import mailtemplates

    _template_or_404(kind, locale)
    template = mailtemplates.stored(kind, locale)
    form = MailTemplateForm(kind)
    if request.method == "GET":
        if template is not None:
            form.subject.data = template.subject
            form.body_text.data = template.body_text
            form.body_html.data = template.body_html or ""
        else:
            form.subject.data, form.body_text.data = mailtemplates.default_source(kind, locale)
    preview = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            if form.save.data:
                mailtemplates.save(
                    kind,
                    locale,
                    form.subject.data,
                    form.body_text.data,
                    form.body_html.data,
                    current_user.id,
                )
                db.session.commit()
                flash(_("The template was saved."), "success")
                return redirect(url_for("staff.mail_template_edit", kind=kind, locale=locale))
        else:
            status = 422
    if status == 200:
        try:
            with force_locale(locale):
                preview = mailtemplates.render(
                    kind,
                    form.subject.data or "",
                    form.body_text.data or "",
                    form.body_html.data,
                    mailtemplates.SAMPLES[kind],
                )
        except mailtemplates.TemplateProblem:
            preview = None
    return render_template(
        "staff/mail_templates/edit.html",
        form=form,
        reset_form=ResetForm(),
        kind=kind,
        locale=locale,
        kind_label=mailtemplates.KIND_LABELS[kind],
        variables=mailtemplates.VARIABLES[kind],
        template=template,
        preview=preview,
    ), status


@bp.route("/mail-templates/<kind>/<locale>/reset", methods=["POST"])
def mail_template_reset(kind: str, locale: str) -> ResponseReturnValue:
    from portal.extensions import db
    from portal.staff import mailtemplates

    _template_or_404(kind, locale)
    form = ResetForm()
    if not form.validate_on_submit():
        abort(400)
    if mailtemplates.reset(kind, locale):
        db.session.commit()
    flash(_("The template is back to the default."), "success")
    return redirect(url_for("staff.mail_template_edit", kind=kind, locale=locale))


def _department_choices() -> list[tuple[int, str]]:
    from sqlalchemy import select

    from portal.accounts.models import Department
    from portal.extensions import db

    departments = db.session.scalars(select(Department).order_by(Department.name))
    if current_user.has_any_role("manager", "admin"):
        return [(d.id, d.name) for d in departments]
    own = {d.id for d in current_user.departments}
    return [(d.id, d.name) for d in departments if d.id in own]


SOURCE_LABELS = {
    "search": _l("Search engine"),
    "social": _l("Social media"),
    "friend": _l("A friend"),
    "advert": _l("Advertisement"),
    "press": _l("News or review"),
    "shop": _l("In a shop"),
    "other": _l("Other"),
    "unknown": _l("Not given"),
}
STAGE_LABELS = {
    "exploration": _l("Exploration"),
    "awareness": _l("Awareness"),
    "expansion": _l("Expansion"),
    "commitment": _l("Commitment"),
    "dissolution": _l("Dissolution"),
}


def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source))


def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"source_label": source_label, "stage_label": stage_label}


register_nav(
    "staff.dashboard",
    _l("Staff"),
    has_role("agent", "moderator", "manager", "admin"),
    order=80,
    prefix="/staff",
)
register_staff_nav("staff.dashboard", _l("Dashboard"), has_role(*INSIGHT_ROLES), order=0)
register_staff_nav(
    "staff.customers",
    _l("Customers"),
    has_role(*INSIGHT_ROLES),
    order=10,
    prefix="/staff/customers",
)
register_staff_nav(
    "staff.mail_templates",
    _l("Mail templates"),
    has_role(*TEMPLATE_ROLES),
    order=70,
    prefix="/staff/mail-templates",
)
