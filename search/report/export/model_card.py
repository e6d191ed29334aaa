"""The model card (``README.md``) of an exported bundle: what the adapter is, what it was tuned
on, its hyperparameters, the sweep's figures at the chosen step, and the lines that load it
(with this bundle's own label names). It replaces the empty template peft writes."""

from __future__ import annotations

from typing import Any

from search.spec.model import SweepSpec
from trainables.contract import BASELINE_LOSS, GAP, STEP
from trainables.tasks import declared

# The figures a card shows (timings and bookkeeping stay in metrics.json).
FIGURE_PREFIXES = ("val_", "train_eval_", "test_")
FIGURES = (GAP, BASELINE_LOSS)


def _data(spec: SweepSpec) -> str:
    data = spec.data
    if data.source == "demo":
        return "basin's built-in demo task (`data.source: demo`)"
    if data.source == "hf":
        return f"the Hugging Face dataset `{data.hf_dataset}`" + (
            f" (`{data.hf_config}`)" if data.hf_config else "")
    files = [f"`{f}`" for f in (data.train_file, data.validation_file, data.test_file) if f]
    return "the files " + ", ".join(files)


def _table(rows: dict[str, Any]) -> str:
    lines = ["| | |", "|---|---|"]
    for name, value in rows.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"| {name} | {shown} |")
    return "\n".join(lines)


def _load_lines(spec: SweepSpec, labels: list[str] | None, merged: bool) -> str:
    task = declared(spec.model.task)
    auto_class, pipeline_task = task.peft_loader, task.pipeline
    id2label = f", id2label={dict(enumerate(labels))!r}" if labels else ""
    lines = ["```python", f"from peft import {auto_class}", "",
             f'model = {auto_class}.from_pretrained("path/to/bundle"{id2label})']
    if merged:
        lines += ["", "from transformers import pipeline", "",
                  f'pipe = pipeline("{pipeline_task}", model="path/to/bundle/merged")']
    return "\n".join(lines + ["```"])


def model_card(spec: SweepSpec, summary: dict, base_name: str, merged: bool,
               base_note: str = "") -> str:
    """The card's Markdown: ``summary`` is what ``metrics.json`` holds; ``base_name`` what
    ``adapter_config.json`` names as the base."""
    chosen = summary["chosen"]
    at_step = {name: value for name, value in summary["metrics_at_step"].items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)
               and (name.startswith(FIGURE_PREFIXES) or name in FIGURES)
               and not name.endswith("_distinct_predictions")}
    labels = summary.get("label_names")
    pipeline_task = declared(spec.model.task).pipeline
    header = "\n".join(["---", f"base_model: {base_name}", "library_name: peft",
                        f"pipeline_tag: {pipeline_task}", "tags:", "- basin", "- lora", "---"])
    parts = [
        header, "",
        f"# {spec.name}: trial {chosen['trial_id']} at step {chosen['step']}", "",
        f"A LoRA adapter for `{base_name}` ({spec.model.task}), chosen by basin from the "
        f"sweep `{spec.name}` (run directory `{summary['run_dir']}`).", "",
        f"Why this checkpoint: {summary['why']}.", "",
        f"Tuned on {_data(spec)}" + (f"; labels: {', '.join(labels)}." if labels else "."),
        *([f"\n{base_note}"] if base_note else []), "",
        "## Load it", "",
        _load_lines(spec, labels, merged), "",
        "`merged/` (when exported with `--merge`) is the base model with the adapter merged in; "
        "it needs nothing but transformers." if merged else
        "Export with `basin export --merge` for a merged model that needs only transformers.", "",
        f"Without network: `adapter_config.json` names the base `{base_name}`; where that is a "
        "hub id, load the base from a local copy and the adapter onto it "
        "(`PeftModel.from_pretrained(base, \"path/to/bundle\")`, `base` loaded with "
        "`from_pretrained(\"path/to/base\")`), or export with `basin export --base local`, "
        "which names this machine's copy of the base (for a classifier, `base/` in the bundle: "
        "the base with a head for these labels, so that loading reports no weight missing).",
        "",
        "## Hyperparameters", "",
        _table({**chosen["params"], "training seed": spec.training.seed,
                "optimizer steps": chosen[STEP],
                "micro batch size": spec.training.micro_batch_size,
                "max length": spec.data.max_length}), "",
        f"## Figures at step {chosen['step']} ({summary['objective']['metric']}, "
        f"{summary['objective']['mode']})", "",
        _table(at_step), "",
        "Re-train exactly this checkpoint with `basin run config.yaml`; `metrics.json` holds "
        "these figures and `versions.json` the library versions.", "",
    ]
    return "\n".join(parts)
