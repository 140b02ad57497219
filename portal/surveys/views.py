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

from portal.accounts.models import User
from portal.core.auth import signed_in
from portal.core.db import write_intent
from portal.core.i18n import (
    current_locale_code,
    normalise_locale,
    select_locale,
    use_page_locale,
)
from portal.extensions import csrf, db
from portal.surveys import answering, sending
from portal.surveys.forms import AnswerForm, ContactForm, PreferenceForm, UnsubscribeForm
from portal.surveys.models import Invitation

bp = Blueprint("surveys", __name__)

# Expired, answered and closed invitations are gone for good (410); unknown ones are 404.
GONE_STATUS = {"answered": 410, "expired": 410, "closed": 410}


def _survey_locale(invitation_locale: str) -> str:
    """A visitor from an e-mail link reads the survey in the language it was sent in, and
    keeps it for the rest of the visit (the thanks page stores it in the session).

    Returns the page's locale code: what Flask-Babel's selector gives, without parsing it
    into a Babel locale.
    """
    if not current_user.is_authenticated and "locale" not in session:
        session["locale"] = invitation_locale
    return select_locale()


def _unavailable(state: str) -> ResponseReturnValue:
    return render_template("surveys/unavailable.html", state=state), GONE_STATUS.get(state, 404)


def _answer(
    link: answering.Link,
    endpoint: str,
    thanks_endpoint: str,
    *,
    token_link: bool,
    **url_values: Any,
) -> ResponseReturnValue:
    """The answer page (GET) and its form (POST).

    The signed-in path's form carries a CSRF token, checked before the view by CSRFProtect,
    so the POST reads ``request.form`` directly instead of building the form again; the form
    object is only built to render the page. The e-mail link's form carries none: the token
    in its URL is the credential (see ``answer``).

    The page carries its language in a hidden field, so a POST records the response in the
    language the questions were read in without resolving it again.
    """
    if token_link:
        # The language it was sent in, as _survey_locale chooses it, but stored nowhere: the
        # link's page and its POST neither write nor need a session.
        use_page_locale(link.locale)
    state = link.state()
    if state != "open":
        return _unavailable(state)
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
            locale = normalise_locale(request.form.get("locale")) or (
                select_locale() if token_link else _survey_locale(link.locale)
            )
            try:
                answering.submit_answers(link, spec, parsed, locale=locale)
            except answering.NotOpen as refused:
                use_page_locale(locale)
                return _unavailable(refused.state)
            return redirect(url_for(thanks_endpoint, **url_values))
        status = 422
    if not token_link:
        _survey_locale(link.locale)
    return _answer_page(
        spec,
        values=values,
        errors=errors,
        token_link=token_link,
        action=url_for(endpoint, **url_values),
    ), status


def _answer_page(
    spec: answering.SurveySpec,
    *,
    values: dict[str, Any],
    errors: dict[int, Any],
    token_link: bool,
    action: str,
) -> str:
    return render_template(
        "surveys/answer.html",
        survey=spec,
        questions=spec.questions,
        survey_locale=select_locale(),
        form=AnswerForm(meta={"csrf": not token_link}),
        values=values,
        errors=errors,
        action=action,
    )


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
@csrf.exempt
def answer(token: str) -> ResponseReturnValue:
    """The survey from an e-mail link, answered without signing in.

    Not CSRF-checked, on purpose: what a POST here may do is decided by the token in its URL
    alone (a random secret sent only to the customer, stored only as its hash), never by the
    visitor's cookies; the answer is recorded for the invitation's customer whoever is signed
    in. A forged cross-site POST must therefore carry the token, and whoever has the token
    can post it directly: a CSRF token would add no protection, while it made every answer
    read the session back (and lost what was typed once it expired). The signed-in path
    (``answer_own``) is authorised by the session and keeps CSRF. Nor does an answer load the
    signed-in user or read the session (portal.core.web.TOKEN_LINK_ENDPOINTS,
    portal.core.sessions).
    """
    # Reads without the write lock (SQLite): answering writes in a short transaction of its
    # own (answering.submit_by_token, submit_answers, save_draft).
    write_intent.set(False)
    if request.method == "POST":
        page_locale = normalise_locale(request.form.get("locale"))
        if page_locale and request.form.get("save", "") in ("", "false"):
            return _answer_by_token(token, page_locale)
    link = answering.link_for_token(token)
    if link is None:
        return _unavailable("unknown")
    return _answer(link, "surveys.answer", "surveys.thanks", token_link=True, token=token)


def _answer_by_token(token: str, page_locale: str) -> ResponseReturnValue:
    """The answers posted from the link's page: one write that claims the invitation, checks
    and stores them (answering.submit_by_token), no read before it. The page's language came
    with the form; a POST without it (a page from before it had one) takes ``_answer``."""
    try:
        answering.submit_by_token(token, request.form, locale=page_locale)
    except answering.InvalidAnswers as invalid:
        use_page_locale(invalid.locale)
        return _answer_page(
            invalid.spec,
            values=invalid.raw,
            errors=invalid.errors,
            token_link=True,
            action=url_for("surveys.answer", token=token),
        ), 422
    except answering.NotOpen as refused:
        use_page_locale(page_locale)
        return _unavailable(refused.state)
    return redirect(url_for("surveys.thanks", token=token))


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
@signed_in
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
@signed_in
def answer_own(invitation_id: int) -> ResponseReturnValue:
    link = answering.own_link(invitation_id, current_user)
    if link is None:
        abort(404)
    return _answer(
        link,
        "surveys.answer_own",
        "surveys.thanks_own",
        token_link=False,
        invitation_id=invitation_id,
    )


@bp.route("/surveys/<int:invitation_id>/thanks")
@signed_in
def thanks_own(invitation_id: int) -> ResponseReturnValue:
    return _thanks(
        _own(invitation_id), contact_url=url_for("surveys.contact_own", invitation_id=invitation_id)
    )


@bp.route("/surveys/<int:invitation_id>/contact", methods=["POST"])
@signed_in
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
