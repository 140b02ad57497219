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


def test_language_cached_select_renders_as_wtforms_does(app):
    """The same markup as WTForms' own Select, whatever is chosen (nothing, the empty
    choice, a value, an unknown value), in each language, with extra attributes."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l
    from wtforms.widgets import Select

    from portal.core.forms import LanguageCachedSelect

    choices = [("", _l("All orders")), ("shipped", _l("Shipped")), ("a&b", "Tom & <Jerry>")]

    class Cached(FlaskForm):
        status = SelectField("Status", choices=choices, widget=LanguageCachedSelect())

    class Plain(FlaskForm):
        status = SelectField("Status", choices=choices, widget=Select())

    for language in ("en", "lv", "en"):
        for data in (None, "", "shipped", "a&b", "lost"):
            with app.test_request_context(), force_locale(language):
                cached = Cached(meta={"csrf": False}, data={"status": data})
                plain = Plain(meta={"csrf": False}, data={"status": data})
                for attributes in (
                    {},
                    {"class_": "form-select is-invalid", "aria-invalid": "true"},
                ):
                    assert str(cached.status(**attributes)) == str(plain.status(**attributes))
    with app.test_request_context(), force_locale("lv"):
        html = str(Cached(meta={"csrf": False}, data={"status": "shipped"}).status())
        assert '<option selected value="shipped">Nosūtīts</option>' in html
        assert '<option value="a&amp;b">Tom &amp; &lt;Jerry&gt;</option>' in html
