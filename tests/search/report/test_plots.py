"""The plots read at a glance: a colour per trial that separates ten trials, trial ids where
Optuna would number trials, legends only for what is drawn, the chosen checkpoint marked."""

from __future__ import annotations

import optuna
import pytest
from matplotlib.colors import to_hex

from search.report.plots.palette import end_labels, trial_styles
from search.report.plots.study import objective_of, plot_history, plot_parallel
from search.report.plots.sweep import (
    KIND_MARKERS,
    plot_gap,
    plot_learning_curves,
    plot_objective_vs_params,
)
from search.selection import ObjectiveCriterion
from search.selection.choice import choose
from search.spec.model import load_spec
from tests.search.selection.test_selection import RECORDS


def test_ten_trials_get_ten_hues_and_the_next_ten_their_light_dashed_partners():
    styles = trial_styles([f"t{i}" for i in range(22)])
    first_ten = {to_hex(styles[f"t{i}"][0]) for i in range(10)}
    assert len(first_ten) == 10 and {styles[f"t{i}"][1] for i in range(10)} == {"-"}
    assert styles["t10"][1] == "--" and to_hex(styles["t10"][0]) not in first_ten
    assert styles["t20"] == (styles["t0"][0], ":")


def test_the_ends_legend_names_only_ends_that_occur_as_the_tables_do():
    labels = end_labels(RECORDS, KIND_MARKERS)
    assert labels == {"stopped: gap": "x", "pruned: asha": "v", "pruned: not-learning": "D"}
    assert end_labels([r for r in RECORDS if r.trial_id == "full"], KIND_MARKERS) == {}


def _study(objectives: int = 1) -> optuna.Study:
    """Four told trials; with two objectives (basin 0.1's search.multi_objective) each also
    has a drift."""
    study = optuna.create_study(directions=["minimize"] * objectives)
    distributions = {"learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-1,
                                                                             log=True),
                     "lora_r": optuna.distributions.CategoricalDistribution([4, 8, 16])}
    for number, (lr, r, value) in enumerate([(1e-4, 4, 0.6), (3e-3, 8, 0.5), (2e-2, 16, 0.55),
                                             (8e-4, 8, 0.45)]):
        study.add_trial(optuna.trial.create_trial(
            params={"learning_rate": lr, "lora_r": r}, distributions=distributions,
            values=[value, 0.1 * number][:objectives], user_attrs={"ray_trial_id": f"id{number:06d}"}))
    return study


@pytest.mark.parametrize("objectives", [1, 2])
def test_the_study_plots_draw_the_objective_of_a_multi_objective_study(tmp_path, objectives):
    """In a study basin 0.1's search.multi_objective made, the study has two values per trial (the objective, the
    drift); its plots draw the objective, as with one."""
    history = plot_history(_study(objectives), "tiny", "val_loss", tmp_path / "h.png", "min",
                           "id000003")
    parallel = plot_parallel(_study(objectives), "tiny", "val_loss", tmp_path / "p.png")
    assert history is not None and parallel is not None
    assert [objective_of(t) for t in _study(objectives).trials] == [0.6, 0.5, 0.55, 0.45]


def test_every_plot_is_written_from_hand_made_records(sweep_factory, tmp_path):
    spec = load_spec(sweep_factory())
    choice = choose(RECORDS, ObjectiveCriterion(), "val_loss", "min")
    written = [plot_learning_curves(RECORDS, choice, "tiny", tmp_path / "curves.png"),
               plot_gap(RECORDS, choice, spec, tmp_path / "gap.png"),
               plot_objective_vs_params(RECORDS, choice, spec, tmp_path / "params.png"),
               plot_history(_study(), "tiny", "val_loss", tmp_path / "history.png", "min",
                            "id000003"),
               plot_parallel(_study(), "tiny", "val_loss", tmp_path / "parallel.png", "min",
                             ("learning_rate",))]
    assert all(path is not None and path.stat().st_size > 10_000 for path in written)


@pytest.mark.parametrize("trials", [0, 1])
def test_the_study_plots_need_trials_told_complete(tmp_path, trials):
    study = _study() if trials else optuna.create_study()
    if trials:
        study = optuna.create_study()
        study.add_trial(_study().trials[0])
    assert plot_parallel(study, "tiny", "val_loss", tmp_path / "p.png") is None
    assert (plot_history(study, "tiny", "val_loss", tmp_path / "h.png") is None) == (not trials)


def test_a_legend_beside_the_panel_is_inside_the_saved_image(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    from search.report.plots.sweep import _save

    widths = []
    for legend in (False, True):
        figure, axis = plt.subplots(figsize=(6, 4))
        axis.plot([0, 1], [0, 1], label="a trial with a long name")
        if legend:
            axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        widths.append(Image.open(_save(figure, tmp_path / f"{legend}.png")).width)
    # tight_layout makes room for the legend; a tight box that left it out would crop the
    # picture to the narrowed panel (about 60% of the width here).
    assert widths[1] > 0.9 * widths[0]


def test_the_parallel_plots_labels_are_spread_apart_in_their_order_and_stay_near():
    from search.report.plots.study import spread

    ys = [0.50, 0.99, 0.51, 1.0, 0.1]
    placed = spread(ys, gap=0.04)
    ranked = sorted(range(len(ys)), key=lambda i: ys[i])
    assert [placed[i] for i in ranked] == sorted(placed)  # the order kept
    assert all(b - a >= 0.04 - 1e-9 for a, b in zip(sorted(placed), sorted(placed)[1:]))
    assert max(placed) <= 1.0 and placed[4] == 0.1  # a label with room stays where it is


def test_a_stopped_trials_end_marker_has_the_trials_own_colour():
    """Shape says how the trial ended, colour which trial it is: four trials pruned at their
    first evaluation must not be four markers of one colour."""
    import matplotlib.pyplot as plt

    from search.report.plots.sweep import _mark_ends

    choice = choose(RECORDS, ObjectiveCriterion(), "val_loss", "min")
    figure, axis = plt.subplots()
    _mark_ends(axis, RECORDS, "val_loss", choice)
    styles = trial_styles([record.trial_id for record in RECORDS])
    ended = [r for r in RECORDS if KIND_MARKERS.get(r.outcome.kind) and r.evaluations]
    markers = [c for c in axis.collections if c.get_sizes()[0] == 70]  # not the chosen star
    assert len(markers) == len(ended) >= 3
    for record, marker in zip(ended, markers):
        assert to_hex(marker.get_facecolor()[0]) == to_hex(styles[record.trial_id][0])
    plt.close(figure)


def test_importances_need_two_trials_per_hyperparameter_that_varied(tmp_path):
    from optuna.distributions import FloatDistribution

    from search.report.plots.study import plot_importances

    space = {name: FloatDistribution(0.0, 1.0) for name in ("lr", "wd", "dropout")}
    study = optuna.create_study()
    for number in range(6):
        params = {name: (number * (i + 3)) % 7 / 7 for i, name in enumerate(space)}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=space,
                                                  value=sum(params.values())))
        drawn = plot_importances(study, "x", "val_loss", 0, tmp_path / f"{number}.png")
        # 3 hyperparameters varied: 6 trials told COMPLETE at least, never bars from fewer.
        assert (drawn is not None) == (number + 1 >= 6), number
