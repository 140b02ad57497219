"""Community forms. They validate; they never write."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import IntegerSelectField

BODY_MAX = 20_000


def flag_reason_choices() -> list[tuple[str, Any]]:
    return [
        ("spam", _l("Spam or advertising")),
        ("offensive", _l("Offensive or abusive")),
        ("off-topic", _l("Off-topic")),
        ("other", _l("Something else")),
    ]


class TopicForm(FlaskForm):
    category = IntegerSelectField(_l("Category"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=5, max=200)])
    body = TextAreaField(
        _l("Your question or story"), validators=[DataRequired(), Length(min=2, max=BODY_MAX)]
    )
    submit = SubmitField(_l("Publish topic"))


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(min=2, max=BODY_MAX)])
    submit = SubmitField(_l("Post reply"))


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(min=5, max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(min=2, max=BODY_MAX)])
    submit = SubmitField(_l("Save changes"))


class FlagForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=flag_reason_choices, validators=[InputRequired()])
    note = TextAreaField(
        _l("Anything moderators should know (optional)"), validators=[Length(max=500)]
    )
    submit = SubmitField(_l("Report to moderators"))


class ActionForm(FlaskForm):
    """A button: vote, accept, follow, delete. Only the CSRF token is checked."""


class SubscriptionForm(FlaskForm):
    level = SelectField(
        _l("Notifications"),
        choices=[
            ("watching", _l("Follow")),
            ("muted", _l("Mute")),
            ("none", _l("Default")),
        ],
    )


class ModerationForm(FlaskForm):
    action = SelectField(
        _l("Action"),
        choices=[
            ("approve", _l("Approve")),
            ("hide", _l("Hide")),
            ("restore", _l("Restore")),
            ("delete", _l("Delete")),
            ("lock", _l("Lock topic")),
            ("unlock", _l("Unlock topic")),
            ("pin", _l("Pin topic")),
            ("unpin", _l("Unpin topic")),
        ],
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class MoveForm(FlaskForm):
    category = IntegerSelectField(_l("Move to"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class SuspendForm(FlaskForm):
    member_id = IntegerField(_l("Member number"), validators=[InputRequired()])
    days = IntegerField(_l("Days"), default=7, validators=[InputRequired(), NumberRange(1, 365)])
    reason = StringField(
        _l("Reason (shown to the member)"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Suspend"))


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
