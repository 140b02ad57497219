"""Flask-Security integration: mail through the outbox, the password policy, forms."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from flask_security import MailUtil, PasswordUtil, SQLAlchemyUserDatastore
from flask_security.forms import RegisterFormV2
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.accounts.models import ACQUISITION_SOURCES
from portal.jobs.outbox import queue_rendered


class OutboxMailUtil(MailUtil):
    """Flask-Security's mails (confirm, reset, change e-mail) go through the outbox."""

    def send_mail(
        self,
        template: str,
        subject: str,
        recipient: str | tuple[str, str],
        sender: str | tuple[str, str],
        body: str | None,
        html: str | None,
        **kwargs: Any,
    ) -> None:
        user = kwargs.get("user")
        to = recipient[1] if isinstance(recipient, tuple) else recipient
        queue_rendered(
            to=str(to),
            subject=str(subject),
            text=body or "",
            html=html,
            template=f"security/{template}",
            user_id=getattr(user, "id", None),
        )


@functools.cache
def common_passwords() -> frozenset[str]:
    """The common-password list that ships with zxcvbn (about 30,000 entries)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


class HashingOutsideTransactions:
    """The password hashing context, run with no database transaction open.

    Argon2 is slow on purpose (tens to hundreds of milliseconds, more on a busy machine). A
    sign-in is a POST, so on SQLite its transaction starts with BEGIN IMMEDIATE and holds the
    write lock from its first query: hashing inside it queued every concurrent sign-in (and
    every other writer) behind the hash, and under load requests failed with "database is
    locked". Before hashing or verifying, a transaction that has only read is ended (loaded
    objects stay loaded); the writes that follow (sign-in tracking) start a short one. The
    sign-in itself starts with a reading transaction (``READ_FIRST_ENDPOINTS``).
    """

    def __init__(self, context: Any) -> None:
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def hash(self, *args: Any, **kwargs: Any) -> Any:
        self._release()
        return self._context.hash(*args, **kwargs)

    def verify(self, *args: Any, **kwargs: Any) -> Any:
        self._release()
        return self._context.verify(*args, **kwargs)

    @staticmethod
    def _release() -> None:
        from flask import has_app_context

        from portal.core.db import release_idle_transaction, write_intent
        from portal.extensions import db

        if has_app_context():
            release_idle_transaction(db.session())
            # What follows (sign-in tracking, a new hash) writes.
            write_intent.set(True)


class PortalPasswordUtil(PasswordUtil):
    def validate(self, password: str, is_register: bool, **kwargs: Any) -> tuple[list | None, str]:
        errors, normalised = super().validate(password, is_register, **kwargs)
        if errors:
            return errors, normalised
        lowered = normalised.lower()
        emails = [
            str(kwargs.get("email") or ""),
            str(getattr(kwargs.get("user"), "email", "") or ""),
        ]
        if lowered in common_passwords() or lowered.rstrip("0123456789!") in common_passwords():
            return [
                str(_l("This password is too common. Choose one that is harder to guess."))
            ], normalised
        if any(email and lowered == email.lower() for email in emails):
            return [str(_l("Your password cannot be your e-mail address."))], normalised
        return None, normalised


def acquisition_choices() -> list[tuple[str, Any]]:
    labels = {
        "search": _l("A search engine"),
        "social": _l("Social media"),
        "friend": _l("A friend told me"),
        "advert": _l("An advertisement"),
        "press": _l("News or a review"),
        "shop": _l("In a shop"),
        "other": _l("Other"),
    }
    return [("", _l("Prefer not to say"))] + [(key, labels[key]) for key in ACQUISITION_SOURCES]


class PortalRegisterForm(RegisterFormV2):
    name = StringField(
        _l("Your name"),
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    acquisition_source = SelectField(
        _l("How did you hear about us?"),
        choices=acquisition_choices,
        validators=[Optional()],
        validate_choice=True,
    )
    acquisition_other = StringField(
        _l("If other, where?"), validators=[Optional(), Length(max=120)]
    )
    referrer_code = StringField(
        _l("Referral code (optional)"), validators=[Optional(), Length(max=16)]
    )
    newsletter_consent = BooleanField(
        _l("Send me the newsletter (you can unsubscribe at any time)")
    )

    def validate(self, **kwargs: Any) -> bool:
        valid = super().validate(**kwargs)
        # One spelling per address, so look-ups and uniqueness do not depend on case.
        if self.email.data:
            self.email.data = self.email.data.strip().lower()
        return valid


#: Figures of the signed-in user that every page shows (the unread notifications' count in
#: the navigation), read by the user loader's own statement instead of by one more statement
#: each: name -> a function that builds a scalar subquery correlated to the user's id.
#: Registered when the app is made, before the first request builds the statement.
USER_FIGURES: dict[str, Callable[[], Any]] = {}

_FIGURES_KEY = "signed_in_user_figures"


def figure_of_loaded_user(name: str, user_id: int) -> Any:
    """A figure the loader read with user ``user_id`` in this request, or None (not loaded
    this request, another user, or forgotten since)."""
    loaded = g.get(_FIGURES_KEY) if has_app_context() else None
    if loaded is None or loaded[0] != user_id:
        return None
    return loaded[1].get(name)


def forget_figure_of_loaded_user(name: str) -> None:
    """Called by what changes a figure during the request, so that it is read again."""
    if has_app_context() and (loaded := g.get(_FIGURES_KEY)) is not None:
        loaded[1].pop(name, None)


class PortalUserDatastore(SQLAlchemyUserDatastore):
    """Flask-Security's datastore; the signed-in user of each request loads with its roles.

    Every request with a session looks its user up by ``fs_uniquifier`` (the user loader),
    and then Flask-Principal, the navigation and the role guards read the user's roles: two
    queries, each built, keyed and compiled afresh. Here one prepared statement loads the
    user and its roles together (an outer join through the role memberships, one row per
    role, both by index), straight from the database on every request: a changed role, a deactivated account
    or a changed ``fs_uniquifier`` takes effect on the next request, as before. The same
    statement reads the USER_FIGURES.
    """

    #: The statement, and the names of the figures it reads.
    _by_uniquifier: tuple[Any, tuple[str, ...]] | None = None

    def find_user(self, case_insensitive: bool = False, **kwargs: Any) -> Any:
        if case_insensitive or list(kwargs) != ["fs_uniquifier"]:
            return super().find_user(case_insensitive=case_insensitive, **kwargs)
        return self.find_user_with_roles(str(kwargs["fs_uniquifier"]))

    def _statement(self) -> tuple[Any, tuple[str, ...]]:
        from sqlalchemy import bindparam, select

        names = tuple(USER_FIGURES)
        if self._by_uniquifier is None or self._by_uniquifier[1] != names:
            user_model: Any = self.user_model
            role_model: Any = self.role_model
            # Two flat outer joins, not the nested join the relationship would give: SQLite
            # materialises a nested join over every membership before it looks at the user.
            memberships = user_model.roles.property.secondary
            figures = [USER_FIGURES[name]().label(name) for name in names]
            statement = (
                select(user_model, role_model, *figures)
                .outerjoin(memberships, memberships.c.user_id == user_model.id)
                .outerjoin(role_model, role_model.id == memberships.c.role_id)
                .where(user_model.fs_uniquifier == bindparam("uniquifier"))
            )
            type(self)._by_uniquifier = (statement, names)
        return self._by_uniquifier  # type: ignore[return-value]

    def find_user_with_roles(self, uniquifier: str) -> Any:
        from sqlalchemy import inspect
        from sqlalchemy.orm.attributes import set_committed_value

        statement, names = self._statement()
        rows = self.db.session.execute(statement, {"uniquifier": uniquifier}).all()
        if not rows:
            return None
        user = rows[0][0]
        if names:
            setattr(g, _FIGURES_KEY, (user.id, dict(zip(names, rows[0][2:], strict=True))))
        # Roles already loaded in this session (and perhaps changed, not yet flushed) stay.
        if "roles" in inspect(user).unloaded:
            roles = [row[1] for row in rows if row[1] is not None]
            set_committed_value(user, "roles", roles)
        return user
