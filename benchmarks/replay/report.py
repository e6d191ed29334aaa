"""The replay benchmark's tables and plot: regret, steps, paired differences against basin with
bootstrap intervals, lost winners, the anytime curve; and the lookup's held-out error."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.curve_table import CurveTable

REFERENCE = "basin"


def bootstrap_interval(values: list[float], seed: int = 0, resamples: int = 4000,
                       level: float = 0.95) -> tuple[float, float]:
    """The ``level`` (95%) percentile-bootstrap interval of the mean of ``values``."""
    data = np.asarray(values, dtype=float)
    if len(data) < 2:
        return (math.nan, math.nan)
    draws = np.random.default_rng(seed).integers(0, len(data), (resamples, len(data)))
    means = data[draws].mean(axis=1)
    tail = round(50 * (1 - level), 9)  # 2.5 for 95%, exactly
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def cells_of(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, dict[int, dict]]]:
    """(table, trials, concurrency) -> method -> seed -> row."""
    cells: dict[tuple, dict[str, dict[int, dict]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        cells[(row["table"], row["trials"], row["concurrency"])][row["method"]][row["seed"]] = row
    return cells


def _mean_se(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:+.4f}"
    return f"{statistics.fmean(values):+.4f} ± {statistics.stdev(values) / len(values) ** 0.5:.4f}"


def _paired(method_rows: dict[int, dict], reference: dict[int, dict]) -> str:
    seeds = [s for s in method_rows if s in reference and method_rows[s]["regret"] is not None
             and reference[s]["regret"] is not None]
    if not seeds:
        return "-"
    diffs = [reference[s]["regret"] - method_rows[s]["regret"] for s in seeds]
    low, high = bootstrap_interval(diffs)
    better = sum(d < 0 for d in diffs)
    worse = sum(d > 0 for d in diffs)
    return f"{statistics.fmean(diffs):+.4f} [{low:+.4f}, {high:+.4f}] ({better}/{worse})"


def cell_table(method_rows: dict[str, dict[int, dict]], methods: list[str]) -> list[list[str]]:
    """One (table, trials, concurrency): a line per method."""
    lines = []
    reference = method_rows.get(REFERENCE, {})
    for method in methods:
        seeds = method_rows.get(method)
        if not seeds:
            continue
        rows = list(seeds.values())
        regrets = [r["regret"] for r in rows if r["regret"] is not None]
        figures = [r["test_figure"] for r in rows if r["test_figure"] is not None]
        ended, lost = Counter(), Counter()
        for r in rows:
            ended.update(r["winners"]["ended"])
            lost.update(r["winners"]["lost"])
        lines.append([
            method, f"{len(regrets)}/{len(rows)}", _mean_se(regrets),
            f"{statistics.median(regrets):+.4f}" if regrets else "-",
            f"{statistics.fmean(figures):.4f}" if figures else "-",
            f"{statistics.fmean(r['steps_share'] for r in rows):.0%}",
            f"{statistics.fmean(_with_retraining(r) for r in rows):.0%}",
            "-" if method == REFERENCE else _paired(seeds, reference),
            ", ".join(f"{k} {v}/{lost.get(k, 0)}" for k, v in sorted(ended.items())) or "-",
        ])
    return lines


def _with_retraining(row: dict) -> float:
    """Steps spent, with the re-training of a handed-on configuration, as a share of random
    search's full budget."""
    return (row["steps"] + row["retrain_steps"]) / row["steps"] * row["steps_share"]


HEADER = ["method", "answered", "regret (mean ± se)", "median", "test figure", "steps",
          "+ re-train", "basin − method [95% CI] (basin better/worse)",
          "top-5% winners ended/lost, by rule"]


def report(results: dict[str, Any], tables: list[CurveTable], plot: Path | None = None) -> str:
    """Markdown tables of every cell, and the anytime plot."""
    from benchmarks.common import print_table
    from benchmarks.replay.methods import METHODS, VARIANTS

    rows = results["rows"]
    methods = [m for m in [*METHODS, *VARIANTS] if any(r["method"] == m for r in rows)]
    parts = []
    for key, method_rows in sorted(cells_of(rows).items()):
        table, trials, concurrency = key
        title = f"{table}: {trials} trials, {concurrency} at a time"
        parts.append(f"**{title}**\n\n" + print_table(title, HEADER,
                                                      cell_table(method_rows, methods)))
    if plot is not None:
        draw_anytime(rows, methods, plot)
        parts.append(f"anytime plot: {plot}")
    return "\n\n".join(parts)


def anytime_means(anytimes: list[list[float | None]]) -> list[float]:
    """Mean regret at each recorded tenth of the budget over the sweeps that had handed
    something on by then (nan where none had)."""
    return [statistics.fmean(v[t] for v in anytimes if v[t] is not None)
            if any(v[t] is not None for v in anytimes) else math.nan
            for t in range(len(anytimes[0]))]


