"""A log axis over a narrow range (a learning rate's) is labelled without collisions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from search.report.plots.axes import readable_log_x  # noqa: E402

# The learning rates of a real SmolLM2 sweep's six trials (its objective_vs_params.png showed
# "2x10^-3 3x10^-3 4x10^-3" run into each other).
NARROW = [3.8e-4, 4.6e-4, 8.6e-4, 2.1e-3, 4.1e-3, 4.3e-3]
WIDE = [1e-6, 3e-5, 2e-4, 7e-3, 0.05]


def _visible_labels(values: list[float], readable: bool) -> list:
    figure, axis = plt.subplots(figsize=(4.6, 3.8))  # one panel of objective_vs_params.png
    axis.scatter(values, range(len(values)))
    axis.set_xscale("log")
    if readable:
        readable_log_x(axis)
    figure.canvas.draw()
    low, high = axis.get_xlim()
    every = axis.get_xticklabels(minor=False) + axis.get_xticklabels(minor=True)
    labels = [label for label in every
              if label.get_text() and low <= label.get_position()[0] <= high]
    renderer = figure.canvas.get_renderer()
    boxes = sorted((label.get_window_extent(renderer) for label in labels), key=lambda b: b.x0)
    plt.close(figure)
    return labels, boxes


def _overlaps(boxes) -> int:
    return sum(left.x1 > right.x0 for left, right in zip(boxes, boxes[1:]))


@pytest.mark.parametrize("values", [NARROW, WIDE])
def test_log_labels_do_not_collide_and_read_as_plain_numbers(values):
    labels, boxes = _visible_labels(values, readable=True)
    assert len(labels) >= 2
    assert _overlaps(boxes) == 0
    for label in labels:
        float(label.get_text())  # "0.002", not "$\\mathdefault{2\\times10^{-3}}$"


def test_matplotlibs_own_labels_collide_on_the_narrow_range():
    # What the helper is for: without it the same panel's labels overlap.
    _, boxes = _visible_labels(NARROW, readable=False)
    assert _overlaps(boxes) > 0
