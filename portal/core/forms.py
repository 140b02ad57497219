"""Form helpers shared by features."""

from __future__ import annotations

from typing import Any

from wtforms import SelectField


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
