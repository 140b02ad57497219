"""Who is asked, and how: audiences, invitations with single-use links, triggers, reminders.

Consent rules:
- Every survey invitation is "survey mail". A customer who used the unsubscribe link (or
  turned survey invitations off at /surveys) gets none, whatever the audience.
- Surveys sent to everyone or to a segment are unsolicited, so they also need the
  customer's marketing consent (``User.newsletter_consent``); withdrawing it stops them.
- Surveys sent by a trigger (after delivery, after a resolved complaint, on lapsing) follow
  up on the customer's own order or request, like service mail, so they need no marketing
  consent, but the survey opt-out still applies.
- Deleted or deactivated accounts and staff-only accounts are never asked.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import String, and_, cast, exists, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select

from portal.accounts.models import CustomerValue, Role, User
from portal.core.db import utcnow
from portal.core.urls import external_url
from portal.extensions import db
from portal.jobs.outbox import queue_mail
from portal.surveys.models import Invitation, Survey, SurveyOptOut
from portal.surveys.services import SurveyRuleError, ensure_builtin_surveys

log = logging.getLogger(__name__)

INVITATION_VALID_DAYS = 30
REMINDER_AFTER_DAYS = 3
TOKEN_BYTES = 32  # 256 bits of randomness in every link
MANUAL_OCCASION = "send"
# How far back the delivery trigger looks, so a new installation does not mail old orders.
DELIVERY_LOOKBACK_DAYS = 14


# --- tokens and links -------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="survey-unsubscribe")


def unsubscribe_token(user: User) -> str:
    return str(_unsubscribe_serializer().dumps({"u": user.id}))


def user_for_unsubscribe_token(token: str) -> User | None:
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    return db.session.get(User, user_id) if isinstance(user_id, int) else None


def unsubscribe_headers(user: User) -> tuple[str, dict[str, str]]:
    """The unsubscribe link for the mail body and the RFC 2369/8058 headers."""
    link = external_url("surveys.unsubscribe", token=unsubscribe_token(user))
    return link, {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# --- opt-out ----------------------------------------------------------------------------------


def is_opted_out(user: User) -> bool:
    return db.session.get(SurveyOptOut, user.id) is not None


def opt_out(user: User, *, source: str = "link") -> bool:
    """Stop survey invitations for ``user``; True when this call changed anything."""
    if is_opted_out(user):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(SurveyOptOut(user_id=user.id, source=source))
    except IntegrityError:
        return False
    return True


def opt_in(user: User) -> None:
    record = db.session.get(SurveyOptOut, user.id)
    if record is not None:
        db.session.delete(record)
        db.session.flush()


# --- audiences --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Everyone with consent, optionally narrowed to a segment."""

    golden: bool = False
    lapsed: bool = False
    stage: str | None = None
    source: str | None = None
    bought_from: date | None = None
    bought_to: date | None = None

    @property
    def is_segment(self) -> bool:
        return bool(
            self.golden
            or self.lapsed
            or self.stage
            or self.source
            or self.bought_from
            or self.bought_to
        )


def _day_start(day: date) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time.min, tzinfo=UTC)


def segment_conditions(audience: Audience) -> list[Any]:
    """SQL conditions on ``User`` for the segment part of ``audience`` (shared with results)."""
    from portal.orders.models import Order

    conditions: list[Any] = []
    value_conditions: list[Any] = []
    if audience.golden:
        value_conditions.append(CustomerValue.is_golden.is_(True))
    if audience.lapsed:
        value_conditions.append(CustomerValue.is_lapsed.is_(True))
    if audience.stage:
        value_conditions.append(CustomerValue.stage == audience.stage)
    if value_conditions:
        conditions.append(
            exists(
                select(CustomerValue.user_id).where(
                    CustomerValue.user_id == User.id, *value_conditions
                )
            )
        )
    if audience.source:
        conditions.append(User.acquisition_source == audience.source)
    if audience.bought_from or audience.bought_to:
        order_conditions = [Order.user_id == User.id, Order.status.not_in(("cancelled",))]
        if audience.bought_from:
            order_conditions.append(Order.placed_at >= _day_start(audience.bought_from))
        if audience.bought_to:
            order_conditions.append(
                Order.placed_at < _day_start(audience.bought_to + timedelta(days=1))
            )
        conditions.append(exists(select(Order.id).where(*order_conditions)))
    return conditions


def _reachable_conditions() -> list[Any]:
    return [
        User.active.is_(True),
        User.deleted_at.is_(None),
        User.roles.any(Role.name == "customer"),
        ~exists(select(SurveyOptOut.user_id).where(SurveyOptOut.user_id == User.id)),
    ]


