"""What the keep policy leaves of finished run directories that kept everything (issue 34).

Each run directory given is copied to a scratch folder, given the ``keep`` block of the current
sweep files (or ``--per-trial``/``--best``), and put through the sweep's last pass
(``search/store/keep_final_pass.py``); the table compares the sizes, the candidates left, and
whether the choice and ``basin check``'s candidates are the same as before. The originals are not
touched.

    python -m benchmarks.keep_policy runs/minilm-lora-demo-20261203-021715 runs/...
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import yaml

from search.store.keep_final_pass import keep_what_counts
from search.store.reading import RunReading, read_run


def measure(original: Path, keep: dict, scratch: Path) -> dict:
    """Before and after the last pass on a copy of ``original`` with ``keep``."""
    copy = scratch / original.name
    shutil.copytree(original, copy)
    sweep = yaml.safe_load((copy / "sweep.yaml").read_text())
    (copy / "sweep.yaml").write_text(yaml.safe_dump({**sweep, "keep": keep}, sort_keys=False))
    reading = read_run(copy)
    run, records = reading.run, reading.records
    before, chosen = run.size_bytes(), reading.choice().chosen
    kept = keep_what_counts(run, records)
    after = RunReading(run)  # read again: what the pass left on disk
    records, after_choice = after.records, after.choice().chosen
    checked = (after.check_report or {}).get("candidates", [])
    intact = all(Path(records_checkpoint(records, c["trial_id"], c["step"]) or "/nonexistent",
                      "adapter_model.safetensors").is_file() for c in checked)
    return {"run": original.name, "before_mib": before / 2**20,
            "after_mib": run.size_bytes() / 2**20,
            "candidates": kept.candidates, "evaluations": kept.evaluations,
            "same_choice": (chosen.trial_id, chosen.step) == (after_choice.trial_id,
                                                              after_choice.step),
            "checked_intact": f"{len(checked)} {'yes' if intact else 'NO'}"}


def records_checkpoint(records, trial_id: str, step: int) -> str | None:
    record = next((r for r in records if r.trial_id == trial_id), None)
    return record.checkpoints.get(step) if record else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished run directories")
    parser.add_argument("--per-trial", type=int, default=1)
    parser.add_argument("--best", type=int, default=5)
    args = parser.parse_args()
    keep = {"per_trial": args.per_trial, "best": args.best}
    print(f"keep: {keep}")
    print(f"{'run':42} {'before MiB':>10} {'after MiB':>9} {'share':>6} {'kept':>7} "
          f"{'same choice':>11} {'checked kept':>12}")
    with tempfile.TemporaryDirectory() as scratch:
        for original in args.runs:
            row = measure(original, keep, Path(scratch))
            print(f"{row['run']:42} {row['before_mib']:10.1f} {row['after_mib']:9.1f} "
                  f"{row['after_mib'] / row['before_mib']:6.0%} "
                  f"{row['candidates']:>3}/{row['evaluations']:<3} {str(row['same_choice']):>11} "
                  f"{row['checked_intact']:>12}")


if __name__ == "__main__":
    main()
