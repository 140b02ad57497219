"""Community forms. They validate; they never write."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import IntegerSelectField

BODY_MAX = 20_000


def flag_reason_choices() -> list[SelectChoice]:
    return [
        SelectChoice("spam", _l("Spam or advertising")),
        SelectChoice("offensive", _l("Offensive or abusive")),
        SelectChoice("off-topic", _l("Off-topic")),
        SelectChoice("other", _l("Something else")),
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
            SelectChoice("watching", _l("Follow")),
            SelectChoice("muted", _l("Mute")),
            SelectChoice("none", _l("Default")),
        ],
    )


class ModerationForm(FlaskForm):
    action = SelectField(
        _l("Action"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("hide", _l("Hide")),
            SelectChoice("restore", _l("Restore")),
            SelectChoice("delete", _l("Delete")),
            SelectChoice("lock", _l("Lock topic")),
            SelectChoice("unlock", _l("Unlock topic")),
            SelectChoice("pin", _l("Pin topic")),
            SelectChoice("unpin", _l("Unpin topic")),
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
