"""``basin export``: a production bundle of the checkpoint the sweep chose (or a named one).

The bundle folder holds the LoRA adapter (``adapter_config.json`` + ``adapter_model.safetensors``,
so ``PeftModel.from_pretrained(base, DIR)`` loads it) with the classification head, the
tokenizer, ``config.yaml`` (a sweep file that re-trains the trial with ``basin run``),
``metrics.json``, ``versions.json``, ``probe.json`` and, with ``--merge``, ``merged/``: the base
model with the adapter merged in, loadable with plain ``from_pretrained`` (a classifier, or for
``task: causal-lm`` a causal LM that generates).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from search.records import collect_records
from search.results import choice_of, recipe_text
from search.rundir import RunDir
from search.selection.candidates import Candidate, candidate_at
from search.spec import SpecError, trial_settings
from trainables.model_source import resolve_model_name
from trainables.reporting import PROBE_FILE, TRIAL_METRICS_FILE
from trainables.tasks import task_for

PACKAGES = ("torch", "transformers", "peft", "deepspeed", "ray", "optuna", "wandb", "basin")


@dataclass
class Pick:
    """The checkpoint to export and how it was picked."""

    candidate: Candidate
    how: str


def pick_checkpoint(run: RunDir, trial_id: str | None = None, step: int | None = None) -> Pick:
    """The run's choice (``basin confirm``'s winner once there is one), or the named trial's
    best-ranked checkpoint, or its checkpoint at ``step``."""
    records = collect_records(run)
    choice = choice_of(run, records)
    if trial_id is None:
        if step is not None:
            raise SpecError([f"--step: name the trial too (--trial ID --step {step})"])
        if choice.chosen is None:
            raise SpecError([f"{run.shown}: no checkpoint to export ({choice.why})"])
        return Pick(choice.chosen, choice.why)
    record = next((r for r in records if r.trial_id == trial_id), None)
    if record is None:
        known = ", ".join(r.trial_id for r in records)
        raise SpecError([f"--trial: no trial {trial_id!r} in {run.shown} (has {known})"])
    if not record.checkpoints:
        raise SpecError([f"--trial: trial {trial_id} has no checkpoint to export"])
    if step is None:
        best = choice.best_of(trial_id)
        if best is not None:
            return Pick(best, f"the best-ranked checkpoint of trial {trial_id}, as asked")
        # Asked for by name, a trial left out of the choice (e.g. not learning) still exports.
        step = max(record.checkpoints)
    if step not in record.checkpoints:
        raise SpecError([f"--step: trial {trial_id} has no checkpoint at step {step} (has "
                         f"{sorted(record.checkpoints)})"])
    row = next((row for row in record.evaluations if row["step"] == step), {"step": step})
    match = candidate_at(record, row, run.spec.objective.metric, run.spec.objective.mode)
    if match is None:
        raise SpecError([f"--step: trial {trial_id}'s checkpoint at step {step} has no finite "
                         f"{run.spec.objective.metric} ({record.outcome.label})"])
    return Pick(match, f"trial {trial_id} at step {step}, as asked ({record.outcome.label})")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def export_bundle(run: RunDir, out: Path, trial_id: str | None = None, merge: bool = False,
                  verify: bool = True, step: int | None = None) -> dict:
    """Write the bundle of the run's choice (or of ``trial_id``, at ``step``) into ``out``."""
    pick = pick_checkpoint(run, trial_id, step)
    if out.exists() and any(out.iterdir()):
        raise SpecError([f"--out: {out} exists and is not empty"])
    spec = run.spec
    if spec.model.random_init_config is not None and (merge or verify):
        raise SpecError(["--merge/--verify: the base model was built from a config, not "
                         "loaded, so it cannot be rebuilt (use --no-verify)"])
    chosen = pick.candidate
    checkpoint = run.fetch(chosen.checkpoint)  # downloaded, for a run in an object store
    if not (checkpoint / TRIAL_METRICS_FILE).is_file():
        raise SpecError([f"--trial: {chosen.name}: its checkpoint is gone ({chosen.checkpoint})"])
    shutil.copytree(checkpoint, out, dirs_exist_ok=True)
    task = task_for(trial_settings(spec))
    # Candidates leave the tokenizer out (it is the base model's): the bundle gets it here.
    task.tokenizer.save_pretrained(out)
    trial_metrics = json.loads((checkpoint / TRIAL_METRICS_FILE).read_text())
    probe = json.loads((checkpoint / PROBE_FILE).read_text())
    base_model = resolve_model_name(spec.model.name)
    (out / TRIAL_METRICS_FILE).unlink()
    summary = {
        "chosen": chosen.as_dict(),
        "why": pick.how,
        "metrics_at_step": trial_metrics,
        "objective": {"metric": spec.objective.metric, "mode": spec.objective.mode},
        "base_model": base_model,
        "task": spec.model.task,
        **({"label_names": probe["label_names"]} if "label_names" in probe else {}),
        "run_dir": run.shown,
    }
    (out / "config.yaml").write_text(
        recipe_text(spec, chosen, str(out / "config.yaml"), pick.how))
    (out / "versions.json").write_text(json.dumps(package_versions(), indent=2))
    if verify or merge:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # a classifier base's fresh head is expected
        hf_logging.disable_progress_bar()
        model = task.load_exported(base_model, str(out), probe)
        if verify:
            summary["verified_max_difference"] = task.probe_difference(model, probe)
        if merge:
            model.merge_and_unload().save_pretrained(out / "merged")
            task.tokenizer.save_pretrained(out / "merged")
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    return summary
