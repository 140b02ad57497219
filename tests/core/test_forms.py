"""Form helpers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField

from portal.core.forms import CachedOptionsSelect


class _Form(FlaskForm):
    zone = SelectField(
        "Zone", choices=[("UTC", "UTC"), ("Europe/Riga", "Riga <LV>")], widget=CachedOptionsSelect()
    )


def test_cached_select_marks_the_chosen_option_and_escapes(app):
    with app.test_request_context():
        first = _Form(meta={"csrf": False}, data={"zone": "Europe/Riga"})
        html = str(first.zone())
        assert '<option selected value="Europe/Riga">Riga &lt;LV&gt;</option>' in html
        assert '<option value="UTC">' in html
        second = _Form(meta={"csrf": False}, data={"zone": "UTC"})
        html = str(second.zone())
        assert '<option selected value="UTC">' in html
        assert '<option value="Europe/Riga">' in html
