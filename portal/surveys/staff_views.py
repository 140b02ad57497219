"""/staff/surveys: build, translate, preview, send and read the results."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.core.auth import guard_blueprint
from portal.surveys import charts, results, sending, services
from portal.surveys.forms import (
    QUESTION_TYPE_LABELS,
    ActionForm,
    AudienceForm,
    MoveForm,
    QuestionForm,
    ResultFilterForm,
    StatusForm,
    SurveyForm,
    translation_form,
)
from portal.surveys.models import Question, Survey

bp = Blueprint("surveys_staff", __name__, url_prefix="/staff/surveys")
guard_blueprint(bp, ("manager", "admin"))

LOCALE_NAMES = {
    "lv": "Latviešu",
    "pl": "Polski",
    "ru": "Русский",
    "zh_Hans": "简体中文",
    "ar": "العربية",
}


def _load_survey(survey_id: int) -> Survey:
    survey = services.get_survey(survey_id)
    if survey is None:
        abort(404)
    return survey


def _load_question(survey: Survey, question_id: int) -> Question:
    question = next((q for q in survey.questions if q.id == question_id), None)
    if question is None:
        abort(404)
    return question


def _audience(form: Any) -> sending.Audience:
    return sending.Audience(
        golden=bool(form.golden.data),
        lapsed=bool(form.lapsed.data),
        stage=form.stage.data or None,
        source=form.source.data or None,
        bought_from=getattr(form, "bought_from", None) and form.bought_from.data,
        bought_to=getattr(form, "bought_to", None) and form.bought_to.data,
    )


@bp.route("")
def index() -> str:
    return render_template(
        "surveys/staff/index.html",
        surveys=services.list_surveys(),
        missing_builtin=services.missing_builtin_triggers(),
        action_form=ActionForm(),
    )


@bp.route("/builtin", methods=["POST"])
def install_builtin() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    services.ensure_builtin_surveys()
    flash(_("The automatic surveys are set up and active. Close one to stop it."), "success")
    return redirect(url_for("surveys_staff.index"))


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    form = SurveyForm()
    if form.validate_on_submit():
        survey = services.create_survey(
            title=form.title.data or "",
            intro=form.intro.data or "",
            thank_you=form.thank_you.data or "",
            created_by_id=current_user.id,
        )
        flash(_("Survey created. Now add its questions."), "success")
        return redirect(url_for("surveys_staff.edit", survey_id=survey.id))
    return render_template("surveys/staff/new.html", form=form), 422 if form.errors else 200


@bp.route("/<int:survey_id>", methods=["GET", "POST"])
def edit(survey_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    form = SurveyForm(obj=survey)
    if form.validate_on_submit():
        services.update_survey(
            survey,
            title=form.title.data or "",
            intro=form.intro.data or "",
            thank_you=form.thank_you.data or "",
        )
        flash(_("Survey saved."), "success")
        return redirect(url_for("surveys_staff.edit", survey_id=survey.id))
    return render_template(
        "surveys/staff/edit.html",
        survey=survey,
        form=form,
        action_form=ActionForm(),
        responses=services.response_count(survey),
        type_labels=QUESTION_TYPE_LABELS,
        locales=LOCALE_NAMES,
    ), 422 if form.errors else 200


@bp.route("/<int:survey_id>/status", methods=["POST"])
def change_status(survey_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_status(survey, form.status.data or "")
    except services.SurveyRuleError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("surveys_staff.edit", survey_id=survey.id))
    flash(_("The survey is now %(status)s.", status=_status_label(survey.status)), "success")
    return redirect(url_for("surveys_staff.edit", survey_id=survey.id))


def _status_label(status: str) -> str:
    return {"draft": _("draft"), "active": _("active"), "closed": _("closed")}.get(status, status)


@bp.route("/<int:survey_id>/questions/new", methods=["GET", "POST"])
def new_question(survey_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.add_question(
                survey,
                type=form.type.data or "",
                text=form.text.data or "",
                required=bool(form.required.data),
                choices=form.choice_list(),
            )
        except services.SurveyRuleError as error:
            getattr(form, error.field or "text").errors = [str(error.message)]
        else:
            flash(_("Question added."), "success")
            return redirect(url_for("surveys_staff.edit", survey_id=survey.id))
    return render_template(
        "surveys/staff/question.html", survey=survey, form=form, question=None
    ), 422 if form.errors else 200


@bp.route("/<int:survey_id>/questions/<int:question_id>", methods=["GET", "POST"])
def edit_question(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    question = _load_question(survey, question_id)
    form = QuestionForm(obj=question)
    if request.method == "GET":
        form.choices.data = "\n".join(question.choices or [])
    if form.validate_on_submit():
        try:
            services.update_question(
                question,
                type=form.type.data or "",
                text=form.text.data or "",
                required=bool(form.required.data),
                choices=form.choice_list(),
            )
        except services.SurveyRuleError as error:
            getattr(form, error.field or "text").errors = [str(error.message)]
        else:
            flash(_("Question saved."), "success")
            return redirect(url_for("surveys_staff.edit", survey_id=survey.id))
    return render_template(
        "surveys/staff/question.html",
        survey=survey,
        form=form,
        question=question,
        answered=services.question_answered(question),
    ), 422 if form.errors else 200


@bp.route("/<int:survey_id>/questions/<int:question_id>/move", methods=["POST"])
def move_question(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    question = _load_question(survey, question_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.move_question(question, form.direction.data or "")
    return redirect(url_for("surveys_staff.edit", survey_id=survey.id) + "#questions")


@bp.route("/<int:survey_id>/questions/<int:question_id>/remove", methods=["POST"])
def remove_question(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    question = _load_question(survey, question_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = services.remove_question(question)
    if outcome == "hidden":
        flash(_("The question has answers, so it is hidden instead of deleted."), "info")
    else:
        flash(_("Question deleted."), "success")
    return redirect(url_for("surveys_staff.edit", survey_id=survey.id) + "#questions")


@bp.route("/<int:survey_id>/questions/<int:question_id>/restore", methods=["POST"])
def restore_question(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    question = _load_question(survey, question_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.restore_question(question)
    flash(_("The question is shown again."), "success")
    return redirect(url_for("surveys_staff.edit", survey_id=survey.id) + "#questions")


@bp.route("/<int:survey_id>/translations/<locale>", methods=["GET", "POST"])
def translate(survey_id: int, locale: str) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    if locale not in LOCALE_NAMES:
        abort(404)
    form = translation_form(survey, services.translation_defaults(survey, locale))
    if form.validate_on_submit():
        services.set_translation(survey, locale, dict(form.data))
        flash(_("Translation saved."), "success")
        return redirect(url_for("surveys_staff.translate", survey_id=survey.id, locale=locale))
    question_fields = [
        (
            question,
            form[f"q{question.id}"],
            form[f"q{question.id}_choices"] if question.choices else None,
        )
        for question in survey.questions
    ]
    return render_template(
        "surveys/staff/translate.html",
        survey=survey,
        form=form,
        locale=locale,
        locale_name=LOCALE_NAMES[locale],
        locales=LOCALE_NAMES,
        question_fields=question_fields,
    ), 422 if form.errors else 200


@bp.route("/<int:survey_id>/preview")
def preview(survey_id: int) -> str:
    survey = _load_survey(survey_id)
    locale = request.args.get("lang", "en")
    if locale not in LOCALE_NAMES and locale != "en":
        locale = "en"
    return render_template(
        "surveys/staff/preview.html",
        survey=survey,
        questions=services.visible_questions(survey),
        survey_locale=locale,
        locales={"en": "English", **LOCALE_NAMES},
        values={},
        errors={},
    )


@bp.route("/<int:survey_id>/send", methods=["GET", "POST"])
def send(survey_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    form = AudienceForm()
    count: int | None = None
    status = 200
    if form.validate_on_submit():
        audience = _audience(form)
        if form.send.data:
            try:
                sent = sending.send_survey(survey, audience)
            except services.SurveyRuleError:
                flash(_("Only an active survey can be sent. Activate it first."), "danger")
                status = 409
            else:
                flash(_("%(count)s invitations queued.", count=sent), "success")
                return redirect(url_for("surveys_staff.edit", survey_id=survey.id))
        count = sending.count_audience(audience, survey)
    elif form.errors:
        status = 422
    return render_template("surveys/staff/send.html", survey=survey, form=form, count=count), status


def _result_filter(form: ResultFilterForm) -> results.ResultFilter:
    if not form.validate():
        return results.ResultFilter()
    return results.ResultFilter(
        audience=_audience(form),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        search=form.q.data or "",
    )


@bp.route("/<int:survey_id>/results")
def results_page(survey_id: int) -> ResponseReturnValue:
    survey = _load_survey(survey_id)
    form = ResultFilterForm(request.args)
    result_filter = _result_filter(form)
    outcome = results.survey_results(survey, result_filter)
    drawn = []
    for item in outcome.questions:
        bars = charts.bar_chart(item.distribution) if item.distribution else None
        trend = None
        if item.trend:
            low, high = {"nps": (-100, 100), "csat": (0, 100)}.get(
                item.score_kind or "", (0, float((item.question.scale or (0, 5))[1]))
            )
            trend = charts.line_chart(
                [(p.week.isoformat(), p.score) for p in item.trend], low=low, high=high
            )
        drawn.append((item, bars, trend))
    return render_template(
        "surveys/staff/results.html",
        survey=survey,
        form=form,
        outcome=outcome,
        drawn=drawn,
        contact_requests=results.contact_requests(survey, result_filter),
        csv_query=request.query_string.decode("utf-8", "replace"),
    ), 422 if form.errors else 200


@bp.route("/<int:survey_id>/results.csv")
def results_csv(survey_id: int) -> Response:
    survey = _load_survey(survey_id)
    form = ResultFilterForm(request.args)
    body = results.export_csv(survey, _result_filter(form))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="survey-{survey.id}-responses.csv"'},
    )
