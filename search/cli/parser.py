"""The ``basin`` command line's arguments, help texts and examples (each subcommand's ``--help``
shows its own examples; ``basin --help`` shows them all)."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import get_args, get_origin

from search.spec.starter import CAUSAL_LM, CLASSIFICATION, TASK_ALIASES

RUN = "runs/minilm-lora-demo-20260101-120000"
EXAMPLES = {
    "init": ["basin init my_data.tsv                    # writes my_data.yaml beside it",
             "basin init sweeps/data/tickets.tsv --out my_sweep.yaml --trials 12",
             "basin init my_data.tsv --minutes 60            # a sweep that takes about an hour",
             "basin init chats.jsonl --task causal-lm    # a prompt and a response per row",
             "basin init --list-tasks                    # built-in and installed tasks"],
    "validate": ["basin validate sweeps/minilm_lora.yaml",
                 "basin validate sweeps/llm_lora_gpu.yaml --address auto"],
    "run": ["basin run sweeps/minilm_lora.yaml",
            "basin run sweeps/minilm_lora.yaml --set search.num_trials=4 --set "
            "training.max_steps=60",
            "basin run sweeps/smollm2_sft.yaml         # causal LM: SmolLM2-135M-Instruct, 2 CPUs",
            "basin run sweeps/minilm_lora.yaml --set resources.warm_workers=false",
            "basin run sweeps/minilm_lora.yaml --set scheduler.type=freeze  # pause, don't kill",
            "basin run sweeps/minilm_lora.yaml --set check.enabled=true  # basin check at the end",
            "basin run sweeps/llm_lora_gpu.yaml --address auto          # on a running Ray cluster",
            f"basin run {RUN}/best.yaml                # re-train the chosen checkpoint"],
    "train": [f"basin train {RUN}/best.yaml                 # the chosen recipe, here, no Ray",
              "basin train sweeps/minilm_lora.yaml --set space.learning_rate=1e-3 --set "
              "space.weight_decay=0 --set space.lora_dropout=0.1 --set space.lora_r=8 --set "
              "space.lora_alpha=16",
              "torchrun --nproc_per_node 4 -m search.cli train bundle/config.yaml  # 4 GPUs"],
    "resume": [f"basin resume {RUN}",
               f"basin resume {RUN} --sweep sweeps/minilm_lora.yaml"],
    "status": [f"basin status {RUN}",
               "basin status s3://my-bucket/basin/llm-lora-gpu-20260101-120000  # in a bucket"],
    "ls": ["basin ls", "basin ls /data/sweeps"],
    "best": [f"basin best {RUN}", f"basin best {RUN} --top 3",
             f"basin best {RUN} --within-gap-limit 0.2",
             f"basin best {RUN} --front"],
    "plots": [f"basin plots {RUN}"],
    "confirm": [f"basin confirm {RUN} --top 3 --seeds 2"],
    "check": [f"basin check {RUN}", f"basin check {RUN} --top 3 --radii 2 8 --directions 4"],
    "export": [f"basin export {RUN} --out bundle/ --merge",
               f"basin export {RUN} --out bundle/ --trial 3f2a1b0c --step 45",
               f"basin export {RUN} --out bundle/ --base local   # loads offline here"],
}
PYTHON_API = ("\n\nfrom Python (README, From Python), the same code with results as objects:\n"
              "  import basin\n"
              "  sweep = basin.run(\"sweeps/minilm_lora.yaml\", [\"search.num_trials=4\"])\n"
              "  sweep.chosen, sweep.trials()\n"
              "  basin.load(RUN_DIR), basin.export(RUN_DIR, \"bundle\"), "
              "basin.train(\"best.yaml\")")
USE_RULE = "rule"
VERBOSE_HELP = ("also show Ray's, Optuna's and the other libraries' own output (otherwise in "
                "RUN_DIR/driver.log; each trial's output is in its folder)")
ADDRESS_HELP = ("a Ray cluster to run on, e.g. 10.0.0.1:6379 or auto (default: $RAY_ADDRESS, "
                "else a local Ray instance)")
QUIET_HELP = "no per-evaluation progress lines"


def _examples(*commands: str) -> str:
    """The examples of ``commands``, their comments in one column."""
    lines = [line.split("#", 1) for c in commands for line in EXAMPLES[c]]
    width = max((len(parts[0].rstrip()) for parts in lines if len(parts) > 1), default=0)
    return "examples:\n" + "\n".join(
        f"  {parts[0].rstrip():<{width}}  #{parts[1]}" if len(parts) > 1 else f"  {parts[0]}"
        for parts in lines)


def basin_version() -> str:
    try:
        return version("basin")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


class _Commands:
    """The subcommands' parsers, with the arguments several of them share."""

    def __init__(self, parser: argparse.ArgumentParser):
        self._commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(self, name: str, help_text: str) -> argparse.ArgumentParser:
        return self._commands.add_parser(name, help=help_text, description=help_text,
                                         epilog=_examples(name),
                                         formatter_class=argparse.RawDescriptionHelpFormatter)

    def with_sweep(self, name: str, help_text: str) -> argparse.ArgumentParser:
        sub = self.command(name, help_text)
        sub.add_argument("sweep", metavar="SWEEP_FILE",
                         help="a sweep file, e.g. sweeps/minilm_lora.yaml")
        sub.add_argument("--set", dest="overrides", action="append", default=[],
                         metavar="KEY=VALUE",
                         help="override a field, e.g. --set search.num_trials=4 (repeatable)")
        return sub

    def with_run_dir(self, name: str, help_text: str) -> argparse.ArgumentParser:
        sub = self.command(name, help_text)
        sub.add_argument("run_dir", metavar="RUN_DIR",
                         help=f"a sweep's run directory, e.g. {RUN}"
                         " or s3://my-bucket/basin/minilm-lora-demo-20260101-120000")
        return sub