def audience_query(audience: Audience) -> Select[Any]:
    return select(User).where(
        *_reachable_conditions(),
        User.newsletter_consent.is_(True),
        *segment_conditions(audience),
    )


def count_audience(audience: Audience, survey: Survey | None = None) -> int:
    """How many customers a send would reach (excluding those already asked)."""
    query = audience_query(audience)
    if survey is not None:
        query = query.where(~_already_invited(survey, MANUAL_OCCASION))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _already_invited(survey: Survey, occasion: str) -> Any:
    return exists(
        select(Invitation.id).where(
            Invitation.survey_id == survey.id,
            Invitation.user_id == User.id,
            Invitation.occasion == occasion,
        )
    )


def may_receive_triggered(user: User) -> bool:
    if not user.active or user.deleted_at is not None or "customer" not in user.role_names:
        return False
    return not is_opted_out(user)


# --- invitations ------------------------------------------------------------------------------


def recipient_locale(user: User) -> str:
    from portal.core.i18n import normalise_locale

    return normalise_locale(user.locale) or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _queue_invitation_mail(
    invitation: Invitation, user: User, token: str, *, reminder: bool = False
) -> None:
    survey = invitation.survey
    locale = invitation.locale
    link = external_url("surveys.answer", token=token)
    unsubscribe_link, headers = unsubscribe_headers(user)
    with force_locale(locale):
        title = survey.text("title", locale)
        subject = (
            gettext("Reminder: %(title)s", title=title)
            if reminder
            else gettext("Your opinion, please: %(title)s", title=title)
        )
    queue_mail(
        to=user.email,
        template="survey_reminder" if reminder else "survey_invitation",
        subject=subject,
        context={
            "name": user.display_name,
            "title": title,
            "intro": survey.text("intro", locale),
            "link": link,
            "unsubscribe_link": unsubscribe_link,
            "expires_on": format_date(invitation.expires_at.date(), "long", locale=locale),
            "question_count": sum(1 for q in survey.questions if not q.hidden),
        },
        locale=locale,
        user_id=user.id,
        headers=headers,
        bulk=True,
    )


