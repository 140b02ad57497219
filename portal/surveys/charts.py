"""Geometry for the server-drawn SVG charts (the templates draw; this only measures)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    maximum: float


def bar_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    width: int = 480,
    height: int = 160,
    label_space: int = 20,
    headroom: int = 14,
    floor: float = 0.0,
) -> BarChart:
    """Vertical bars scaled to the largest value; values below ``floor`` are drawn at it.

    A missing value (None) draws no bar but keeps its place, so weeks stay aligned.
    """
    count = max(len(points), 1)
    slot = width / count
    drawable = height - label_space - headroom  # headroom keeps the top value readable
    values = [v for _label, v in points if v is not None]
    top = max([abs(v - floor) for v in values] + [1.0])
    bars = []
    for index, (label, value) in enumerate(points):
        amount = 0.0 if value is None else max(value - floor, 0.0)
        bar_height = drawable * amount / top
        bars.append(
            Bar(
                label=label,
                value=0.0 if value is None else value,
                x=round(index * slot + slot * 0.15, 2),
                y=round(headroom + drawable - bar_height, 2),
                width=round(slot * 0.7, 2),
                height=round(bar_height, 2),
            )
        )
    return BarChart(
        width=width, height=height, baseline=headroom + drawable, bars=bars, maximum=top
    )


@dataclass(frozen=True)
class LinePoint:
    label: str
    value: float | None
    x: float
    y: float


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    low: float
    high: float
    points: list[LinePoint]
    path: str  # the polyline's points attribute; gaps (no value) are skipped
    zero_y: float | None


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    low: float,
    high: float,
    width: int = 480,
    height: int = 160,
    padding: int = 10,
) -> LineChart:
    """A trend line on a fixed scale from ``low`` to ``high`` (e.g. -100..100 for NPS)."""
    count = len(points)
    span = (high - low) or 1.0
    drawable = height - 2 * padding
    step = (width - 2 * padding) / max(count - 1, 1)

    def y_of(value: float) -> float:
        clamped = min(max(value, low), high)
        return round(padding + drawable * (high - clamped) / span, 2)

    laid_out = [
        LinePoint(
            label=label,
            value=value,
            x=round(padding + index * step if count > 1 else width / 2, 2),
            y=y_of(value) if value is not None else 0.0,
        )
        for index, (label, value) in enumerate(points)
    ]
    path = " ".join(f"{p.x},{p.y}" for p in laid_out if p.value is not None)
    zero_y = y_of(0.0) if low < 0 < high else None
    return LineChart(width, height, low, high, laid_out, path, zero_y)
