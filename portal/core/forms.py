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


class LanguageCachedSelect(Select):
    """A select whose choices depend on nothing but the language (a list filter's fixed
    statuses): each option is rendered once per language, both chosen and not, and the chosen
    one is picked as WTForms picks it (the choice whose coerced value equals the data).

    WTForms renders and escapes every option of the filter on every request; here only the
    ``<select>`` tag is. Use one instance per field (the cache is keyed by field name).
    """

    def __init__(self) -> None:
        super().__init__()
        self._rendered: dict[tuple[str, str], list[tuple[Any, str, str]]] = {}

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if self.multiple or field.has_groups():
            return Markup(super().__call__(field, **kwargs))  # noqa: S704 - WTForms escaped it
        from flask_babel import get_locale

        key = (field.name, str(get_locale()))
        options = self._rendered.get(key)
        if options is None:
            options = [
                (
                    field.coerce(value),
                    str(self.render_option(value, label, False, **render_kw)),
                    str(self.render_option(value, label, True, **render_kw)),
                )
                for value, label, _selected, render_kw in field.iter_choices()
            ]
            self._rendered[key] = options
        data = field.data
        body = "".join(chosen if value == data else plain for value, plain, chosen in options)
        # The <select> tag exactly as WTForms' Select writes it.
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        # Every part is escaped: html_params and render_option escape.
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{body}</select>")  # noqa: S704
