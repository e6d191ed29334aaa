"""One colour per trial, the same in every plot, from a palette whose first ten colours are ten
different hues (matplotlib's tab20 comes in dark and light pairs of one hue: its light halves
follow the dark ones here, drawn dashed), and the labels of trials' ends as tables say them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI

from matplotlib import colormaps  # noqa: E402

from search.core.record import TrialRecord  # noqa: E402

_TAB20 = colormaps["tab20"].colors
# The ten dark hues, then their ten light partners.
HUES = [_TAB20[i] for i in range(0, 20, 2)] + [_TAB20[i] for i in range(1, 20, 2)]
LINESTYLES = ("-", "--", ":", "-.")


def trial_styles(trial_ids: list[str]) -> dict[str, tuple[tuple, str]]:
    """(colour, line style) per trial id, in the order given: ten hues solid, then the same ten
    lighter and dashed, then dotted, ..."""
    return {trial_id: (HUES[index % 20], LINESTYLES[(index // 10) % len(LINESTYLES)])
            for index, trial_id in enumerate(trial_ids)}


def end_labels(records: list[TrialRecord], markers: dict[str, str]) -> dict[str, str]:
    """The marker of each way a trial ended early that occurs in ``records``, by the label the
    tables use (``pruned: asha``, ``stopped: gap``)."""
    return {record.outcome.label: markers[record.outcome.kind] for record in records
            if record.outcome.kind in markers}
