"""Does the drift predict forgetting, and what does choosing by it cost? The two SmolLM2 sweeps,
3 seeds each; every candidate scored on skills its fine-tune never saw; the checkpoints that
``objective`` and ``retentive`` hand on scored on the sweep's test split once. The protocol is
in RESULTS.md (section 9), written before the runs.

    python -m benchmarks.retention_check                  # both sweeps, seeds 0-2
    python -m benchmarks.retention_check --sweeps sst2 --seeds 0
    python -m benchmarks.retention_check --resume         # skip (sweep, seed) already done
    python -m benchmarks.retention_check --report         # tables from the saved figures
    python -m benchmarks.retention_check --smoke          # a tiny model, about two minutes
    python -m benchmarks.retention_check --multi-objective --report   # RESULTS.md 9b

``--multi-objective --report`` compares the multi-objective runs of RESULTS.md 9b
(``retention_check_mo.json``) with the single-objective runs of ``retention_check.json``, seed
by seed. New multi-objective runs cannot be made: basin 0.2 removed ``search.multi_objective``
(measured no better), and this benchmark keeps only the record.

Each (sweep, seed) runs in a fresh process (``basin run``), alone on the machine; the scoring
runs afterwards in this process and is not part of any sweep's time.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from benchmarks.capabilities import SUITES, Suite, score_suite
from benchmarks.common import (
    DEFAULT_WORK_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    SMOKE_LLAMA,
    SST2_TSV,
    Stopwatch,
    machine_facts,
    run_missing,
    save_json,
)
from benchmarks.retention_tables import mo_report, report

# sweep -> (its file, the held-out suite its fine-tune never trains on)
SWEEPS = {"sst2": ("sweeps/smollm2_sst2.yaml", "skills"),
          "sft": ("sweeps/smollm2_sft.yaml", "sentiment")}
TEST_ROWS = (1000, 1500)  # SST-2 rows for the SST-2 sweep's test file (it reads rows 0-599)
RESULTS_NAME = "retention_check"
MO_RESULTS_NAME = "retention_check_mo"
# The smoke run: a tiny random Llama on the instruction task, 2 short trials.
SMOKE_SETS = ["model.name=tiny-llama", "search.num_trials=2", "search.max_concurrent_trials=2",
              "training.max_steps=8", "training.eval_every=4", "scheduler.type=fifo",
              "data.demo.train_size=16", "data.demo.validation_size=8",
              "data.demo.test_size=8", "model.lora_target_modules=[q_proj, v_proj]"]


def sst2_test_file(work: Path) -> Path:
    """SST-2 rows the SST-2 sweep never reads, as its test file (outside the project)."""
    path = work / "sst2_test.tsv"
    with SST2_TSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sentence", "label"], delimiter="\t",
                                quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writeheader()
        for row in rows[TEST_ROWS[0]:TEST_ROWS[1]]:
            writer.writerow({"sentence": row["sentence"].strip(), "label": row["label"]})
    return path


def run_sweep(sweep: str, seed: int, work: Path, extra: list[str]) -> dict[str, Any]:
    """``basin run`` of the shipped sweep with this seed, every candidate kept, W&B off."""
    out = work / f"{sweep}-seed{seed}"
    sets = [f"search.seed={seed}", f"training.seed={seed}", "tracking.wandb.mode=disabled",
            f"output_dir={out}", "keep.per_trial=null"]
    if sweep == "sst2":
        sets.append(f"data.test_file={sst2_test_file(work)}")
    command = [sys.executable, "-m", "search.cli.main", "run", SWEEPS[sweep][0], "--quiet",
               *[part for value in sets for part in ("--set", value)], *extra]
    with Stopwatch() as clock:
        done = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    (work / f"{sweep}-seed{seed}.log").write_text(done.stdout + done.stderr)
    runs = sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    return {"exit_code": done.returncode, "run_dir": str(runs[-1]) if runs else None,
            "wall_s": clock.wall_s, "cpu_s": clock.cpu_s}


def update_norm(folder: Path) -> float:
    """The L2 norm of the candidate's merged LoRA update (B @ A x alpha / r over every adapted
    layer): its distance from the base model in weight space."""
    import torch
    from safetensors.torch import load_file

    config = json.loads((folder / "adapter_config.json").read_text())
    scaling = config["lora_alpha"] / config["r"]
    weights = load_file(str(folder / "adapter_model.safetensors"))
    total = 0.0
    for name, a in weights.items():
        if ".lora_A." in name:
            b = weights[name.replace(".lora_A.", ".lora_B.")]
            total += float(((b.double() @ a.double()) * scaling).pow(2).sum())
    return float(torch.tensor(total).sqrt())


def cost(histories: list[list[dict]], wall_s: float, slots: int) -> dict[str, float]:
    """What measuring the drift took: its seconds over every evaluation of every trial (each
    trial's reports, ``histories``), as a share of the summed trial time and of the sweep's
    wall time x its slots."""
    rows = [[row for row in history if "step" in row] for history in histories]
    drift_s = sum(row.get("drift_seconds") or 0.0 for trial in rows for row in trial)
    trial_s = sum(trial[-1]["reported_at"] - trial[0]["trial_started_at"]
                  for trial in rows if trial)
    return {"drift_s": drift_s, "trial_s": trial_s, "share_of_trials": drift_s / trial_s,
            "share_of_sweep": drift_s / (wall_s * slots)}


def _choices(reading: Any, settings: Any, held_out: dict[tuple[str, int], float],
             held_out_of: Callable[[Any], tuple[float, Path]]) -> dict[str, dict[str, Any]]:
    """The checkpoints the objective and the retentive criterion choose, each scored on the
    held-out suite (once more where it was not a scored candidate) and on the test split."""
    from search.selection import ObjectiveCriterion, RetentiveCriterion
    from trainables.check.scoring import score_checkpoint
    from trainables.settings import Hyperparameters

    choices = {}
    for name, criterion in (("objective", ObjectiveCriterion()),
                            ("retentive", RetentiveCriterion())):
        chosen = reading.choice(criterion=criterion).chosen
        if (chosen.trial_id, chosen.step) not in held_out:
            held_out[(chosen.trial_id, chosen.step)] = held_out_of(chosen)[0]
        test = score_checkpoint(Hyperparameters(**chosen.params), settings,
                                reading.run.fetch(chosen.checkpoint), "test")
        choices[name] = {"trial_id": chosen.trial_id, "step": chosen.step,
                         "answer_loss": chosen.drift, "test_loss": test["loss"],
                         "test_exact_match": test.get("exact_match"),
                         "held_out": held_out[(chosen.trial_id, chosen.step)]}
    return choices


def measure(sweep: str, seed: int, work: Path, extra: list[str]) -> dict[str, Any]:
    """One (sweep, seed): the sweep, every candidate on the held-out suite, the two choices on
    the test split."""
    import torch

    from search.selection.front import front
    from search.spec.model import trial_settings
    from search.store import trial_folder
    from search.store.reading import read_run
    from trainables.check.scoring import checkpoint_model
    from trainables.settings import Hyperparameters

    row: dict[str, Any] = {"sweep": sweep, "seed": seed, **run_sweep(sweep, seed, work, extra)}
    if row["exit_code"] != 0 or row["run_dir"] is None:
        return row | {"failed": "the sweep did not finish (see its log)"}
    torch.set_num_threads(2)
    reading = read_run(row["run_dir"])
    run, settings = reading.run, trial_settings(reading.run.spec)
    suite: Suite = SUITES[SWEEPS[sweep][1]]()
    histories = {trial_id: trial_folder.history(folder)
                 for trial_id, folder in run.trial_folders().items()}
    row["cost"] = cost(list(histories.values()), row["wall_s"],
                       run.spec.search.max_concurrent_trials)
    reports = {(trial_id, e["step"]): e for trial_id, history in histories.items()
               for e in history if "step" in e}
    row["candidates"] = []
    ranked = reading.choice().ranked
    row["front"] = [{"trial_id": c.trial_id, "step": c.step, "objective": c.objective,
                     "drift": c.drift} for c in front(ranked)]

    def held_out_of(candidate: Any) -> tuple[float, Path]:
        folder = run.fetch(candidate.checkpoint)
        task, model = checkpoint_model(Hyperparameters(**candidate.params), settings, folder)
        if "reference" not in row:  # the untuned model: the adapter off
            row["reference"] = score_suite(task, model, suite, torch.device("cpu"), base=True)
        return score_suite(task, model, suite, torch.device("cpu")), folder

    for candidate in ranked:
        held_out_score, folder = held_out_of(candidate)
        at = reports[(candidate.trial_id, candidate.step)]
        row["candidates"].append({
            "trial_id": candidate.trial_id, "step": candidate.step,
            # Named by what they measure: which of the two basin calls drift was this
            # benchmark's question (the answer loss since it ran; RESULTS.md section 9).
            "objective": candidate.objective, "answer_loss": candidate.drift,
            "kl": at.get("drift_kl"),
            "update_norm": update_norm(folder), "held_out": held_out_score})
        print(f"  {candidate.name}: held-out {row['candidates'][-1]['held_out']:.3f}", flush=True)
    held_out = {(c["trial_id"], c["step"]): c["held_out"] for c in row["candidates"]}
    row["choices"] = _choices(reading, settings, held_out, held_out_of)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweeps", nargs="+", choices=list(SWEEPS), default=list(SWEEPS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--resume", action="store_true", help="keep (sweep, seed) already done")
    parser.add_argument("--report", action="store_true", help="print the tables only")
    parser.add_argument("--smoke", action="store_true",
                        help="the instruction sweep on a tiny model, seed 0, in --work-dir")
    parser.add_argument("--multi-objective", action="store_true",
                        help="with --report: RESULTS.md 9b's recorded comparison")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / RESULTS_NAME)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="where the raw figures go [benchmarks/results]")
    args = parser.parse_args()
    extra: list[str] = []
    if args.smoke:
        args.sweeps, args.seeds, args.out = ["sft"], [0], args.work_dir
        extra = [part for value in SMOKE_SETS for part in ("--set", value)]
        extra += ["--set", "model.random_init_config=" + json.dumps(SMOKE_LLAMA)]
    if args.multi_objective and not args.report:
        parser.error("--multi-objective only reports the recorded runs (--report): basin 0.2 "
                     "removed search.multi_objective, measured no better (RESULTS.md 9b)")
    name = MO_RESULTS_NAME if args.multi_objective else RESULTS_NAME
    path = args.out / f"{name}.json"
    saved = json.loads(path.read_text()) if path.is_file() and (args.resume or args.report) \
        else {"machine": machine_facts(), "runs": []}
    if not args.report:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        run_missing(saved, "sweep", args.sweeps, args.seeds,
                    lambda sweep, seed: measure(sweep, seed, args.work_dir, extra),
                    lambda: save_json(name, saved, args.out))
    if args.multi_objective:
        single = args.out / f"{RESULTS_NAME}.json"
        print(mo_report(saved["runs"], json.loads(single.read_text())["runs"]
                        if single.is_file() else []))
    else:
        print(report(saved["runs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
