"""Trial throughput: basin's DeepSpeed LoRA training loop versus a plain PyTorch loop.

Both train the same model (all-MiniLM-L6-v2 + LoRA r=8 on query/value, classifier head), with
the same batches (micro-batch, maximum sequence length, shuffling seed), AdamW, linear decay
and gradient clipping, for the same number of optimizer steps, on the same CPU threads,
alternating, several repeats. basin's figure is the one its trials report
(``samples_per_second`` / ``tokens_per_second`` over the training steps, evaluations excluded);
the plain loop is timed over the same steps.

    python -m benchmarks.throughput                  # SST-2 sentences, 60 steps, 5 repeats
    python -m benchmarks.throughput --smoke          # tiny random model, 5 steps, 1 repeat
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    DEFAULT_WORK_DIR,
    RESULTS_DIR,
    SST2_TSV,
    carve_sst2,
    discard_checkpoint,
    machine_facts,
    median,
    one_process_group,
    print_table,
    save_json,
)
from benchmarks.search_efficiency import SMOKE_MODEL
from trainables.settings import Hyperparameters, TrialSettings

HYPERPARAMETERS = Hyperparameters(learning_rate=1e-3, weight_decay=0.01, lora_dropout=0.1,
                                  lora_r=8, lora_alpha=16)


def trial_settings(train_file: str | None, steps: int, batch: int, length: int, threads: int,
                   smoke: bool) -> TrialSettings:
    """One basin trial that trains ``steps`` steps and evaluates only at the end."""
    model = SMOKE_MODEL if smoke else {"name": "builtin:minilm",
                                       "lora_target_modules": ["query", "value"]}
    data: dict[str, Any] = ({"source": "files", "train_file": train_file, "text_column": "sentence"}
                            if train_file else {"source": "demo"})
    data.update(max_length=length, train_eval_samples=32)
    return TrialSettings(
        model=model, data=data,
        training={"max_steps": steps, "eval_every": steps, "micro_batch_size": batch,
                  "threads_per_worker": threads, "precision": "fp32"},
        deepspeed={"zero_stage": 0},
    )


def basin_loop(settings: TrialSettings) -> dict[str, float]:
    """basin's own loop (DeepSpeed engine, data, LoRA) as a trial runs it."""
    from trainables.recipe.loop import train

    one_process_group()
    final = train(HYPERPARAMETERS, settings, discard_checkpoint)
    return {"samples_per_s": final["samples_per_second"],
            "tokens_per_s": final["tokens_per_second"]}


def plain_loop(settings: TrialSettings) -> dict[str, float]:
    """transformers + peft + torch.optim.AdamW, nothing else; the same batches as basin's."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    from trainables.recipe.setup import seed_everything
    from trainables.tasks.classification.data import load_splits, make_loader
    from trainables.tasks.classification.model import load_base_model, load_tokenizer

    hp, training = HYPERPARAMETERS, settings.training
    torch.set_num_threads(training.threads_per_worker)
    seed_everything(training.seed)
    splits = load_splits(settings.data, seed=settings.data.demo.seed)
    tokenizer = load_tokenizer(settings.model)
    loader = make_loader(splits.train, tokenizer, training.micro_batch_size,
                         settings.data.max_length, 0, 1, shuffle=True, seed=training.seed)
    model = load_base_model(settings.model, len(splits.label_names), hp)
    model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, r=hp.lora_r,
                                             lora_alpha=hp.lora_alpha, lora_dropout=hp.lora_dropout,
                                             target_modules=settings.model.lora_target_modules))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=hp.learning_rate, weight_decay=hp.weight_decay)
    steps = training.max_steps
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    model.train()
    batches, samples, tokens, epoch = iter(loader), 0, 0, 0
    start = time.perf_counter()
    for _ in range(steps):
        try:
            batch = next(batches)
        except StopIteration:
            epoch += 1
            loader.sampler.set_epoch(epoch)
            batches = iter(loader)
            batch = next(batches)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()  # basin's loop reads every loss (NaN check, curves); so does this one
        samples += batch["labels"].numel()
        tokens += int(batch["attention_mask"].sum())
    seconds = time.perf_counter() - start
    return {"samples_per_s": samples / seconds, "tokens_per_s": tokens / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=64, help="maximum sequence length")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (a trial with cpus_per_worker=1 uses 1)")
    parser.add_argument("--sst2", type=Path, default=SST2_TSV,
                        help="SST-2 train.tsv; without it the demo task's sentences are used")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR / "throughput")
    parser.add_argument("--smoke", action="store_true", help="tiny random model, 5 steps, 1 repeat")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.repeats = 5, 1
    train_file = None
    if args.sst2.is_file():
        train_file = carve_sst2(args.work_dir, {"train": 2000}, seed=0, source=args.sst2)["train"]
    settings = trial_settings(train_file, args.steps, args.batch, args.length, args.threads,
                              args.smoke)

    loops = {"plain PyTorch": plain_loop, "basin (DeepSpeed ZeRO-0)": basin_loop}
    runs: dict[str, list[dict]] = {name: [] for name in loops}
    for repeat in range(args.repeats):
        for name, loop in loops.items():
            runs[name].append(loop(settings))
            print(f"repeat {repeat + 1}/{args.repeats} {name}: "
                  f"{runs[name][-1]['samples_per_s']:.1f} samples/s", flush=True)
    plain = median(r["samples_per_s"] for r in runs["plain PyTorch"])
    rows = [[name, f"{median(r['samples_per_s'] for r in values):.1f}",
             f"{median(r['tokens_per_s'] for r in values):.0f}",
             " ".join(f"{r['samples_per_s']:.1f}" for r in values),
             f"{median(r['samples_per_s'] for r in values) / plain:.3f}"]
            for name, values in runs.items()]
    data = "SST-2 sentences" if train_file else "demo sentences"
    title = (f"throughput: {'tiny model' if args.smoke else 'MiniLM-L6 + LoRA r=8'}, {data}, "
             f"batch {args.batch}, max length {args.length}, {args.threads} thread(s), "
             f"{args.steps} steps, fp32 CPU")
    table = print_table(title, ["loop", "samples/s (median)", "tokens/s (median)",
                                "samples/s each repeat", "ratio to plain"], rows)
    save_json("throughput",
              {"machine": machine_facts(), "settings": vars(args) | {"data": data}, "runs": runs},
              args.work_dir if args.smoke else RESULTS_DIR)
    print(table)


if __name__ == "__main__":
    main()