def invite(
    survey: Survey, user: User, occasion: str, *, now: datetime | None = None
) -> Invitation | None:
    """Create one invitation and queue its mail; None when this occasion was already used.

    The unique constraint on (survey, user, occasion) decides, so two concurrent calls
    invite once.
    """
    now = now or utcnow()
    # The constraint decides under concurrency; the look-up first avoids a savepoint
    # rollback in the usual case (rolling one back forgets mail queued earlier for
    # inline delivery; the outbox rows themselves stay and the worker sends them).
    if (
        db.session.scalar(
            select(Invitation.id).where(
                Invitation.survey_id == survey.id,
                Invitation.user_id == user.id,
                Invitation.occasion == occasion[:80],
            )
        )
        is not None
    ):
        return None
    token = new_token()
    invitation = Invitation(
        survey_id=survey.id,
        user_id=user.id,
        occasion=occasion[:80],
        token_hash=hash_token(token),
        locale=recipient_locale(user),
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_VALID_DAYS),
        draft_answers={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except IntegrityError:
        return None
    invitation.survey = survey
    _queue_invitation_mail(invitation, user, token)
    return invitation


def send_survey(survey: Survey, audience: Audience, *, now: datetime | None = None) -> int:
    """Invite everyone in ``audience`` not yet invited to ``survey``; returns how many."""
    if survey.status != "active":
        raise SurveyRuleError(_l("Only an active survey can be sent."))
    query = audience_query(audience).where(~_already_invited(survey, MANUAL_OCCASION))
    sent = 0
    for user in db.session.scalars(query.order_by(User.id)).all():
        if invite(survey, user, MANUAL_OCCASION, now=now) is not None:
            sent += 1
    db.session.flush()
    return sent


# --- triggers ---------------------------------------------------------------------------------


def occasion_for(trigger: str, context: dict[str, Any]) -> str:
    """The occasion key that makes a trigger fire once per customer and event."""
    if "occasion" in context:
        return str(context["occasion"])
    if trigger == "delivery":
        order_id = context.get("order_id") or getattr(context.get("order"), "id", None)
        if order_id is None:
            raise ValueError("the delivery trigger needs order_id (or order)")
        return f"order:{order_id}"
    if trigger == "complaint_resolved":
        reference = context.get("reference") or getattr(context.get("item"), "reference", None)
        if not reference:
            raise ValueError("the complaint trigger needs reference (or item)")
        return f"feedback:{reference}"
    if trigger == "lapsed":
        lapsed_at = context.get("lapsed_at")
        return f"lapse:{lapsed_at.date().isoformat()}" if lapsed_at else "lapse"
    raise ValueError(f"unknown trigger {trigger!r}")


def invite_for_trigger(
    trigger: str,
    user: User,
    *,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Invitation | None:
    """Invite ``user`` to the survey of ``trigger`` once per occasion.

    Called by other features: ``invite_for_trigger("complaint_resolved", user,
    context={"reference": item.reference})`` when a complaint is resolved;
    ``invite_for_trigger("delivery", user, context={"order_id": order.id})``;
    ``invite_for_trigger("lapsed", user, context={"lapsed_at": value.lapsed_at})``.
    Returns None when the survey is missing or not active, the customer may not be asked,
    or this occasion has been used already.
    """
    survey = ensure_builtin_surveys().get(trigger)
    if survey is None or survey.status != "active" or not may_receive_triggered(user):
        return None
    return invite(survey, user, occasion_for(trigger, context or {}), now=now)


def invite_after_delivery(now: datetime | None = None) -> int:
    """Periodic: the delivery survey, SURVEY_AFTER_DELIVERY_DAYS after each delivery."""
    from portal.orders.models import Order

    now = now or utcnow()
    survey = ensure_builtin_surveys()["delivery"]
    if survey.status != "active":
        return 0
    due = now - timedelta(days=current_app.config["SURVEY_AFTER_DELIVERY_DAYS"])
    orders = db.session.execute(
        select(Order.id, Order.user_id).where(
            Order.status == "delivered",
            Order.delivered_at <= due,
            Order.delivered_at > due - timedelta(days=DELIVERY_LOOKBACK_DAYS),
            ~exists(
                select(Invitation.id).where(
                    Invitation.survey_id == survey.id,
                    Invitation.user_id == Order.user_id,
                    Invitation.occasion == literal("order:", String) + cast(Order.id, String),
                )
            ),
        )
    ).all()
    sent = 0
    for order_id, user_id in orders:
        user = db.session.get(User, user_id)
        if user is not None and invite_for_trigger(
            "delivery", user, context={"order_id": order_id}, now=now
        ):
            sent += 1
    return sent


def invite_lapsed(now: datetime | None = None) -> int:
    """Periodic: the exit survey for each customer who lapsed (once per lapse)."""
    now = now or utcnow()
    survey = ensure_builtin_surveys()["lapsed"]
    if survey.status != "active":
        return 0
    rows = db.session.execute(
        select(CustomerValue.user_id, CustomerValue.lapsed_at).where(
            CustomerValue.is_lapsed.is_(True)
        )
    ).all()
    sent = 0
    for user_id, lapsed_at in rows:
        user = db.session.get(User, user_id)
        if user is not None and invite_for_trigger(
            "lapsed", user, context={"lapsed_at": lapsed_at}, now=now
        ):
            sent += 1
    return sent


# --- reminders --------------------------------------------------------------------------------


def send_reminders(now: datetime | None = None) -> int:
    """Periodic: one reminder, 3 days on, to whoever has not answered (and may be asked)."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Invitation)
        .join(Survey, Survey.id == Invitation.survey_id)
        .join(User, User.id == Invitation.user_id)
        .where(
            Invitation.responded_at.is_(None),
            Invitation.reminded_at.is_(None),
            Invitation.created_at <= now - timedelta(days=REMINDER_AFTER_DAYS),
            Invitation.expires_at > now,
            Survey.status == "active",
            *_reachable_conditions(),
            # A broadcast's reminder also needs the consent the broadcast needed.
            or_(Invitation.occasion != MANUAL_OCCASION, User.newsletter_consent.is_(True)),
        )
        .order_by(Invitation.id)
    ).all()
    sent = 0
    for invitation in candidates:
        token = new_token()
        # Claim the reminder: only the run that flips reminded_at sends it.
        result: Any = db.session.execute(
            update(Invitation)
            .where(
                and_(
                    Invitation.id == invitation.id,
                    Invitation.reminded_at.is_(None),
                    Invitation.responded_at.is_(None),
                )
            )
            .values(reminded_at=now, reminder_token_hash=hash_token(token))
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:
            continue
        db.session.refresh(invitation)
        user = db.session.get(User, invitation.user_id)
        assert user is not None
        _queue_invitation_mail(invitation, user, token, reminder=True)
        sent += 1
    return sent
