"""A bar chart's geometry, for server-rendered SVG (templates/studio/_spend_chart.html): no
script, colours from CSS (``currentColor``), so it reads in light and dark mode; its viewBox
stretches to the width of any screen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

HEIGHT = 100  # viewBox units; the CSS sets the drawn height
SLOT = 10  # viewBox units per bar, gap included
GAP = 2
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: Decimal


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    top: Decimal  # the value at the top of the chart
    gridlines: list[float]  # y of each quarter of ``top``

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def axis(self) -> list[str]:
        """The labels shown under the chart: the first, middle and last bar's."""
        if not self.bars:
            return []
        picks = sorted({0, len(self.bars) // 2, len(self.bars) - 1})
        return [self.bars[index].label for index in picks]


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (value.adjusted())
    for step in NICE_STEPS:
        if step * power >= value:
            return (step * power).normalize()
    return (Decimal(10) * power).normalize()  # pragma: no cover - NICE_STEPS ends at 10


def bar_chart(points: Sequence[tuple[str, Decimal]]) -> BarChart:
    top = nice_ceiling(max((value for _, value in points), default=Decimal(0)))
    bars = []
    for index, (label, value) in enumerate(points):
        height = float((value / top * HEIGHT).quantize(Decimal("0.01"), rounding=ROUND_CEILING)) if value > 0 else 0.0
        bars.append(Bar(x=index * SLOT + GAP / 2, y=HEIGHT - height, width=SLOT - GAP, height=height,
                        label=label, value=value))
    return BarChart(bars=bars, width=max(1, len(points)) * SLOT, height=HEIGHT, top=top,
                    gridlines=[HEIGHT * quarter / 4 for quarter in range(4)])
