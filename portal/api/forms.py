"""Staff forms for API keys."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, SubmitField, widgets
from wtforms.validators import DataRequired, Length

from portal.api.models import API_SCOPES

SCOPE_LABELS = {
    "orders:write": _l("orders:write (create and update orders)"),
    "orders:read": _l("orders:read (read orders)"),
    "customers:read": _l("customers:read (find customers)"),
}


class ScopesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("Who uses the key, e.g. “Web shop”."),
    )
    scopes = ScopesField(
        _l("Scopes"),
        choices=[(scope, SCOPE_LABELS[scope]) for scope in API_SCOPES],
        validators=[DataRequired(message=_l("Choose at least one scope."))],
    )
    submit = SubmitField(_l("Create key"))


class RevokeForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))
