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
