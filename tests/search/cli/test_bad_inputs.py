"""The catalogue of bad inputs: every malformed sweep file and command line is refused before
any trial starts, in one line naming the file, the field and the bad value, with exit code 2
and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.cli.main import main
from tests.conftest import tiny_sweep, write_sweep

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = sorted((ROOT / "tests" / "bad_inputs").glob("*.yaml"))


def expected_message(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


def says(message: str, expected: str) -> bool:
    """The message holds the expected text in order; ``…`` stands for what differs between
    machines (a core count, where the clone is)."""
    position = 0
    for part in expected.split("…"):
        position = message.find(part, position)
        if position < 0:
            return False
        position += len(part)
    return True


def refused(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_the_catalogue_is_large():
    assert len(CATALOGUE) + len(COMMAND_LINES) >= 120


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
def test_bad_sweep_file_is_refused_before_any_trial(path, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)  # data paths in the catalogue are relative to the project root
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a hub id is refused the same with or without net
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # resources are this machine's
    relative = str(path.relative_to(ROOT))
    for command in ("validate", "run"):
        message = refused([command, relative, "--set", f"output_dir={tmp_path}"], capsys)
        assert message.startswith(f"{relative}: ")
        assert says(message, expected_message(path)), message
    assert not any(tmp_path.iterdir())  # no run directory: nothing started


@pytest.fixture
def sweep(tmp_path):
    return write_sweep(tmp_path / "sweep.yaml", tiny_sweep(tmp_path))


@pytest.fixture
def fake_run(tmp_path, sweep):
    """A run directory as `basin run` starts it: the validated sweep, nothing else yet."""
    run = tmp_path / "runs" / "tiny-20260101-000000"
    run.mkdir(parents=True)
    (run / "sweep.yaml").write_text(sweep.read_text())
    return run


# (argv, expected message) of every refused command line; {names} are filled in by the test.
COMMAND_LINES = [
        (["run", "{tmp}/missing.yaml"], "{tmp}/missing.yaml: file not found"),
        (["run", "{tmp}"], "{tmp}: is a directory, not a sweep file"),
        (["run", "{sweep}", "--set", "search.num_trials"],
         "--set 'search.num_trials': expected key.path=value"),
        (["run", "{sweep}", "--set", "training.max_steps=lots"],
         "--set training.max_steps: Input should be a valid integer"),
        (["run", "{sweep}", "--set", "name.first=x"], "--set 'name.first=x': 'name' is not a section"),
        (["run", "{sweep}", "--set", "search.seed=[1"],
         "--set 'search.seed=[1': the value is not valid YAML"),
        (["run", "{sweep}", "--set", "search.seed={{a: 1, a: 2}}"],
         "--set 'search.seed={{a: 1, a: 2}}': the value is not valid YAML: line 1: duplicate key 'a'"),
        (["run", "{sweep}", "--set", "training.max_steps=.inf"],
         "--set training.max_steps: Input should be a finite number (got inf)"),
        (["status", "{tmp}/no-such-run"], "{tmp}/no-such-run: no such run directory (basin ls lists the runs)"),
        (["best", "{tmp}/runs"], "{tmp}/runs: not a basin run directory (no sweep.yaml); the run "
         "directories in it: tiny-20260101-000000 (e.g. {run}; basin ls {tmp}/runs)"),
        (["best", "{sweep}"], "{sweep}: is a file, not a run directory (a run directory is what "
         "basin run made, e.g. runs/NAME-DATE; basin ls lists them)"),
        (["init", "{tmp}/missing.tsv"], "{tmp}/missing.tsv: file not found"),
        (["init", "{root}/sweeps/data/tickets.tsv", "--out", "{sweep}"],
         "{sweep}: exists; choose another --out, or --force to overwrite it"),
        (["init", "{root}/sweeps/data/tickets.tsv", "--trials", "0"],
         "--trials: must be at least 1 (got 0)"),
        (["init", "{root}/sweeps/data/tickets.tsv", "--minutes", "0"],
         "--minutes: must be more than 0 (got 0)"),
        (["init", "{root}/sweeps/data/tickets.tsv", "--minutes", "nan"],
         "--minutes: must be more than 0 (got nan)"),
        (["init", "{root}/sweeps/data/tickets.tsv", "--task", "ner"],
         "--task: no such task; basin init writes sweeps for sequence-classification, "
         "causal-lm (tasks installed packages add: …; basin init --list-tasks) (got 'ner')"),
        (["init"], "DATA_FILE: name your data file (CSV, TSV or JSONL), e.g. basin init "
         "my_data.tsv"),
        (["init", "{root}/tests/bad_inputs/not_utf8.tsv", "--out", "{tmp}/x.yaml"],
         "{root}/tests/bad_inputs/not_utf8.tsv: line 42 is not UTF-8 text"),
        (["init", "{root}/sweeps/data/tickets.tsv", "--out", "{tmp}/x.yaml", "--text-column",
          "msg"], "{root}/sweeps/data/tickets.tsv: no column 'msg' (it has ['message', 'team'])"),
        (["run", "{sweep}", "--set", "search.num_trails=4"],
         "--set search.num_trails: unknown key (did you mean 'num_trials'?) (got 4)"),
        (["run", "{sweep}", "--set", "check.enabled=maybe"],
         "--set check.enabled: expected true or false (got 'maybe')"),
        (["best", "{run}", "--top", "0"], "--top: must be a positive number of trials (got 0)"),
        (["confirm", "{run}", "--seeds", "0"], "--seeds: must be at least 1 (got 0)"),
        (["export", "{run}", "--out", "{tmp}/bundle"],
         "{run}: no checkpoint to export (no trial has saved a checkpoint yet)"),
        (["export", "{run}", "--out", "{tmp}/bundle", "--step", "30"],
         "--step: name the trial too (--trial ID --step 30)"),
        (["export", "{run}", "--out", "{tmp}/bundle", "--trial", "abc", "--step", "0"],
         "--step: must be a positive step (got 0)"),
        (["best", "{run}", "--within-gap-limit", "-0.1"],
         "--within-gap-limit: must be a finite number >= 0 (got '-0.1')"),
        (["best", "{run}", "--within-gap-limit", "wide"],
         "--within-gap-limit: must be a finite number >= 0 (got 'wide')"),
        (["best", "{run}", "--within-gap-limit", "nan"],
         "--within-gap-limit: must be a finite number >= 0 (got 'nan')"),
        (["best", "{run}", "--within-gap-limit"],
         "--within-gap-limit: the sweep has no gap rule (stopping.gap); give the limit, e.g. "
         "--within-gap-limit 0.2"),
        (["run", "{sweep}", "--set", "selection.criterion=median"],
         "--set selection.criterion: selection: unknown criterion (choose from ['objective', 'one-se', 'max-gap', "
         "'last-step', 'robust', 'retentive']) (got 'median')"),
        (["resume", "{run}", "--sweep", "{other}"],
         "{other}: {run} belongs to a different sweep ('tiny'; differs in: training)"),
        (["resume", "{run}"], "{run}: nothing to resume (Ray never saved this sweep's state)"),
        (["run", "{sweep}", "--set", "output_dir=s3://basin/runs"],
         "{sweep}: output_dir in an object store needs search.storage, a database "
         "URL for the Optuna study (e.g. postgresql://user:password@host:5432/basin) (got "
         "output_dir='s3://basin/runs', no search.storage)"),
        (["run", "{sweep}", "--set", "output_dir=hdfs://namenode/runs"],
         "--set output_dir: hdfs:// is not a store basin writes to; use a path every node "
         "sees (a shared filesystem) or an object store (s3://, gs://, gcs://) (got "
         "'hdfs://namenode/runs')"),
        (["run", "{sweep}", "--set", "search.storage=postgresql://basin:secret@127.0.0.1:9/db"],
         "--set search.storage: cannot open postgresql://basin:***@127.0.0.1:9/db: "
         "connection failed"),
        (["run", "{sweep}", "--set", "search.storage=sqlite:///{tmp}/study.db", "--set",
          "output_dir=s3://basin/runs?endpoint_override=127.0.0.1:9&scheme=http"],
         "--set output_dir: cannot reach it: s3://basin/runs: "),
        (["run", "{sweep}", "--set", "output_dir={sweep}"],
         "--set output_dir: is a file, not a folder (got '{sweep}')"),
        (["validate", "{sweep}", "--set", "output_dir={sweep}/runs"],
         "--set output_dir: {sweep} is a file, so no folder can be made under it (got "
         "'{sweep}/runs')"),
        (["run", "{sweep}", "--set", "output_dir=/proc/basin-runs"],
         "--set output_dir: cannot write in /proc ("),
        (["run", "{sweep}", "--set", "output_dir={tmp}/" + "/".join(["d" * 250] * 17)],
         "--set output_dir: too long: files of a run would have paths of ~"),
        (["run", "{sweep}", "--set", "output_dir={tmp}/" + "d" * 300],
         "--set output_dir: cannot be made: File name too long (got '{tmp}/ddd"),
        (["run", "{sweep}", "--set", "name=" + "n" * 300],
         "--set name: String should have at most 100 characters (got 'nnnn"),
        (["validate", "{sweep}", "--set", "training.seed=4294967296"],
         "--set training.seed: Input should be less than or equal to 4294967295 (got "
         "4294967296)"),
        (["run", "{sweep}", "--set", "search.seed=-1"],
         "--set search.seed: Input should be greater than or equal to 0 (got -1)"),
        (["run", "{sweep}", "--set", "model.lora_target_modules=[query, nope]"],
         "--set model.lora_target_modules: no module named 'nope' in the model of "
         "model.random_init_config (it has e.g. ["),
        (["run", "{sweep}", "--set", "data={{source: files, train_file: "
          "{root}/tests/bad_inputs/header_only.tsv, text_column: sentence}}"],
         "--set data: data.train_file: …header_only.tsv has no rows, only a header"),
        (["validate", "{sweep}", "--set", "resources.cpus_per_worker=1000"],
         "--set resources.cpus_per_worker: this machine has … CPU cores, fewer than one "
         "worker asks for (got 1000)"),
        (["run", "{sweep}", "--set", "space.lora_r={{type: float, low: 2, high: 8}}"],
         "--set space.lora_r: lora_r is a whole number; a float range would draw fractions, "
         "use type: int (got type: float, low=2, high=8)"),
        (["run", "{sweep}", "--set", "training.micro_batch_size=1000000"],
         "--set training.micro_batch_size: Input should be less than or equal to 4096 (got "
         "1000000)"),
        (["run", "{sweep}", "--address", "127.0.0.1:1"],
         "--address: no Ray cluster answers at 127.0.0.1:1 (Connection refused); check the "
         "address, or start the head node with `ray start --head`"),
        (["run", "{sweep}", "--address", "ray://127.0.0.1:1"],
         "--address: no Ray cluster answers at ray://127.0.0.1:1 (Connection refused)"),
        (["run", "{sweep}", "--address", "head-node"],
         "--address: expected host:port, e.g. 10.0.0.5:6379 (got 'head-node')"),
        (["run", "{sweep}", "--set", "model={{name: someone/no-such-model}}"],
         "--set model: model.name: not in the local Hugging Face cache and HF_HUB_OFFLINE is set"),
        (["check", "{run}"], "{run}: no candidate checkpoint to check (no trial has saved one)"),
        (["check", "{run}", "--top", "0"],
         "--top: Input should be greater than or equal to 1 (got 0)"),
        (["check", "{run}", "--radii", "4", "0"], "--radii: every radius must be > 0 (got 0.0)"),
        (["check", "{run}", "--max-radius", "-1"],
         "--max-radius: Input should be greater than 0 (got -1.0)"),
        (["check", "{run}", "--radii", "8", "--max-radius", "4"],
         "check: radii: 8.0 is beyond max_radius 4.0"),
]
COMMAND_LINE_IDS = ["missing-file", "directory", "set-without-value", "set-bad-value", "set-into-value",
         "set-broken-yaml", "set-duplicate-key", "set-infinite",
         "no-run-dir", "not-a-run-dir", "best-of-a-sweep-file", "init-missing-file", "init-over-a-file", "init-no-trials", "init-no-minutes", "init-nan-minutes",
         "init-unknown-task", "init-no-data-file", "init-not-utf8", "init-no-such-column", "set-typo", "set-enabled-not-bool", "top-zero", "seeds-zero", "export-nothing",
         "export-step-without-trial", "export-step-zero", "gap-limit-negative",
         "gap-limit-not-a-number", "gap-limit-nan", "gap-limit-without-rule", "unknown-criterion",
         "resume-other-sweep", "resume-nothing", "bucket-without-database", "unknown-store",
         "database-unreachable", "bucket-unreachable",
         "output-dir-is-a-file", "output-dir-under-a-file", "output-dir-not-writable",
         "output-dir-too-long", "output-dir-part-too-long", "name-too-long", "training-seed-over-32-bits",
         "search-seed-negative", "lora-target-missing", "data-header-only",
         "cpus-over-this-machine", "lora-r-float-range", "micro-batch-huge", "address-refused",
         "client-address-refused", "address-without-port", "hub-id-offline", "check-nothing",
         "check-top-zero", "check-radius-zero", "check-max-radius-negative",
         "check-radius-beyond-max"]


@pytest.mark.parametrize("argv, expected", COMMAND_LINES, ids=COMMAND_LINE_IDS)
def test_bad_command_line_is_refused(argv, expected, capsys, tmp_path, sweep, fake_run,
                                    monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    other = write_sweep(tmp_path / "other.yaml",
                        tiny_sweep(tmp_path, training={"max_steps": 99, "eval_every": 4}))
    names = {"tmp": tmp_path, "sweep": sweep, "run": fake_run, "other": other, "root": ROOT}
    message = refused([part.format(**names) for part in argv], capsys)
    assert says(message, expected.format(**names)), message
    assert "secret" not in message  # a database password is never printed
    assert list((tmp_path / "runs").iterdir()) == [fake_run]  # no new run directory


@pytest.mark.parametrize("content, problem", [("", "empty"), ('{"trial_data": [', "cut short")])
def test_resume_refuses_a_torn_experiment_state(content, problem, capsys, fake_run,
                                                monkeypatch):
    """What a driver killed mid-write left before basin wrote the state whole: Ray would log
    the error and start the sweep over, so basin refuses and says why."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    (fake_run / "tuner.pkl").write_bytes(b"")  # what Tuner.can_restore looks for
    (fake_run / "experiment_state-2026-12-07_05-56-51.json").write_text(content)
    message = refused(["resume", str(fake_run)], capsys)
    assert message.startswith(f"{fake_run}: Ray's state "
                              f"experiment_state-2026-12-07_05-56-51.json cannot be read "
                              f"({problem}"), message
    assert "would start the sweep over" in message