def draw_anytime(rows: list[dict[str, Any]], methods: list[str], path: Path,
                 concurrency: int | None = None) -> None:
    """Mean regret of what each method would hand on after each tenth of random search's full
    budget: a panel per (table, trials), a line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    concurrency = concurrency or min(r["concurrency"] for r in rows)
    keys = sorted({(r["table"], r["trials"]) for r in rows if r["concurrency"] == concurrency})
    tables = sorted({k[0] for k in keys})
    counts = sorted({k[1] for k in keys})
    figure, axes = plt.subplots(len(tables), len(counts), squeeze=False,
                                figsize=(4.2 * len(counts), 3.2 * len(tables)))
    colours = plt.get_cmap("tab10")
    for i, table in enumerate(tables):
        for j, trials in enumerate(counts):
            axis = axes[i][j]
            for k, method in enumerate(methods):
                picked = [r["anytime"] for r in rows if (r["table"], r["trials"], r["method"],
                          r["concurrency"]) == (table, trials, method, concurrency)]
                if not picked:
                    continue
                means = anytime_means(picked)
                shares = [10 * (t + 1) for t in range(len(means))]
                # tab10 has ten colours and the replay has up to sixteen methods: past ten the
                # colours repeat, so the line style and marker tell the methods apart.
                axis.plot(shares, means, marker="osv^"[k // 10 % 4], markersize=3,
                          linestyle=("-", "--", ":", "-.")[k // 10 % 4], color=colours(k % 10),
                          linewidth=2.2 if method == REFERENCE else 1.2, label=method)
            axis.set_title(f"{table}, {trials} trials ({concurrency} at a time)", fontsize=9)
            axis.set_xlabel("% of random search's full-budget steps", fontsize=8)
            axis.set_ylabel("mean test-loss regret", fontsize=8)
            axis.grid(alpha=0.3)
    # Every panel's methods, once each (a panel may lack a method: the freeze variants ran at
    # 20 and 40 trials only).
    by_label: dict[str, Any] = {}
    for axis in axes.flat:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            by_label.setdefault(label, handle)
    order = [m for m in methods if m in by_label]
    handles, labels = [by_label[m] for m in order], order
    figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def holdout_report(tables: list[CurveTable]) -> str:
    """Leave-one-out error of the lookup: each configuration answered by its nearest *other*
    configuration, compared with its own curve; under plain distance, and under weights fitted
    without it (nested), against answering with the table's mean."""
    import numpy as np
    from scipy.stats import spearmanr

    from benchmarks.curve_table import fit_weights

    lines = ["| table | configs | lookup | best val_loss MAE | Spearman | test loss at best step "
             "MAE | val curve MAE |", "|---|---|---|---|---|---|---|"]
    for table in tables:
        best = table.best_val_losses()
        ok = np.isfinite(best)
        test = np.array([table.row_at(i, table.best_val_step(i))["test_loss"] if ok[i]
                         else np.nan for i in range(len(best))])
        plain = np.ones(len(table.names))
        for name, weights_of in (("nearest", lambda i: plain),
                                 ("weighted nearest (nested)",
                                  lambda i: fit_weights(table.coords, best, exclude=i))):
            answer = [table.nearest(table.configs[i]["params"], weights_of(i), exclude=i)
                      for i in range(len(best))]
            pairs = [(i, j) for i, j in enumerate(answer) if ok[i] and ok[j]]
            own, near = best[[i for i, _ in pairs]], best[[j for _, j in pairs]]
            curve = [abs(x["val_loss"] - y["val_loss"]) for i, j in pairs
                     for x, y in zip(table.configs[i]["evaluations"],
                                     table.configs[j]["evaluations"])
                     if math.isfinite(x["val_loss"]) and math.isfinite(y["val_loss"])]
            lines.append(
                f"| {table.name} | {len(pairs)} | {name} | {np.mean(abs(own - near)):.4f} | "
                f"{spearmanr(own, near).statistic:.3f} | "
                f"{np.nanmean(abs(test[[i for i, _ in pairs]] - test[[j for _, j in pairs]])):.4f}"
                f" | {statistics.fmean(curve):.4f} |")
        lines.append(f"| {table.name} | {int(ok.sum())} | the table's mean | "
                     f"{np.mean(abs(best[ok] - best[ok].mean())):.4f} | - | "
                     f"{np.nanmean(abs(test[ok] - np.nanmean(test[ok]))):.4f} | - |")
        lines.append(f"| {table.name} | | fitted weights | " + ", ".join(
            f"{name} {weight:g}" for name, weight in zip(table.names, table.weights)) + " | | | |")
    return "\n".join(lines)
