"""Form helpers shared by features."""

from __future__ import annotations

from typing import Any, ClassVar

from markupsafe import Markup, escape
from wtforms import SelectField
from wtforms.widgets import Select, html_params


class IntegerSelectField(SelectField):
    """A select whose values are integers, with an empty choice meaning None."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", self._coerce)
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def iter_choices(self) -> Any:
        # The empty choice must post "" (not "None"), so that Optional() stops validation.
        choices = []
        for choice in super().iter_choices():
            value, *rest = choice
            choices.append(("" if value is None else value, *rest))
        return choices

    @staticmethod
    def _coerce(value: Any) -> int | None:
        if value in (None, "", "None"):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None


class CachedOptionsSelect(Select):
    """A select whose long, fixed option list (time zones) is rendered once per language.

    Rendering some 600 options through WTForms took most of the profile page's time; the
    options never change, only which one is selected.
    """

    _cache: ClassVar[dict[tuple[str, str], str]] = {}

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        from flask_babel import get_locale

        key = (field.name, str(get_locale()))
        options = self._cache.get(key)
        if options is None:
            options = "".join(
                str(self.render_option(value, label, False))
                for value, label, *_rest in field.iter_choices()
            )
            self._cache[key] = options
        if field.data not in (None, ""):
            needle = f'<option value="{escape(field.data)}">'
            options = options.replace(needle, f'<option selected value="{escape(field.data)}">', 1)
        kwargs.setdefault("id", field.id)
        # Every part is escaped: html_params and render_option escape, the value above too.
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704
