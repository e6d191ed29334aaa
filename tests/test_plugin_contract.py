"""A new stopping rule and a new tracker need their own file and their registration (a field of
``StoppingSpec`` or ``TrackingSpec``, with its import), nothing else: in a copy of basin's
packages given exactly that, everything that reads plug-ins takes them (the sweep file, the
rules a sweep runs and switches off, the plots' markers, the trackers a sweep makes, ``enabled:
false``). A task needs only its folder: ``examples/text_regression`` is one, which
``tests/test_plugins.py`` and ``tests/integration/test_example_task.py`` hold to the same checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RULE_FILE = '''
from typing import ClassVar, Sequence

from pydantic import Field

from search.core.evaluation import Evaluation
from search.stopping.base import StopRule


class PaceRule(StopRule):
    """Stops a trial after ``evaluations`` evaluations, whatever they say."""

    kind: ClassVar[str] = "pace"
    marker: ClassVar[str] = "P"

    evaluations: int = Field(2, ge=1)

    def reason(self, history: Sequence[Evaluation]) -> str | None:
        if len(history) < self.evaluations:
            return None
        return f"paced out after {len(history)} evaluations"
'''

TRACKER_FILE = '''
import json
from pathlib import Path
from typing import Any, ClassVar

from search.trackers.base import Tracker, TrackerContext, TrackerSettings


class LineTracker(Tracker):
    """Each report as a line of ``lines.jsonl`` in the run directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps({"trial": trial_id, **result}) + "\\n")


class LinesSpec(TrackerSettings):
    OFF: ClassVar[dict[str, Any]] = {"on": False}
    on: bool = True

    @property
    def enabled(self) -> bool:
        return self.on

    def build(self, context: TrackerContext) -> Tracker:
        return LineTracker(context.run_path / "lines.jsonl")
'''

CHECKS = '''
import math
from pathlib import Path

from search.core.evaluation import Evaluation
from search.lifecycle.tracking import make_trackers
from search.report.plots.sweep import KIND_MARKERS
from search.spec.model import SweepSpec, load_spec
from search.stopping import StoppingSpec, rule_types
from search.store.rundir import RunDir

spec = load_spec(SWEEP, overrides=["stopping.pace.evaluations=3"])
rules = {type(rule).__name__: rule for rule in spec.stopping.rules()}
assert rules["PaceRule"].evaluations == 3, rules
assert "pace" in rule_types() and KIND_MARKERS["pace"] == "P"
assert StoppingSpec.off().rules() == []
history = [Evaluation(step=4 * i, val_loss=0.5, train_eval_loss=0.4, objective=0.5, score=0.5,
                      baseline_loss=0.7, total_steps=40) for i in (1, 2, 3)]
outcome = rules["PaceRule"].decide(history)
assert (outcome.kind, outcome.step) == ("pace", 12), outcome
off = load_spec(SWEEP, overrides=["stopping.pace.enabled=false", "tracking.lines.enabled=false"])
assert "PaceRule" not in {type(rule).__name__ for rule in off.stopping.rules()}
run = RunDir.create(spec)
trackers = make_trackers(spec, run, quiet=True)
assert [type(t).__name__ for t in trackers] == ["LineTracker"], trackers
trackers[0].trial_result("t1", {"step": 4, "val_loss": 0.5})
assert (run.path / "lines.jsonl").read_text().count("val_loss") == 1
assert make_trackers(off, RunDir.create(off), quiet=True) == []
print("plug-ins taken")
'''


def _register(init: Path, import_line: str, after: str, field_line: str) -> None:
    """Add the plug-in's import and its field (the registration) to a registry module."""
    text = init.read_text()
    text = text.replace("from trainables.settings import Strict\n",
                        f"{import_line}\nfrom trainables.settings import Strict\n", 1)
    assert after in text, after
    init.write_text(text.replace(after, f"{after}\n{field_line}", 1))


def test_a_new_rule_and_tracker_need_their_file_and_their_registration(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    for package in ("search", "trainables"):
        shutil.copytree(ROOT / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "search" / "stopping" / "pace.py").write_text(RULE_FILE)
    _register(copy / "search" / "stopping" / "__init__.py",
              "from search.stopping.pace import PaceRule",
              "        default_factory=lambda: EarlyStopping(enabled=False))",
              "    pace: PaceRule | None = Field(default_factory=PaceRule)")
    (copy / "search" / "trackers" / "lines.py").write_text(TRACKER_FILE)
    _register(copy / "search" / "trackers" / "__init__.py",
              "from search.trackers.lines import LinesSpec",
              "    wandb: WandbSpec = WandbSpec()",
              "    lines: LinesSpec = LinesSpec()")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "name: plug\nmodel: {name: tiny, random_init_config: {model_type: bert}}\n"
        "space: {learning_rate: 0.001}\ntracking: {wandb: {mode: disabled}}\n"
        f"output_dir: {tmp_path / 'runs'}\n")
    script = f"SWEEP = {str(sweep)!r}\n{CHECKS}"
    # The copy comes first on the path (the network guard's sitecustomize stays after it).
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                              [str(copy), os.environ.get("PYTHONPATH", "")])}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("plug-ins taken")