def _driving(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of a command that runs trials."""
    sub.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    sub.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub.add_argument("--address", metavar="ADDR", help=ADDRESS_HELP)
    return sub


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="basin",
        description="Hyperparameter sweeps of LoRA fine-tuning jobs (sequence classification "
        "or causal-LM instruction tuning) with Ray Tune, Optuna and DeepSpeed. Trials that "
        "overfit, stall or never learn are stopped early; every trial's checkpoints are "
        "candidates, and the sweep hands on the one its selection criterion chooses (basin "
        "best says which and why). Candidates that can never be chosen lose their weights as "
        "the sweep goes (the sweep file's keep block: each trial's best and the sweep's best "
        "five by default).",
        epilog=_examples(*EXAMPLES) + PYTHON_API,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"basin {basin_version()}")
    commands = _Commands(parser)
    for add in (_add_init, _add_run, _add_validate, _add_train, _add_resume, _add_status, _add_ls,
                _add_plots, _add_confirm, _add_check, _add_export, _add_best):
        add(commands)
    return parser


def _add_init(commands: _Commands) -> None:
    init = commands.command(
        "init", "write a commented starting sweep file for your own data file (CSV, TSV or "
        "JSONL): the task and columns read off the file, sizes chosen from its size")
    init.add_argument("data_file", type=Path, metavar="DATA_FILE", nargs="?",
                      help="your data: a text and a label per row (classification), or a "
                      "prompt and a response, or a chat (causal LM)")
    init.add_argument("--list-tasks", action="store_true",
                      help="list every task a sweep can name (model.task): the built-in ones "
                      "and those installed packages add; then exit")
    init.add_argument("--out", type=Path, metavar="FILE",
                      help="the sweep file to write [DATA_FILE with .yaml]")
    init.add_argument("--task", type=lambda name: TASK_ALIASES.get(name, name),
                      metavar="NAME",
                      help=f"model.task's name: {CLASSIFICATION} or {CAUSAL_LM} (classification: "
                      "the same as "
                      "sequence-classification) [read off the columns: prompt and response, or "
                      "messages: causal-lm]")
    init.add_argument("--model", metavar="NAME", help="a hub id or a local folder "
                      "[builtin:minilm; causal LM: builtin:smollm2-135m-instruct]")
    init.add_argument("--text-column", metavar="NAME",
                      help="the text (or prompt) column [found by its name, e.g. text, sentence]")
    init.add_argument("--label-column", metavar="NAME",
                      help="the label (or response) column [found by its name, e.g. label]")
    init.add_argument("--trials", type=int, default=10, metavar="N",
                      help="trials at most [10]; fewer when they would not fit --minutes")
    init.add_argument("--minutes", type=float, default=20, metavar="M",
                      help="the time the sweep may take on this machine, every trial trained "
                      "to its budget: its speed is measured here first (a few steps, about half "
                      "a minute), then trials, or their steps, are fewer to fit [20]")
    init.add_argument("--no-measure", action="store_true",
                      help="write the sweep without measuring this machine (no estimate)")
    init.add_argument("--verbose", action="store_true", help="also show the libraries' output "
                      "while the speed is measured (otherwise in ~/.cache/basin/speed/train.log)")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def _add_run(commands: _Commands) -> None:
    _driving(commands.with_sweep("run", "run a sweep: trials, the chosen checkpoint, "
                                 "leaderboard, results.json and best.yaml"))


def _add_validate(commands: _Commands) -> None:
    validate = commands.with_sweep(
        "validate", "check a sweep file and what it points at (data files, model, output_dir, "
        "this machine's cores) without running anything")
    validate.add_argument("--address", metavar="ADDR",
                          help="the cluster the sweep will run on: its resources are checked "
                          "by basin run, not against this machine")


def _add_train(commands: _Commands) -> None:
    train = commands.with_sweep(
        "train", "train one configuration in this process, without Ray, Optuna or W&B: a "
        "best.yaml or an export's config.yaml (the chosen recipe, for production), or a sweep "
        "file whose space is set to values; figures as it goes, a traceback you can debug; a "
        "recipe's reproduce block is checked: it says whether it landed on the sweep's figure")
    train.add_argument("--out", type=Path, metavar="DIR",
                       help="where each evaluation's checkpoint goes [OUTPUT_DIR/NAME-train-"
                       "TIMESTAMP]")
    train.add_argument("--verbose", action="store_true",
                       help="also show the libraries' own output (otherwise in DIR/driver.log)")


def _add_resume(commands: _Commands) -> None:
    resume = commands.with_run_dir("resume", "continue a sweep whose driver was killed or "
                                   "interrupted (Ctrl-C or SIGTERM); refused while a live "
                                   "driver runs it")
    resume.add_argument("--sweep", metavar="SWEEP_FILE",
                        help="refuse to resume unless the run directory ran this sweep file")
    _driving(resume)


def _add_status(commands: _Commands) -> None:
    commands.with_run_dir("status", "where a sweep stands (running, interrupted or finished): "
                          "its trials, best so far, time")


def _add_ls(commands: _Commands) -> None:
    listing = commands.command("ls", "past and running sweeps in a folder: name, start, "
                               "trials, best, state (finished, running, interrupted)")
    listing.add_argument("folder", nargs="?", default="runs", type=Path, metavar="DIR",
                         help="the folder that holds run directories (a sweep's output_dir) "
                         "[runs]")


def _add_plots(commands: _Commands) -> None:
    commands.with_run_dir("plots", "write the sweep's PNG plots into its run directory (again)")


def _add_confirm(commands: _Commands) -> None:
    confirm = commands.with_run_dir(
        "confirm", "re-train the top candidate checkpoints' recipes with new seeds and rank "
        "them by mean and spread (and test score, if there is a test split); the winner "
        "becomes the run's choice")
    confirm.add_argument("--top", type=int, default=3, metavar="K", help="candidates [3]")
    confirm.add_argument("--seeds", type=int, default=2, metavar="N", help="new seeds each [2]")
    _driving(confirm)


def _add_check(commands: _Commands) -> None:
    checking = commands.with_run_dir(
        "check", "measure the top candidates beyond the leaderboard: how flat each one's basin "
        "is (the loss along random directions around its weights) and how far it moved from "
        "the base model on general inputs; with basin confirm's spread over seeds. Figures go "
        "to check.json, results.json, basin best, W&B and check.png")
    add_check_flags(checking)
    checking.add_argument("--verbose", action="store_true", help="also show the libraries' "
                          "own output while models load (otherwise in RUN_DIR/driver.log)")


def _add_export(commands: _Commands) -> None:
    export = commands.with_run_dir("export", "a production bundle of the chosen checkpoint (or "
                                   "a named one); once basin confirm has run, of its winner")
    export.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder to write the bundle into (new or empty)")
    export.add_argument("--trial", metavar="ID",
                        help="a trial id (default: the sweep's choice; see basin best)")
    export.add_argument("--step", type=int, metavar="STEP",
                        help="with --trial: its checkpoint at this step (default: its best-ranked)")
    export.add_argument("--base", choices=("hub", "local"), default="hub",
                        help="how adapter_config.json names the base model: its hub id (loads "
                        "anywhere the hub or its cache is) or this machine's copy (loads here "
                        "with no network; a classifier's bundle then holds base/, the base with "
                        "a head for its labels, so that nothing is reported missing) [hub]")
    export.add_argument("--merge", action="store_true",
                        help="also write merged/: the base model with the adapter merged in")
    export.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip re-loading the bundle to check that it reproduces the "
                        "trial's figures (by default a bundle that does not is refused: exit 1)")
    export.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)


def _add_best(commands: _Commands) -> None:
    best = commands.with_run_dir("best", "the checkpoint a sweep hands on, why, and the "
                                 "leaderboard")
    best.add_argument("--top", type=int, metavar="K", help="show only the best K trials")
    best.add_argument("--within-gap-limit", nargs="?", const=USE_RULE, metavar="LIMIT",
                      help="only candidates whose gap is within LIMIT (default: the sweep's "
                      "gap rule threshold, stopping.gap.threshold), e.g. --within-gap-limit 0.2")
    best.add_argument("--front", action="store_true",
                      help="the candidates on the front of objective and drift (no other "
                      "has both a better objective and less drift from the base model) "
                      "instead of the leaderboard")


def add_check_flags(parser: argparse.ArgumentParser) -> None:
    """A flag per setting of ``basin check`` (``CheckSettings``), its help and default read off
    the settings model, so that they never disagree."""
    from trainables.check.settings import FLAGS, CheckSettings

    for name, field in CheckSettings.model_fields.items():
        many = get_origin(field.annotation) is list
        kind = get_args(field.annotation)[0] if many else field.annotation
        default = " ".join(f"{v:g}" for v in field.default) if many else f"{field.default:g}"
        parser.add_argument(FLAGS[name], dest=name, type=kind, nargs="+" if many else None,
                            metavar=name.split("_")[-1][0].upper(),
                            help=f"{field.description} [the sweep's check.{name}, else "
                                 f"{default}]")
