"""The basin-check benchmark's tables, made from its raw figures (``basin_check.py``).

Per task: each criterion's test figures over seeds, paired with ``objective`` by seed; the rank
correlation of each signal with the candidates' test loss; what the check cost. Then the
protocol's rule for the default criterion over every run.
"""

from __future__ import annotations

import math
import statistics

from benchmarks.common import mean_sd, median, print_table

CRITERIA = ("objective", "one-se", "robust")
REFERENCE = "objective"  # the default unless a criterion beats it by more than one se
# Each signal, and the sign that would make it useful: a low val_loss, a small gap, a wide
# basin and a small drift should each go with a low test loss.
SIGNALS = {"val_loss": "+", "gap": "+", "basin_radius": "-", "drift": "+"}
TIE = 1e-9


def ranks(values: list[float]) -> list[float]:
    """Ranks from 1, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (nan when either side is constant or too short)."""
    if len(xs) < 3:
        return math.nan
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else math.nan


def _se(values: list[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.inf


def _paired(runs: list[dict], name: str) -> list[float]:
    return [r["choices"][name]["test_loss"] - r["choices"][REFERENCE]["test_loss"]
            for r in runs if name in r["choices"] and REFERENCE in r["choices"]]


def criteria_table(task: str, runs: list[dict]) -> str:
    second = "test_accuracy" if task == "classification" else "test_exact_match"
    header = ["criterion", "seeds", "test loss (mean ± sd)", f"{second} (mean ± sd)",
              "paired vs objective (mean ± se)", "lower / same / higher", "test loss per seed"]
    rows = []
    for name in CRITERIA:
        picked = [r["choices"][name] for r in runs if name in r["choices"]]
        diffs = _paired(runs, name)
        counts = (sum(d < -TIE for d in diffs), sum(abs(d) <= TIE for d in diffs),
                  sum(d > TIE for d in diffs))
        rows.append([name, len(picked), mean_sd(p["test_loss"] for p in picked),
                     mean_sd(p[second] for p in picked if second in p),
                     f"{statistics.fmean(diffs):+.4f} ± {_se(diffs):.4f}" if diffs else "-",
                     "/".join(map(str, counts)),
                     " ".join(f"{p['test_loss']:.4f}" for p in picked)])
    return print_table(f"{task}: what each criterion hands on, scored on test", header, rows)


def correlation_table(task: str, runs: list[dict]) -> str:
    header = ["signal", "useful if", "pooled Spearman with test loss (n)",
              "within-run Spearman (mean ± sd over runs)"]
    rows = []
    for signal, sign in SIGNALS.items():
        pairs = [(c[signal], c["test_loss"]) for r in runs for c in r["checked"]
                 if c.get(signal) is not None]
        within = [spearman(*zip(*[(c[signal], c["test_loss"]) for c in r["checked"]
                                  if c.get(signal) is not None])) for r in runs]
        within = [w for w in within if not math.isnan(w)]
        pooled = spearman(*zip(*pairs)) if len(pairs) > 2 else math.nan
        rows.append([signal, f"{sign} correlation", f"{pooled:+.3f} ({len(pairs)})",
                     mean_sd(within) if within else "-"])
    return print_table(f"{task}: rank correlation of each signal with the candidates' test loss",
                       header, rows)


def cost_table(runs: list[dict]) -> str:
    header = ["task", "runs", "sweep wall s (median)", "check s (median)",
              "check share (median, max)", "target < 15%"]
    rows = []
    for task in sorted({r["task"] for r in runs}):
        mine = [r for r in runs if r["task"] == task and r.get("check_share") is not None]
        if not mine:
            continue
        shares = [r["check_share"] for r in mine]
        rows.append([task, len(mine), f"{median(r['sweep_s'] for r in mine):.0f}",
                     f"{median(r['check_s'] for r in mine):.1f}",
                     f"{median(shares):.1%}, {max(shares):.1%}",
                     "met" if median(shares) < 0.15 else "missed"])
    return print_table("what basin check cost (the CLI's own line)", header, rows)


def verdict(runs: list[dict]) -> str:
    """The protocol's rule: the criterion with the lowest mean test loss over every run is the
    default, unless its paired difference to objective is within one se of zero."""
    best = None
    for name in CRITERIA:
        picked = [r for r in runs if name in r["choices"] and REFERENCE in r["choices"]]
        if not picked:
            continue
        loss = statistics.fmean(r["choices"][name]["test_loss"] for r in picked)
        diffs = _paired(picked, name)
        if best is None or loss < best[1]:
            best = (name, loss, statistics.fmean(diffs), _se(diffs), len(picked))
    if best is None:
        return "no run to decide on"
    name, loss, diff, se, count = best
    chosen = REFERENCE if name == REFERENCE or diff > -se else name
    return (f"Default criterion by the protocol: **{chosen}** (lowest mean test loss over "
            f"{count} runs: {name}, {loss:.4f}; paired difference to objective {diff:+.4f} ± "
            f"{se:.4f})")


def report(runs: list[dict]) -> str:
    """Every table and the verdict, as Markdown."""
    done = [r for r in runs if r.get("choices")]
    failed = [f"{r['task']} seed {r['seed']}: {r.get('failed')}" for r in runs
              if not r.get("choices")]
    parts = []
    for task in ("classification", "causal-lm"):
        mine = sorted((r for r in done if r["task"] == task), key=lambda r: r["seed"])
        if mine:
            parts += [criteria_table(task, mine), correlation_table(task, mine)]
    parts += [cost_table(done), verdict(done)]
    if failed:
        parts.append("Failed runs: " + "; ".join(failed))
    return "\n\n".join(parts)
