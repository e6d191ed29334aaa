"""The sweep file: every mistake is one readable line naming the file, the field and the value."""

from __future__ import annotations

import pytest
import yaml

from search.cli.main import main
from search.core.errors import SpecError
from search.spec.model import apply_override, load_spec, trial_settings, validate_spec


def problems_for(sweep_factory, **sections) -> list[str]:
    path = sweep_factory(**sections)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return caught.value.problems


def test_tiny_sweep_is_valid(sweep_factory):
    spec = load_spec(sweep_factory())
    assert spec.name == "tiny"
    assert trial_settings(spec).model.random_init_config["hidden_size"] == 32


@pytest.mark.parametrize(
    "sections, expected",
    [
        ({"colour": "blue"}, "colour: unknown key"),
        ({"training": {"max_stepz": 10}}, "training.max_stepz: unknown key (did you mean 'max_steps'?)"),
        ({"training": {"max_steps": "many"}}, "training.max_steps: Input should be a valid integer"),
        ({"training": {"max_steps": -5}}, "training.max_steps: Input should be greater than 0 (got -5)"),
        ({"training": {"max_steps": 10, "epochs": 2}}, "set training.max_steps or training.epochs, not both"),
        ({"space": {}}, "space: Dictionary should have at least 1 item"),
        ({"space": {"learning_rate": {"type": "float", "low": 0.1, "high": 0.01}}},
         "space.learning_rate: low must be below high (got low=0.1, high=0.01)"),
        ({"space": {"learning_rate": {"type": "float", "low": 0.0, "high": 0.01, "log": True}}},
         "space.learning_rate: low must be > 0 on a log scale (got low=0.0)"),
        ({"space": {"lora_r": {"type": "int", "low": 8, "high": 8}}},
         "space.lora_r: low must be below high (got low=8, high=8)"),
        ({"space": {"lora_r": {"type": "choice", "values": []}}}, "space.lora_r.values: List should have at least 1 item"),
        ({"space": {"lora_r": {"type": "choice", "values": [0, 8]}}},
         "space.lora_r: Input should be greater than 0 (got 0)"),
        ({"space": {"learning_rate": {"type": "gaussian", "low": 1, "high": 2}}},
         "space.learning_rate: Input tag 'gaussian' found using 'type' does not match"),
        ({"space": {"momentum": 0.9}}, "space: unknown hyperparameter 'momentum'"),
        ({"objective": {"metric": "bleu"}},
         "objective.metric: task 'sequence-classification' reports no 'bleu'"),
        ({"objective": {"metric": "val loss"}},
         "objective.metric: a reported figure's name, e.g. val_loss (got 'val loss')"),
        ({"objective": {"metric": "val_loss", "mode": "minimise"}}, "objective.mode: Input should be 'min' or 'max' (got 'minimise')"),
        ({"search": {"sampler": "grid"}}, "search.sampler: Input should be 'tpe' or 'random' (got 'grid')"),
        ({"search": {"num_trials": 0}}, "search.num_trials: Input should be greater than 0 (got 0)"),
        ({"search": {"max_total_steps": 0}}, "search.max_total_steps: a step budget must be above 0 steps (got 0)"),
        ({"search": {"max_total_steps": "150%"}}, "search.max_total_steps: a number of steps (1200) or a share above 0% and at most 100% of num_trials x max_steps ('50%') (got '150%')"),
        ({"search": {"max_total_steps": "half"}}, "search.max_total_steps: a number of steps (1200) or a share above 0% and at most 100% of num_trials x max_steps ('50%') (got 'half')"),
        ({"search": {"max_total_steps": 1.5}}, "search.max_total_steps: a number of steps (1200) or a share of num_trials x max_steps ('50%') (got 1.5)"),
        ({"search": {"multi_objective": True}}, "search.multi_objective: was removed in basin 0.2, measured no better (benchmarks/RESULTS.md, 'Multi-objective search'); for a retentive checkpoint use selection: {criterion: retentive} (got True)"),
        ({"scheduler": {"type": "freeze", "thaw": "soonest"}}, "scheduler.thaw: Input should be 'rank' or 'undecided' (got 'soonest')"),
        ({"scheduler": {"type": "freeze", "thaw": "forecast"}}, "scheduler.thaw: 'forecast' was removed in basin 0.2, measured worse than rank (benchmarks/RESULTS.md, 'Issue 30'); use rank (the default) or undecided (got 'forecast')"),
        ({"scheduler": {"type": "asha", "reduction_factor": 1}}, "scheduler.reduction_factor: Input should be greater than 1"),
        ({"stopping": {"gap": {"threshold": -1}}}, "stopping.gap.threshold: Input should be greater than or equal to 0 (got -1)"),
        ({"stopping": {"gap": {"patience": 0}}}, "stopping.gap.patience: Input should be greater than or equal to 1 (got 0)"),
        ({"stopping": {"gap": {"threshold": float("inf")}}}, "stopping.gap.threshold: Input should be a finite number (got inf)"),
        ({"stopping": {"early_stoping": {}}}, "stopping.early_stoping: unknown key (did you mean 'early_stopping'?)"),
        ({"stopping": {"not_learning": {"min_improvement": 1.5}}}, "stopping.not_learning.min_improvement: Input should be less than 1 (got 1.5)"),
        ({"stopping": {"early_stopping": {"patience": 0}}}, "stopping.early_stopping.patience: Input should be greater than or equal to 1 (got 0)"),
        ({"selection": "best"}, "selection: unknown criterion (choose from ['objective', 'one-se', 'max-gap', 'last-step', 'robust', 'retentive']) (got 'best')"),
        ({"selection": {"criterion": "max-gap"}}, "selection.max_gap: Field required"),
        ({"selection": {"criterion": "max-gap", "max_gap": 0}}, "selection.max_gap: Input should be greater than 0 (got 0)"),
        ({"selection": {"criterion": "one-se", "max_gap": 0.2}}, "selection.max_gap: unknown key (got 0.2)"),
        ({"selection": 3}, "selection: Input should be a valid dictionary or object to extract fields from (got 3)"),
        ({"training": {"max_steps": 12, "eval_every": 4, "stop_at_step": 13}}, "training: training.stop_at_step must not exceed training.max_steps (got 13 > 12)"),
        ({"gap_pruning": {"threshold": 0.25}}, "gap_pruning: replaced by stopping.gap"),
        ({"resources": {"workers": 0}}, "resources.workers: Input should be greater than or equal to 1 (got 0)"),
        ({"model": {"name": "./no/such/model"}}, "model: model folder does not exist (got './no/such/model')"),
        ({"name": "has spaces"}, "name: String should match pattern"),
        ({"tracking": {"wandb": {"mode": "cloud"}}}, "tracking.wandb.mode: Input should be 'online', 'offline' or 'disabled'"),
    ],
)
def test_rejections_name_file_field_and_value(sweep_factory, sections, expected):
    problems = problems_for(sweep_factory, **sections)
    assert len(problems) == 1, problems
    assert expected in problems[0], problems[0]
    assert "sweep.yaml: " in problems[0]


