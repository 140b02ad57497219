"""The order list filter (a GET form: it reads, never writes)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from portal.core.forms import LanguageCachedSelect
from portal.orders.models import ORDER_STATUSES
from portal.orders.services import STATUS_LABELS


def status_choices() -> list[tuple[str, Any]]:
    return [("", _l("All orders"))] + [(s, STATUS_LABELS[s]) for s in ORDER_STATUSES]


class OrderFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=status_choices,
        validate_choice=True,
        default="",
        widget=LanguageCachedSelect(),
    )
