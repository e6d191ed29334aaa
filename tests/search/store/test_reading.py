"""One reading of a run directory (``search/store/reading.py``): the records read once, the
choice made once, and kept true by the sweep's last pass and by ``basin confirm``/``check``."""

from __future__ import annotations

import json

from search.spec.model import load_spec
from search.store.keep_final_pass import keep_what_counts
from search.store.reading import RunReading, read_run
from search.store.rundir import RunDir

LOSSES = {"aaaa0001": (0.70, 0.55, 0.60), "bbbb0002": (0.65, 0.50, 0.52),
          "cccc0003": (0.80, 0.75, 0.72)}


def _run(sweep_factory, **overrides) -> RunDir:
    """A run directory with three trials of three evaluations, each with its candidate."""
    run = RunDir.create(load_spec(sweep_factory(**overrides)))
    for trial_id, losses in LOSSES.items():
        folder = run.path / trial_id
        (folder / "candidates").mkdir(parents=True)
        (folder / "params.json").write_text(json.dumps(
            {"learning_rate": 1e-3, "lora_r": 2, "lora_dropout": 0.0}))
        rows = [{"step": 4 * (i + 1), "val_loss": loss, "train_eval_loss": loss - 0.1,
                 "gap": 0.1, "is_final": i == 2} for i, loss in enumerate(losses)]
        (folder / "result.json").write_text("".join(json.dumps(row) + "\n" for row in rows))
        for row in rows:
            candidate = folder / "candidates" / f"step_{row['step']:08d}"
            candidate.mkdir()
            (candidate / "trial_metrics.json").write_text(json.dumps(row))
    return run


def test_the_last_pass_leaves_the_records_as_a_new_reading_finds_them(sweep_factory):
    run = _run(sweep_factory, keep={"per_trial": 1, "best": 1})
    reading = RunReading(run)
    kept = keep_what_counts(run, reading.records)
    again = RunReading(run)
    assert {r.trial_id: r.checkpoints for r in reading.records} == \
        {r.trial_id: r.checkpoints for r in again.records}
    assert kept.candidates == 3 and kept.evaluations == 9  # each trial's best; the sweep's best
    assert reading.choice().chosen.name == again.choice().chosen.name


def test_a_choice_is_made_once_and_again_after_confirm_writes(sweep_factory):
    reading = read_run(_run(sweep_factory).path)
    first = reading.choice()
    assert (first.chosen.trial_id, first.chosen.step) == ("bbbb0002", 8)
    confirmed = [{"trial_id": "aaaa0001", "step": 8, "objectives": [0.51, 0.53], "mean": 0.52,
                  "spread": 0.014},
                 {"trial_id": "bbbb0002", "step": 8, "objectives": [0.56, 0.58], "mean": 0.57,
                  "spread": 0.014}]
    reading.run.confirm_file.write_text(json.dumps(confirmed))
    assert reading.choice() is first  # read once: a command says when it wrote a file
    reading.results_written()
    again = reading.choice()
    assert (again.chosen.trial_id, again.chosen.step) == ("aaaa0001", 8)
    assert again.why.startswith("confirmed")
    assert reading.spreads == {("aaaa0001", 8): 0.014, ("bbbb0002", 8): 0.014}
    # A candidate confirmed but not checked carries its spread among the checked figures.
    assert reading.checked[("aaaa0001", 8)] == {"seed_sd": 0.014}
    assert reading.check_report is None and reading.checks == {}


def test_check_figures_come_from_check_json_with_the_confirmed_spread(sweep_factory):
    run = _run(sweep_factory)
    entry = {"trial_id": "bbbb0002", "step": 8, "basin_radius": 0.3, "objective": 0.5}
    run.check_file.write_text(json.dumps({"candidates": [entry], "seconds": 1.0}))
    run.confirm_file.write_text(json.dumps([
        {"trial_id": "bbbb0002", "step": 8, "objectives": [0.5, 0.52], "mean": 0.51,
         "spread": 0.01}]))
    reading = RunReading(run)
    assert reading.checks == {("bbbb0002", 8): entry}
    assert reading.checked[("bbbb0002", 8)] == {**entry, "seed_sd": 0.01}
    assert reading.choice().chosen.basin_radius == 0.3
    assert reading.record("cccc0003").evaluations[-1]["val_loss"] == 0.72
    assert reading.record("nope") is None
