"""Forms for the profile and the data page. Forms validate; they never write."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.core.forms import CachedOptionsSelect, IntegerSelectField

_TIMEZONES = sorted(available_timezones())


def language_choices() -> list[tuple[str, str]]:
    return [("", str(_l("Use my browser's language")))] + list(
        current_app.config["LANGUAGES"].items()
    )


def timezone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in _TIMEZONES]


def month_choices() -> list[tuple[int | None, str]]:
    from babel.dates import get_month_names
    from flask_babel import get_locale

    # Stand-alone names: a month on its own, not inside a date ("январь", not "января").
    names = get_month_names("wide", context="stand-alone", locale=get_locale())
    return [(None, str(_l("—")))] + [(month, names[month]) for month in range(1, 13)]


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    preferred_name = StringField(
        _l("What should we call you?"),
        validators=[Optional(), Length(max=80)],
        render_kw={"autocomplete": "nickname"},
    )
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "tel", "type": "tel"},
    )
    address_line = StringField(
        _l("Street address"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "address-line1"},
    )
    postal_code = StringField(
        _l("Postal code"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "postal-code"},
    )
    city = StringField(
        _l("City"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "address-level2"},
    )
    country = StringField(
        _l("Country code"),
        validators=[Optional(), Length(min=2, max=2)],
        render_kw={"autocomplete": "country", "placeholder": "LV"},
    )
    locale = SelectField(_l("Language"), choices=language_choices, validators=[Optional()])
    timezone = SelectField(
        _l("Time zone"),
        choices=timezone_choices,
        validators=[DataRequired()],
        widget=CachedOptionsSelect(),
    )
    birthday_day = IntegerSelectField(
        _l("Birthday: day"),
        choices=lambda: [(None, "—")] + [(d, str(d)) for d in range(1, 32)],
        validators=[Optional(), NumberRange(min=1, max=31)],
    )
    birthday_month = IntegerSelectField(
        _l("Birthday: month"),
        choices=month_choices,
        validators=[Optional(), NumberRange(min=1, max=12)],
    )
    why_chose_us = TextAreaField(
        _l("Why did you choose us? (optional)"), validators=[Optional(), Length(max=2000)]
    )
    newsletter_consent = BooleanField(_l("Send me the newsletter"))
    submit = SubmitField(_l("Save profile"))

    def validate_birthday_day(self, field: IntegerSelectField) -> None:
        day, month = field.data, self.birthday_month.data
        if (day is None) != (month is None):
            raise ValidationError(_l("Give both the day and the month, or neither."))
        if day and month:
            days_in_month = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}.get(month, 31)
            if day > days_in_month:
                raise ValidationError(_l("That month has only %(days)s days.", days=days_in_month))

    def validate_country(self, field: StringField) -> None:
        if field.data:
            field.data = field.data.strip().upper()
            if not field.data.isalpha():
                raise ValidationError(_l("Use a two-letter country code such as LV or PL."))


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("I understand that my account and personal data will be erased."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Delete my account"))


class ExportForm(FlaskForm):
    submit = SubmitField(_l("Download my data (JSON)"))


class LogoutEverywhereForm(FlaskForm):
    submit = SubmitField(_l("Sign out on every device"))
