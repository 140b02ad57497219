"""The customer's side: answering from an e-mail link or in the portal, waiting surveys,
unsubscribing from survey mail."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_security import auth_required

from portal.accounts.models import User
from portal.core.db import write_intent
from portal.core.i18n import current_locale_code, select_locale
from portal.extensions import csrf, db
from portal.surveys import answering, sending
from portal.surveys.forms import AnswerForm, ContactForm, PreferenceForm, UnsubscribeForm
from portal.surveys.models import Invitation

bp = Blueprint("surveys", __name__)

# Expired, answered and closed invitations are gone for good (410); unknown ones are 404.
GONE_STATUS = {"answered": 410, "expired": 410, "closed": 410}


def _survey_locale(invitation_locale: str) -> str:
    """A visitor from an e-mail link reads the survey in the language it was sent in.

    Returns the page's locale code: what Flask-Babel's selector gives, without parsing it
    into a Babel locale (a POST that stores the answer and redirects renders nothing).
    """
    if not current_user.is_authenticated and "locale" not in session:
        session["locale"] = invitation_locale
    return select_locale()


def _unavailable(state: str) -> ResponseReturnValue:
    return render_template("surveys/unavailable.html", state=state), GONE_STATUS.get(state, 404)


def _answer(
    link: answering.Link, endpoint: str, thanks_endpoint: str, **url_values: Any
) -> ResponseReturnValue:
    """The answer page (GET) and its form (POST).

    A POST's CSRF token has been checked before the view by CSRFProtect (the form is not
    exempt), so the POST reads ``request.form`` directly instead of building the form again;
    the form object is only built to render the page.
    """
    state = link.state()
    if state != "open":
        return _unavailable(state)
    locale = _survey_locale(link.locale)
    spec = answering.survey_spec(link.survey_id, link.survey_version)
    values = dict(link.draft_answers or {})
    errors: dict = {}
    status = 200
    if request.method == "POST":
        parsed, values, errors = answering.parse_answers(spec.questions, request.form)
        if request.form.get("save", "") not in ("", "false"):  # as WTForms reads a button
            answering.save_draft(link.invitation_id, values)
            if request.form.get("autosave"):
                return "", 204
            flash(_("Your answers are saved. Come back to this page to finish."), "success")
            return redirect(url_for(endpoint, **url_values))
        if not errors:
            try:
                answering.submit_answers(link, spec, parsed, locale=locale)
            except answering.AlreadyAnswered:
                return _unavailable("answered")
            return redirect(url_for(thanks_endpoint, **url_values))
        status = 422
    return render_template(
        "surveys/answer.html",
        survey=spec,
        questions=spec.questions,
        survey_locale=locale,
        form=AnswerForm(),
        values=values,
        errors=errors,
        action=url_for(endpoint, **url_values),
    ), status


def _thanks(
    invitation: Invitation, *, contact_url: str, contact_form: ContactForm | None = None
) -> str:
    response = answering.response_for(invitation)
    if response is None:
        abort(404)
    locale = _survey_locale(invitation.locale)
    loop = answering.closing_the_loop(response)
    user = db.session.get(User, invitation.user_id)
    referral_url = (
        url_for("accounts.referral", code=user.referral_code, _external=True)
        if loop == "promoter" and user is not None and user.referral_code
        else None
    )
    contact = answering.contact_request_for(response) if loop == "detractor" else None
    return render_template(
        "surveys/thanks.html",
        survey=invitation.survey,
        survey_locale=locale,
        loop=loop,
        referral_url=referral_url,
        contact=contact,
        contact_form=contact_form or ContactForm(),
        contact_url=contact_url,
    )


def _contact(invitation: Invitation, *, thanks_url: str) -> ResponseReturnValue:
    response = answering.response_for(invitation)
    if response is None:
        abort(404)
    form = ContactForm()
    if not form.validate_on_submit():
        return _thanks(invitation, contact_url=request.path, contact_form=form), 422
    answering.request_contact(response, form.note.data)
    flash(_("Thank you. Our customer care team will get in touch with you."), "success")
    return redirect(thanks_url)


# --- by e-mail link ---------------------------------------------------------------------------


def _by_token(token: str) -> Invitation:
    invitation = answering.find_invitation(token)
    if invitation is None:
        abort(404)
    return invitation


@bp.route("/s/<token>", methods=["GET", "POST"])
def answer(token: str) -> ResponseReturnValue:
    # Reads first, without the write lock (SQLite): answering writes in a short transaction
    # of its own (answering.submit_answers, save_draft).
    write_intent.set(False)
    link = answering.link_for_token(token)
    if link is None:
        return _unavailable("unknown")
    return _answer(link, "surveys.answer", "surveys.thanks", token=token)


@bp.route("/s/<token>/thanks")
def thanks(token: str) -> ResponseReturnValue:
    return _thanks(_by_token(token), contact_url=url_for("surveys.contact", token=token))


@bp.route("/s/<token>/contact", methods=["POST"])
def contact(token: str) -> ResponseReturnValue:
    return _contact(_by_token(token), thanks_url=url_for("surveys.thanks", token=token))


# --- in the portal ----------------------------------------------------------------------------


def _own(invitation_id: int) -> Invitation:
    invitation = answering.get_own_invitation(invitation_id, current_user)
    if invitation is None:
        abort(404)
    return invitation


@bp.route("/surveys", methods=["GET", "POST"])
@auth_required()
def waiting() -> ResponseReturnValue:
    user = current_user._get_current_object()
    form = PreferenceForm()
    if form.validate_on_submit():
        if form.surveys_wanted.data:
            sending.opt_in(user)
        else:
            sending.opt_out(user, source="preferences")
        flash(_("Your choice is saved."), "success")
        return redirect(url_for("surveys.waiting"))
    form.surveys_wanted.data = not sending.is_opted_out(user)
    return render_template(
        "surveys/waiting.html",
        invitations=answering.waiting_invitations(user),
        survey_locale=current_locale_code(),
        form=form,
    )


@bp.route("/surveys/<int:invitation_id>", methods=["GET", "POST"])
@auth_required()
def answer_own(invitation_id: int) -> ResponseReturnValue:
    link = answering.own_link(invitation_id, current_user)
    if link is None:
        abort(404)
    return _answer(link, "surveys.answer_own", "surveys.thanks_own", invitation_id=invitation_id)


@bp.route("/surveys/<int:invitation_id>/thanks")
@auth_required()
def thanks_own(invitation_id: int) -> ResponseReturnValue:
    return _thanks(
        _own(invitation_id), contact_url=url_for("surveys.contact_own", invitation_id=invitation_id)
    )


@bp.route("/surveys/<int:invitation_id>/contact", methods=["POST"])
@auth_required()
def contact_own(invitation_id: int) -> ResponseReturnValue:
    return _contact(
        _own(invitation_id), thanks_url=url_for("surveys.thanks_own", invitation_id=invitation_id)
    )


# --- unsubscribing ----------------------------------------------------------------------------


@bp.route("/surveys/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click"; the signed token is the proof
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET asks for confirmation (link scanners must not unsubscribe anyone); POST does it."""
    user = sending.user_for_unsubscribe_token(token)
    if user is None:
        abort(404)
    if request.method == "POST":
        sending.opt_out(user, source="link")
        return render_template("surveys/unsubscribe.html", form=None, done=True)
    return render_template(
        "surveys/unsubscribe.html", form=UnsubscribeForm(), done=sending.is_opted_out(user)
    )


@bp.app_context_processor
def _waiting_surveys() -> dict[str, object]:
    def waiting_surveys() -> list[Invitation]:
        if not current_user.is_authenticated:
            return []
        return answering.waiting_invitations(current_user)

    return {"waiting_surveys": waiting_surveys}
