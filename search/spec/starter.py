"""``basin init DATA_FILE``: a commented starting sweep file for a user's own data file.

The data is read once (CSV, TSV or JSONL); its columns say the task (a text and a label:
classification; a prompt and a response, or a chat: causal LM), its size sets the rest: the
validation share, the sequence length, the micro batch, the number of steps (about eight
passes over the training split), the evaluation interval, the scheduler's first rung and the
stop rules' grace, and the training sample of the gap. Each choice is written with the numbers
it came from, so the file explains itself.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from search.core.errors import SpecError
from trainables.data_files import DataFileError, read_rows

TEXT_NAMES = ("text", "sentence", "message", "review", "content", "body", "comment", "utterance")
LABEL_NAMES = ("label", "labels", "class", "category", "team", "target", "intent", "sentiment",
               "topic", "y")
PROMPT_NAMES = ("prompt", "instruction", "question", "input", "query")
RESPONSE_NAMES = ("response", "answer", "output", "completion", "target")
CLASSIFICATION, CAUSAL_LM = "sequence-classification", "causal-lm"  # model.task's names
# The name ``basin init --task`` took before it used model.task's: still accepted.
TASK_ALIASES = {"classification": CLASSIFICATION}
MODELS = {CLASSIFICATION: "builtin:minilm", CAUSAL_LM: "builtin:smollm2-135m-instruct"}
STARTERS = tuple(MODELS)  # the tasks basin init writes a starting sweep for
PASSES = 8          # passes over the training split: room to see the validation loss turn
EVALUATIONS = 8     # evaluations per trial: enough points for a curve and the stop rules
MIN_ROWS = 10       # below this no split is worth measuring


@dataclass(frozen=True)
class DataShape:
    """What ``basin init`` read off the data file."""

    rows: int
    columns: list[str]
    task: str                   # model.task: "sequence-classification" or "causal-lm"
    text: str                   # the text column, or the prompt column of a causal LM
    label: str | None           # the label column, or the response column; None for chats
    classes: dict[str, int]     # rows per label (classification)
    words_p95: int              # the 95th percentile of words per row (text and answer)


def check_init_task(task: str) -> None:
    """Refuse ``--task`` for a task basin init cannot write a starting sweep for: one line that
    says whether the task exists at all and what to start from instead."""
    from trainables.tasks import declared, installed_tasks

    if task in STARTERS:
        return
    try:
        declaration = declared(task)
    except ValueError:
        others = ", ".join(installed_tasks()) or "none"
        raise SpecError([f"--task: no such task; basin init writes sweeps for "
                         f"{', '.join(STARTERS)} (tasks installed packages add: {others}; "
                         f"basin init --list-tasks) (got {task!r})"]) from None
    package = declaration.implementation.split(".", 1)[0]
    raise SpecError([f"--task: {task} comes from {package}, and basin init writes starting "
                     f"sweeps for the built-in tasks only ({', '.join(STARTERS)}): start from "
                     f"{package}'s own example sweep, which names model.task: {task} (got "
                     f"{task!r})"])


def read_shape(path: Path, task: str | None = None, text: str | None = None,
               label: str | None = None) -> DataShape:
    """Read ``path`` and find its task and columns (the user's ``text``/``label`` win)."""
    if not path.is_file():
        raise SpecError([f"{path}: file not found"])
    try:
        columns, rows = read_rows(path)
        records = [row for _, row in rows]
    except DataFileError as error:
        raise SpecError([f"{path}: {error}"]) from None
    if len(records) < MIN_ROWS:
        raise SpecError([f"{path}: {len(records)} rows: too few to train on and choose by "
                         f"(at least {MIN_ROWS}; a few hundred give a validation loss worth "
                         f"choosing by)"])
    task = TASK_ALIASES.get(task, task) if task else _guess_task(columns)
    if task == CAUSAL_LM and "messages" in columns and text is None:
        return DataShape(len(records), columns, task, "messages", None, {},
                         _words_p95(records, ["messages"]))
    names = (PROMPT_NAMES, RESPONSE_NAMES) if task == CAUSAL_LM else (TEXT_NAMES, LABEL_NAMES)
    text = text or _column(columns, names[0], path, "text" if task != CAUSAL_LM else "prompt")
    label = label or _column([c for c in columns if c != text], names[1], path,
                             "label" if task != CAUSAL_LM else "response")
    for given in (text, label):
        if given not in columns:
            raise SpecError([f"{path}: no column {given!r} (it has {columns})"])
    classes = dict(Counter(str(row.get(label, "")).strip() for row in records)) \
        if task == CLASSIFICATION else {}
    if task == CLASSIFICATION and len(classes) < 2:
        raise SpecError([f"{path}: column {label!r} has one label ({list(classes)}); a "
                         "classifier needs at least two"])
    used = [text] if task == CLASSIFICATION else [text, label]
    return DataShape(len(records), columns, task, text, label, classes,
                     _words_p95(records, used))


def _guess_task(columns: list[str]) -> str:
    lowered = {c.lower() for c in columns}
    chat = "messages" in lowered
    pairs = lowered & set(PROMPT_NAMES) and lowered & set(RESPONSE_NAMES) - set(LABEL_NAMES)
    return CAUSAL_LM if chat or pairs else CLASSIFICATION


def _column(columns: list[str], names: tuple[str, ...], path: Path, role: str) -> str:
    for name in names:
        for column in columns:
            if column.lower() == name:
                return column
    raise SpecError([f"{path}: no {role} column found among {columns}; name it with "
                     f"--{'text' if role in ('text', 'prompt') else 'label'}-column"])


def _words_p95(records: list[dict], columns: list[str]) -> int:
    counts = sorted(sum(len(str(row.get(c, "")).split()) for c in columns) for row in records)
    return counts[min(len(counts) - 1, math.ceil(0.95 * len(counts)) - 1)]


@dataclass(frozen=True)
class Plan:
    """The sizes ``basin init`` chose, each from the data's size."""

    validation_fraction: float
    train_rows: int
    validation_rows: int
    max_length: int
    micro_batch_size: int
    max_steps: int
    eval_every: int
    grace_period: int
    gap_grace: int
    train_eval_samples: int


def plan(shape: DataShape) -> Plan:
    """Sizes for ``shape``: a validation split of at least ~50 rows where the data allows (20
    to 30% of it), sequences that hold 95% of the rows whole, and about eight passes over the
    training split in eight evaluations."""
    fraction = min(0.3, max(0.2, round(50 / shape.rows / 0.05) * 0.05))
    validation = max(1, int(shape.rows * fraction))  # as trainables/data_files.py carves it
    train = shape.rows - validation
    # ~1.3 tokens per English word, plus the special tokens; a multiple of 16, 16 to 512.
    length = min(512, max(16, 16 * math.ceil((shape.words_p95 * 1.3 + 4) / 16)))
    batch = 16 if train >= 64 else max(2, 2 ** int(math.log2(max(2, train // 4))))
    per_pass = math.ceil(train / batch)
    every = max(1, math.ceil(PASSES * per_pass / EVALUATIONS))
    return Plan(round(fraction, 2), train, validation, length, batch, every * EVALUATIONS, every,
                grace_period=every * EVALUATIONS // 2, gap_grace=every * 2,
                train_eval_samples=min(128, train))


def with_evaluation_every(sizes: Plan, every: int) -> Plan:
    """The plan with evaluations every ``every`` steps, as many evaluations as before (a trial
    made shorter to fit a time budget: ``basin init --minutes``)."""
    return replace(sizes, max_steps=every * EVALUATIONS, eval_every=every,
                   grace_period=every * EVALUATIONS // 2, gap_grace=every * 2)


def passes(sizes: Plan) -> float:
    """How many times a trial reads its training split."""
    return sizes.max_steps * sizes.micro_batch_size / max(1, sizes.train_rows)


SPACES = {
    CLASSIFICATION: """\
  learning_rate: {type: float, low: 3.0e-4, high: 1.0e-2, log: true}
  weight_decay: {type: float, low: 0.0, high: 0.1}
  lora_dropout: {type: float, low: 0.0, high: 0.3}
  lora_r: {type: choice, values: [4, 8, 16]}
  lora_alpha: {type: choice, values: [8, 16, 32]}""",
    CAUSAL_LM: """\
  learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
  weight_decay: {type: float, low: 0.0, high: 0.1}
  lora_dropout: {type: float, low: 0.0, high: 0.3}
  lora_r: {type: choice, values: [4, 8, 16]}
  lora_alpha: {type: choice, values: [8, 16, 32]}""",
}
TARGETS = {"builtin:minilm": "[query, value]", "builtin:smollm2-135m-instruct": "[q_proj, v_proj]"}


def starter_text(data_file: str, shape: DataShape, sizes: Plan, name: str, model: str | None,
                 trials: int, out: str) -> str:
    """The sweep file, commented: what was read, and where each size came from."""
    model = model or MODELS[shape.task]
    if shape.task == CLASSIFICATION:
        counts = ", ".join(f"{label} {n}" for label, n in sorted(shape.classes.items()))
        what = (f"classification: text column {shape.text!r}, label column {shape.label!r}; "
                f"{len(shape.classes)} labels: {counts}")
        columns = f"  text_column: {shape.text}\n  label_column: {shape.label}\n"
    elif shape.label is None:
        what, columns = "causal LM on chats (column 'messages')", "  messages_column: messages\n"
    else:
        what = (f"causal LM: prompt column {shape.text!r}, response column {shape.label!r}; "
                f"the loss covers the response")
        columns = f"  prompt_column: {shape.text}\n  response_column: {shape.label}\n"
    target = f"  lora_target_modules: {TARGETS[model]}\n" if model in TARGETS else ""
    task = f"  task: {CAUSAL_LM}\n" if shape.task == CAUSAL_LM else ""
    per_trial = sizes.max_steps // sizes.eval_every
    about = textwrap.fill(
        f"Written by `basin init {data_file}`: a starting sweep for the {shape.rows} rows of "
        f"{data_file} ({what}). Every size below was chosen from the data's size and says so; "
        f"change any of them (basin validate {out} checks the file, cheaply).",
        width=94, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False)
    return f"""\
# basin run {out}
#
{about}
name: {name}
model:
  name: {model}
{task}{target}data:
  source: files
  train_file: {data_file}   # relative to where you run basin
{columns}\
  validation_fraction: {sizes.validation_fraction}   # {sizes.validation_rows} of {shape.rows} \
rows held out to choose by
  # test_file: my_test.tsv   # rows nobody tunes on: basin confirm scores the choice on them
  max_length: {sizes.max_length}   # tokens; holds 95% of the rows whole ({shape.words_p95} words)
  train_eval_samples: {sizes.train_eval_samples}   # training rows whose loss the gap rule compares
training:
  max_steps: {sizes.max_steps}   # ~{passes(sizes):.0f} passes over {sizes.train_rows} training rows
  eval_every: {sizes.eval_every}   # {per_trial} evaluations a trial, each a candidate checkpoint
  micro_batch_size: {sizes.micro_batch_size}
space:
{SPACES[shape.task]}
objective: {{metric: val_loss, mode: min}}
search: {{sampler: tpe, num_trials: {trials}, max_concurrent_trials: 2, seed: 0}}
scheduler: {{type: asha, grace_period: {sizes.grace_period}, reduction_factor: 2}}   # rung \
halfway
stopping:
  not_learning: {{min_improvement: 0.02}}
  gap: {{patience: 2, grace_steps: {sizes.gap_grace}}}
selection: {{criterion: objective}}
resources: {{workers: 1, cpus_per_worker: 1}}
# check: {{top: 5}}   # basin check of the best candidates when the sweep ends
output_dir: runs
"""
