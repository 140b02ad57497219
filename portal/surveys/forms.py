# ruff: noqa: RUF001 - texts in other languages and typographic dashes are intended
"""Forms of the survey pages. They validate; services write."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from portal.accounts.models import ACQUISITION_SOURCES, RELATIONSHIP_STAGES
from portal.surveys.models import Survey

QUESTION_TYPE_LABELS = {
    "nps": _l("Net Promoter Score (0–10)"),
    "csat": _l("Satisfaction, CSAT (1–5)"),
    "ces": _l("Customer effort, CES (1–7)"),
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "rating": _l("Rating (1–5 stars)"),
    "text": _l("Free text"),
}

STAGE_LABELS = {
    "exploration": _l("Exploration (no order yet)"),
    "awareness": _l("Awareness (one order)"),
    "expansion": _l("Expansion (two or more orders)"),
    "commitment": _l("Commitment"),
    "dissolution": _l("Dissolution"),
}

SOURCE_LABELS = {
    "search": _l("A search engine"),
    "social": _l("Social media"),
    "friend": _l("A friend told me"),
    "advert": _l("An advertisement"),
    "press": _l("News or a review"),
    "shop": _l("In a shop"),
    "other": _l("Other"),
}


class SurveyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    intro = TextAreaField(
        _l("Introduction"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3}
    )
    thank_you = TextAreaField(
        _l("Thank-you text"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )


class QuestionForm(FlaskForm):
    type = SelectField(
        _l("Type"), choices=lambda: list(QUESTION_TYPE_LABELS.items()), validators=[DataRequired()]
    )
    text = TextAreaField(
        _l("Question"), validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 2}
    )
    choices = TextAreaField(
        _l("Choices"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 4}
    )
    required = BooleanField(_l("An answer is required"))

    def choice_list(self) -> list[str]:
        return [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]


class ActionForm(FlaskForm):
    """A bare POST with CSRF: status changes, moves, removals."""

    value = HiddenField()


class StatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf(("draft", "active", "closed"))])


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(("up", "down"))])


def _stage_choices() -> list[tuple[str, Any]]:
    return [("", _l("Any stage"))] + [(s, STAGE_LABELS[s]) for s in RELATIONSHIP_STAGES]


def _source_choices() -> list[tuple[str, Any]]:
    return [("", _l("Any source"))] + [(s, SOURCE_LABELS[s]) for s in ACQUISITION_SOURCES]


class _SegmentFields:
    golden = BooleanField(_l("Golden customers"))
    lapsed = BooleanField(_l("Lapsed customers"))
    stage = SelectField(_l("Relationship stage"), choices=_stage_choices, validators=[Optional()])
    source = SelectField(
        _l("How they heard about us"), choices=_source_choices, validators=[Optional()]
    )


class AudienceForm(_SegmentFields, FlaskForm):
    bought_from = DateField(_l("Bought from"), validators=[Optional()])
    bought_to = DateField(_l("Bought until"), validators=[Optional()])
    count = SubmitField(_l("Count recipients"))
    send = SubmitField(_l("Send invitations"))

    def validate_bought_to(self, field: Any) -> None:
        if field.data and self.bought_from.data and field.data < self.bought_from.data:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("The end date must not be before the start date."))


class ResultFilterForm(_SegmentFields, FlaskForm):
    class Meta:
        csrf = False  # a GET filter that changes nothing

    date_from = DateField(_l("Answered from"), validators=[Optional()])
    date_to = DateField(_l("Answered until"), validators=[Optional()])
    q = StringField(_l("Search the written answers"), validators=[Optional(), Length(max=200)])


class AnswerForm(FlaskForm):
    """The answer page's fields are drawn from the survey's questions; this carries CSRF."""

    save = SubmitField(_l("Save and finish later"))
    submit = SubmitField(_l("Send my answers"))


class ContactForm(FlaskForm):
    note = TextAreaField(
        _l("Anything you want us to know before we call or write? (optional)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Yes, please contact me"))


class UnsubscribeForm(FlaskForm):
    submit = SubmitField(_l("Stop survey invitations"))


class PreferenceForm(FlaskForm):
    surveys_wanted = BooleanField(_l("Send me survey invitations by e-mail"))
    submit = SubmitField(_l("Save"))


def translation_form(survey: Survey, data: dict[str, str]) -> FlaskForm:
    """A form with the survey's texts and one field per question (and its choices)."""

    class TranslationForm(FlaskForm):
        title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
        intro = TextAreaField(
            _l("Introduction"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3}
        )
        thank_you = TextAreaField(
            _l("Thank-you text"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
        )

    for question in survey.questions:
        setattr(
            TranslationForm,
            f"q{question.id}",
            TextAreaField(
                question.text, validators=[Optional(), Length(max=1000)], render_kw={"rows": 2}
            ),
        )
        if question.choices:
            setattr(
                TranslationForm,
                f"q{question.id}_choices",
                TextAreaField(
                    _l(
                        "Choices, one a line, in this order: %(choices)s",
                        choices=" / ".join(question.choices),
                    ),
                    validators=[Optional(), Length(max=4000)],
                    render_kw={"rows": len(question.choices)},
                ),
            )
    return TranslationForm(data=data)
