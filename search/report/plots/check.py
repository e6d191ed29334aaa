"""``check.png``: each checked candidate's objective against its basin radius, labelled by trial
and step, the chosen checkpoint starred."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI

import matplotlib.pyplot as plt  # noqa: E402

from search.selection.choice import Choice  # noqa: E402
from trainables.contract import STEP


def plot_check(entries: list[dict], choice: Choice, metric: str, title: str, path: Path
               ) -> Path | None:
    """The checked candidates' objective against their basin radius; None when nothing was
    checked."""
    if not entries:
        return None
    chosen = (choice.chosen.trial_id, choice.chosen.step) if choice.chosen else None
    figure, axis = plt.subplots(figsize=(7, 4.5))
    # Points carry a number (short labels do not collide); the key beside the panel says
    # which candidate each number is.
    for number, entry in enumerate(entries, start=1):
        x, y = entry["basin_radius"], entry["objective"]
        star = (entry["trial_id"], entry[STEP]) == chosen
        axis.scatter(x, y, marker="*" if star else "o", s=260 if star else 50,
                     color="gold" if star else "tab:blue", edgecolors="black", zorder=3)
        axis.annotate(str(number), (x, y), fontsize=8, xytext=(5, 3),
                      textcoords="offset points", annotation_clip=True)
    axis.set_xlabel("basin radius\n(x each layer's update; wider is flatter)")
    axis.margins(x=0.12, y=0.12)  # room for the numbers inside the panel
    axis.grid(alpha=0.3)
    axis.set_ylabel(metric)
    key = "\n".join(f"{number}  {entry['trial_id'][:8]} @ {entry['step']}"
                    f"{'  (handed on)' if (entry['trial_id'], entry[STEP]) == chosen else ''}"
                    for number, entry in enumerate(entries, start=1))
    axis.text(1.03, 1.0, key, transform=axis.transAxes, va="top", fontsize=8,
                 family="monospace")
    figure.suptitle(f"{title}: {len(entries)} checked candidates (star: handed on)")
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
