"""Staff forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

TOUCHPOINT_LABELS = {
    "call": _l("Call"),
    "email": _l("E-mail"),
    "gift": _l("Gift"),
    "meeting": _l("Meeting"),
    "note": _l("Note"),
    "coupon": _l("Coupon"),
    "thank_you": _l("Thank-you"),
    "birthday": _l("Birthday greeting"),
    "anniversary": _l("Anniversary greeting"),
}


class TouchpointForm(FlaskForm):
    kind = SelectField(
        _l("What happened"),
        choices=[
            (k, TOUCHPOINT_LABELS[k])
            for k in ("call", "email", "gift", "meeting", "note", "coupon")
        ],
        validators=[DataRequired()],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    coupon_code = StringField(
        _l("Coupon code (optional)"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9-]+$", message=_l("Letters, digits and dashes only.")),
        ],
    )
    submit = SubmitField(_l("Log it"))

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        valid = super().validate(extra_validators)
        if valid and self.kind.data == "coupon" and not self.coupon_code.data:
            self.coupon_code.errors = [str(_l("Give the coupon code."))]
            return False
        if valid and not (self.note.data or self.coupon_code.data):
            self.note.errors = [str(_l("Write a note or give a coupon code."))]
            return False
        return valid


class MailTemplateForm(FlaskForm):
    """A follow-up template; ``kind`` decides which variables its fields may use."""

    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=255)])
    body_text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20_000)])
    body_html = TextAreaField(_l("HTML (optional)"), validators=[Optional(), Length(max=20_000)])
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def __init__(self, kind: str, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.kind = kind

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        from portal.staff import mailtemplates

        valid = super().validate(extra_validators)
        for field, html in ((self.subject, False), (self.body_text, False), (self.body_html, True)):
            source = field.data or ""
            if not source.strip() or field.errors:
                continue
            try:
                mailtemplates.check_source(source, self.kind, html=html)
                mailtemplates.render_source(source, mailtemplates.SAMPLES[self.kind], html=html)
            except mailtemplates.TemplateProblem as problem:
                field.errors = [*field.errors, str(problem)]
                valid = False
        return valid


class ResetForm(FlaskForm):
    submit = SubmitField(_l("Reset to the default"))