def test_asha_needs_max_steps(sweep_factory):
    problems = problems_for(sweep_factory, training={"epochs": 2, "eval_every": 4},
                            scheduler={"type": "asha"})
    assert problems == [problems[0]] and "scheduler.type asha needs training.max_steps" in problems[0]


def test_asha_grace_period_fits_in_the_budget(sweep_factory):
    problems = problems_for(sweep_factory, scheduler={"type": "asha", "grace_period": 20})
    assert problems == [
        f"{problems[0].split(':')[0]}: scheduler.grace_period must not exceed "
        "training.max_steps (got 20 > 12)"]


def test_files_source_needs_train_file(sweep_factory):
    problems = problems_for(sweep_factory, data={"source": "files"})
    assert "data: data.source 'files' needs data.train_file" in problems[0]


def test_unreadable_yaml_and_directories(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    for path, expected in [(broken, "not valid YAML"), (tmp_path, "is a directory"),
                           (tmp_path / "missing.yaml", "file not found")]:
        with pytest.raises(SpecError) as caught:
            load_spec(path)
        assert f"{path}: {expected}" in caught.value.problems[0]


def test_set_overrides_any_field(sweep_factory):
    spec = load_spec(sweep_factory(), ["search.num_trials=5", "stopping.gap.threshold=0.1",
                                       "selection=one-se",
                                       "space.lora_r={type: choice, values: [8, 16]}"])
    assert spec.search.num_trials == 5
    assert spec.stopping.gap.threshold == 0.1 and spec.stopping.gap.patience == 2
    assert spec.selection.criterion == "one-se"
    assert spec.space["lora_r"].values == [8, 16]


def test_set_rejects_bad_assignments(sweep_factory):
    with pytest.raises(SpecError, match="expected key.path=value"):
        load_spec(sweep_factory(), ["search.num_trials"])
    with pytest.raises(SpecError, match="training.max_steps: Input should be a valid integer"):
        load_spec(sweep_factory(), ["training.max_steps=lots"])
    with pytest.raises(SpecError, match="'name' is not a section"):
        apply_override({"name": "x"}, "name.first=y")


def test_relative_paths_become_absolute(sweep_factory, tmp_path, monkeypatch):
    (tmp_path / "train.csv").write_text("text,label\nnice,1\nbad,0\n")
    monkeypatch.chdir(tmp_path)
    spec = load_spec(sweep_factory(data={"source": "files", "train_file": "train.csv"}))
    assert spec.data.train_file == str(tmp_path / "train.csv")
    assert spec.output_dir.startswith("/")


def test_validate_command_exit_codes(sweep_factory, capsys):
    assert main(["validate", str(sweep_factory())]) == 0
    assert "ok" in capsys.readouterr().out
    bad = sweep_factory("bad.yaml", training={"max_steps": 0})
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"{bad}: training.max_steps: Input should be greater than 0 (got 0)"
    assert "Traceback" not in err


def test_validate_command_set(sweep_factory, capsys):
    assert main(["validate", str(sweep_factory()), "--set", "search.num_trials=-1"]) == 2
    assert "search.num_trials" in capsys.readouterr().err


def test_defaults_stop_overfitting_and_non_learning_trials_and_choose_by_objective(sweep_factory):
    raw = yaml.safe_load(sweep_factory().read_text())
    del raw["stopping"]
    spec = validate_spec(raw)
    assert [rule.kind for rule in spec.stopping.rules()] == ["not-learning", "gap"]
    assert spec.selection.criterion == "objective"


def test_a_key_given_twice_is_refused_wherever_it_is(tmp_path):
    from search.spec.yaml_reading import DuplicateKeyError, read_yaml

    assert read_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n") == {
        "base": {"x": 1}, "use": {"x": 1, "y": 2}}  # merge keys are not duplicates
    for text, line, key in (("a: 1\nb: 2\na: 3\n", 3, "a"),
                            ("a:\n  x: 1\n  x: 2\n", 3, "x"),
                            ("l: [{p: 1, p: 2}]\n", 1, "p")):
        with pytest.raises(DuplicateKeyError, match=f"line {line}: duplicate key '{key}'"):
            read_yaml(text)


