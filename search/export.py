"""``basin export``: a production bundle of one trial's best checkpoint.

The bundle folder holds the LoRA adapter (``adapter_config.json`` + ``adapter_model.safetensors``,
so ``PeftModel.from_pretrained(base, DIR)`` loads it) with the classification head, the
tokenizer, ``config.yaml`` (a sweep file that re-trains the trial with ``basin run``),
``metrics.json``, ``versions.json``, ``probe.json`` and, with ``--merge``, ``merged/``: the base
model with the adapter merged in, loadable with plain ``from_pretrained``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from search.results import TrialRecord, best_record, best_spec, collect_records
from search.rundir import RunDir
from search.spec import SpecError, dump_spec
from trainables.checkpoint import PROBE_FILE, TRIAL_METRICS_FILE
from trainables.model import resolve_model_name

PACKAGES = ("torch", "transformers", "peft", "deepspeed", "ray", "optuna", "wandb", "basin")


def choose_trial(run: RunDir, trial_id: str | None) -> TrialRecord:
    """The named trial, or the sweep's best completed trial."""
    records = collect_records(run)
    if trial_id is None:
        record = best_record(records, run.spec.objective.mode)
        if record is None:
            raise SpecError([f"{run.shown}: no completed trial to export (name one with --trial)"])
    else:
        matches = [r for r in records if r.trial_id == trial_id]
        if not matches:
            known = ", ".join(r.trial_id for r in records)
            raise SpecError([f"--trial: no trial {trial_id!r} in {run.shown} (has {known})"])
        record = matches[0]
    if not record.checkpoint:
        raise SpecError([f"--trial: trial {record.trial_id} has no checkpoint to export"])
    return record


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def load_bundle(bundle: Path, base_model: str, num_labels: int):
    """Base model + the bundle's adapter, in eval mode, with plain transformers and peft."""
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the base's fresh head is expected: the adapter has it
    hf_logging.disable_progress_bar()
    base = AutoModelForSequenceClassification.from_pretrained(base_model, num_labels=num_labels)
    return PeftModel.from_pretrained(base, bundle).eval()


def verify_bundle(model, bundle: Path) -> float:
    """Largest difference between the bundle's logits and those the trial saved at its best
    step, on the probe texts."""
    import torch
    from transformers import AutoTokenizer

    probe = json.loads((bundle / PROBE_FILE).read_text())
    tokenizer = AutoTokenizer.from_pretrained(bundle)
    with torch.no_grad():
        encoded = tokenizer(probe["texts"], padding=True, truncation=True, return_tensors="pt")
        logits = model(**encoded).logits.float()
    return float((logits - torch.tensor(probe["logits"])).abs().max())


def export_bundle(run: RunDir, out: Path, trial_id: str | None = None, merge: bool = False,
                  verify: bool = True) -> dict:
    """Write the bundle of ``trial_id`` (default: the best completed trial) into ``out``."""
    record = choose_trial(run, trial_id)
    if out.exists() and any(out.iterdir()):
        raise SpecError([f"--out: {out} exists and is not empty"])
    spec = run.spec
    if spec.model.random_init_config is not None and (merge or verify):
        raise SpecError(["--merge/--verify: the base model was built from a config, not "
                         "loaded, so it cannot be rebuilt (use --no-verify)"])
    checkpoint = run.fetch(record.checkpoint)  # downloaded, for a run in an object store
    if not (checkpoint / TRIAL_METRICS_FILE).is_file():
        raise SpecError([f"--trial: trial {record.trial_id}'s checkpoint is gone "
                         f"({record.checkpoint})"])
    shutil.copytree(checkpoint, out, dirs_exist_ok=True)
    trial_metrics = json.loads((checkpoint / TRIAL_METRICS_FILE).read_text())
    label_names = json.loads((checkpoint / PROBE_FILE).read_text())["label_names"]
    base_model = resolve_model_name(spec.model.name)
    (out / TRIAL_METRICS_FILE).unlink()
    summary = {
        "trial": asdict(record),
        "metrics_at_best_step": trial_metrics,
        "objective": {"metric": spec.objective.metric, "mode": spec.objective.mode},
        "base_model": base_model,
        "label_names": label_names,
        "run_dir": run.shown,
    }
    header = (f"# Re-trains trial {record.trial_id} of sweep {spec.name}.\n"
              f"# basin run {out / 'config.yaml'}\n")
    (out / "config.yaml").write_text(header + dump_spec(best_spec(spec, record)))
    (out / "versions.json").write_text(json.dumps(package_versions(), indent=2))
    if verify or merge:
        model = load_bundle(out, base_model, len(label_names))
        if verify:
            summary["verified_max_logit_difference"] = verify_bundle(model, out)
        if merge:
            from transformers import AutoTokenizer

            merged = model.merge_and_unload()
            merged.save_pretrained(out / "merged")
            AutoTokenizer.from_pretrained(out).save_pretrained(out / "merged")
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    return summary
