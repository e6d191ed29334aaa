"""Axis details every plot shares."""

from __future__ import annotations

import math

from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter


def readable_log_x(axis: Axes) -> None:
    """A log x axis whose labels do not collide. Over less than a decade or two matplotlib labels
    every minor tick in scientific notation, and on a panel a few inches wide "2x10^-3 3x10^-3
    4x10^-3" run into each other (a learning-rate range is often that narrow). Here: ticks at 1,
    2 and 5 times each power of ten on a narrow range, at the powers alone on a wide one,
    written as plain numbers (0.002), and no minor labels."""
    low, high = axis.get_xlim()
    decades = math.log10(high / low) if low > 0 and high > low else 0.0
    axis.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades < 2 else (1.0,)))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.xaxis.set_minor_formatter(NullFormatter())