def test_no_number_in_a_sweep_may_be_infinite_or_nan(sweep_factory):
    for override, field in (("training.max_steps=.inf", "training.max_steps"),
                            ("search.num_trials=.nan", "search.num_trials"),
                            ("space.weight_decay={type: constant, value: .inf}",
                             "space.weight_decay"),
                            ("stopping.not_learning.min_improvement=.nan",
                             "stopping.not_learning.min_improvement")):
        with pytest.raises(SpecError, match=f"{field}: .*finite number"):
            load_spec(sweep_factory(), [override])


def test_warm_workers_are_on_by_default_and_only_for_one_worker_trials(sweep_factory):
    from search.tune.tuner import reuses_workers

    assert reuses_workers(load_spec(sweep_factory()))
    assert not reuses_workers(load_spec(sweep_factory(), ["resources.warm_workers=false"]))
    # A multi-worker trial's process only drives a worker group that Ray starts anew.
    assert not reuses_workers(load_spec(sweep_factory(), ["resources.workers=2"]))


@pytest.mark.parametrize("budget, steps", [(None, None), (700, 700), ("50%", 600),
                                           (" 12.5 % ", 150), ("100%", 1200)])
def test_a_step_budget_is_steps_or_a_share_of_every_trial_to_its_end(sweep_factory, budget,
                                                                     steps):
    from search.spec.step_budget import step_budget

    spec = load_spec(sweep_factory(training={"max_steps": 120, "eval_every": 15},
                                   search={"num_trials": 10, "max_total_steps": budget}))
    assert step_budget(spec.search.max_total_steps, spec.search.num_trials,
                       spec.training.max_steps) == steps
