"""``front.png``: every candidate's objective against its drift from the base model, the front
of the two drawn as a line, the chosen checkpoint starred."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI

import matplotlib.pyplot as plt  # noqa: E402

from search.selection.choice import Choice  # noqa: E402
from search.selection.front import front  # noqa: E402


def plot_front(choice: Choice, metric: str, title: str, path: Path) -> Path | None:
    """The candidates that measured their drift, the front, the choice; None when no
    candidate measured its drift (``retention.enabled: false``)."""
    measured = [c for c in choice.ranked if c.drift is not None]
    if not measured:
        return None
    on_front = front(measured)
    figure, axis = plt.subplots(figsize=(7.5, 5))
    axis.scatter([c.drift for c in measured], [c.objective for c in measured], s=22,
                 color="tab:grey", alpha=0.6, label="candidate (trial, step)")
    axis.plot([c.drift for c in on_front], [c.objective for c in on_front], "o-",
              color="tab:blue", label=f"front ({len(on_front)}: nothing beats them on both)")
    chosen = choice.chosen
    if chosen is not None and chosen.drift is not None:
        axis.scatter(chosen.drift, chosen.objective, marker="*", s=300, color="gold",
                     edgecolors="black", zorder=5, label=f"handed on: {chosen.name}")
    axis.set_xlabel("drift from the base model on general inputs (0: kept)")
    axis.set_ylabel(metric)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="best")
    axis.set_title(f"{title}: {len(measured)} candidates, {metric} against drift")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
