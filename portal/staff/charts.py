"""Accessible SVG charts drawn on the server: a title, a description and the numbers.

Templates render the returned structure with ``macros/charts.html``; no JavaScript and no
inline styles are needed, so the pages work under the strict CSP and without scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Bar:
    label: str
    value: float
    display: str
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


@dataclass
class BarChart:
    title: str
    description: str
    bars: list[Bar] = field(default_factory=list)
    width: int = 640
    height: int = 240
    label_width: int = 0

    @property
    def empty(self) -> bool:
        return not self.bars


def bar_chart(
    title: str,
    description: str,
    data: list[tuple[str, float, str]],
    *,
    width: int = 640,
    row_height: int = 28,
) -> BarChart:
    """Horizontal bars: ``data`` is (label, value, value as displayed)."""
    longest = max((_text_width(label) for label, _value, _shown in data), default=0)
    label_width = int(min(max(longest + 16, 120), 280))
    chart = BarChart(
        title=title,
        description=description,
        width=width,
        height=max(row_height * len(data) + 8, 40),
        label_width=label_width,
    )
    top = max((value for _label, value, _shown in data), default=0) or 1
    usable = width - label_width - 70
    for index, (label, value, shown) in enumerate(data):
        chart.bars.append(
            Bar(
                label=label,
                value=value,
                display=shown,
                x=label_width,
                y=4 + index * row_height,
                width=max(usable * (value / top), 1 if value else 0),
                height=row_height - 8,
            )
        )
    return chart


def _text_width(label: str, size: int = 12) -> float:
    """About how wide ``label`` is drawn (as the template truncates it to 26 characters):
    wide scripts (CJK) take a full em, others a little over half of one."""
    shown = label if len(label) <= 26 else label[:23] + "..."
    return sum(size if ord(ch) >= 0x2E80 else size * 0.6 for ch in shown)


@dataclass
class ColumnChart:
    title: str
    description: str
    columns: list[Bar] = field(default_factory=list)
    width: int = 640
    height: int = 200
    baseline: int = 170


def column_chart(
    title: str,
    description: str,
    data: list[tuple[str, float, str]],
    *,
    width: int = 640,
    height: int = 200,
) -> ColumnChart:
    """Vertical columns over time (months, weeks): ``data`` is (label, value, shown)."""
    chart = ColumnChart(
        title=title, description=description, width=width, height=height, baseline=height - 30
    )
    if not data:
        return chart
    top = max(value for _label, value, _shown in data) or 1
    slot = width / len(data)
    for index, (label, value, shown) in enumerate(data):
        column_height = (chart.baseline - 20) * (value / top) if value > 0 else 0
        chart.columns.append(
            Bar(
                label=label,
                value=value,
                display=shown,
                x=index * slot + slot * 0.15,
                y=chart.baseline - column_height,
                width=slot * 0.7,
                height=column_height,
            )
        )
    return chart
