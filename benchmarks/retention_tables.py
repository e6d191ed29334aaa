"""The tables of the retention validation (``benchmarks/retention_check.py``, RESULTS.md
section 9): each signal's rank correlation with the drop of held-out skills, the two choices,
and what measuring the drift cost."""

from __future__ import annotations

import math
import statistics
from types import SimpleNamespace

from benchmarks.check_tables import spearman
from benchmarks.common import mean_sd, print_table

# Each signal by what it measures, and its name in basin: the answer loss became `drift` by this
# benchmark's rule (the higher mean correlation), the KL `drift_kl`.
SIGNALS = ("answer_loss", "kl", "update_norm")
HEADERS = ("drift (answer loss)", "drift_kl (KL)", "update_norm")
KEPT = "answer_loss"
BAR_CORRELATION = 0.6
BAR_KEPT = 0.9      # of the untuned model's held-out score
BAR_POINTS = 0.01   # test exact match within 1 point of objective's
BAR_TRIAL_SHARE, BAR_SWEEP_SHARE = 0.05, 0.10


def correlations(run: dict) -> dict[str, float]:
    """Each signal's Spearman correlation with the held-out drop over the run's candidates."""
    drops = [run["reference"] - c["held_out"] for c in run["candidates"]]
    return {signal: spearman([c[signal] for c in run["candidates"]], drops)
            for signal in SIGNALS}


def correlation_table(runs: list[dict]) -> str:
    rows, by_signal = [], {signal: [] for signal in SIGNALS}
    for run in runs:
        found = correlations(run)
        for signal in SIGNALS:
            if not math.isnan(found[signal]):
                by_signal[signal].append(found[signal])
        rows.append([run["sweep"], run["seed"], len(run["candidates"]),
                     f"{run['reference']:.3f}",
                     f"{min(c['held_out'] for c in run['candidates']):.3f}",
                     *[f"{found[s]:+.2f}" for s in SIGNALS]])
    rows.append(["mean ± sd", "", "", "", "", *[mean_sd(by_signal[s]) for s in SIGNALS]])
    return print_table(f"Spearman of each signal with the held-out drop (bar: >= "
                       f"{BAR_CORRELATION} in the mean)",
                       ["sweep", "seed", "candidates", "untuned", "worst held-out", *HEADERS],
                       rows)


def choice_table(runs: list[dict]) -> str:
    rows = []
    for run in runs:
        objective, retentive = run["choices"]["objective"], run["choices"]["retentive"]
        rows.append([run["sweep"], run["seed"], f"{run['reference']:.3f}",
                     *[f"{c['held_out']:.3f} ({c['held_out'] / run['reference']:.0%})"
                       if run["reference"] else f"{c['held_out']:.3f}"
                       for c in (objective, retentive)],
                     *[f"{c['test_exact_match']:.3f}" for c in (objective, retentive)],
                     f"{retentive['test_exact_match'] - objective['test_exact_match']:+.3f}",
                     *[f"{c['test_loss']:.3f}" for c in (objective, retentive)],
                     "same" if (objective["trial_id"], objective["step"]) ==
                     (retentive["trial_id"], retentive["step"]) else "other"])
    return print_table(
        f"The choices: held-out score (share of the untuned model's; bar: retentive >= "
        f"{BAR_KEPT:.0%}) and test exact match (bar: within {BAR_POINTS * 100:.0f} point)",
        ["sweep", "seed", "untuned", "objective held-out", "retentive held-out",
         "objective test EM", "retentive test EM", "difference", "objective test loss",
         "retentive test loss", "checkpoint"], rows)


def cost_table(runs: list[dict]) -> str:
    rows = [[run["sweep"], run["seed"], f"{run['wall_s']:.0f}", f"{run['cost']['drift_s']:.0f}",
             f"{run['cost']['share_of_trials']:.1%}", f"{run['cost']['share_of_sweep']:.1%}"]
            for run in runs]
    return print_table(f"What measuring the drift cost (bars: {BAR_TRIAL_SHARE:.0%} of trial "
                       f"time, {BAR_SWEEP_SHARE:.0%} of the sweep)",
                       ["sweep", "seed", "sweep s", "drift s", "of trial time",
                        "of sweep x slots"], rows)


def verdict(runs: list[dict]) -> str:
    """The protocol's bars, each met or not, in a few lines."""
    kept = [correlations(r)[KEPT] for r in runs]
    kept = [value for value in kept if not math.isnan(value)]
    shares = [r["cost"]["share_of_trials"] for r in runs]
    held = [r["choices"]["retentive"]["held_out"] / r["reference"] for r in runs
            if r["reference"]]
    points = [r["choices"]["retentive"]["test_exact_match"]
              - r["choices"]["objective"]["test_exact_match"] for r in runs]
    lines = [f"drift's mean correlation {statistics.fmean(kept):+.2f} over {len(kept)} runs "
             f"(bar {BAR_CORRELATION})" if kept else "no correlation could be computed",
             f"cost: at most {max(shares):.1%} of trial time (bar {BAR_TRIAL_SHARE:.0%})"]
    if held:
        lines.append(f"retentive keeps {statistics.fmean(held):.0%} of the untuned held-out "
                     f"score (bar {BAR_KEPT:.0%}), test EM {statistics.fmean(points):+.3f} vs "
                     f"objective (bar -{BAR_POINTS})")
    return "\n".join(lines)


def report(runs: list[dict]) -> str:
    """Every table and the verdict, as Markdown for RESULTS.md (failed runs listed)."""
    done = [r for r in runs if "candidates" in r and r.get("candidates")]
    failed = [f"{r['sweep']} seed {r['seed']}: {r.get('failed', 'no candidate')}" for r in runs
              if r not in done]
    if not done:
        return "no finished run yet" + "".join(f"\nfailed: {line}" for line in failed)
    parts = [correlation_table(done), choice_table(done), cost_table(done), verdict(done)]
    parts += [f"failed: {line}" for line in failed]
    return "\n\n".join(parts)


# RESULTS.md 9b: what counts as a win for the multi-objective search (written before the runs).
MO_RETENTIVE_GAIN = 0.05    # retentive's mean test loss at least this much below single's
MO_OBJECTIVE_SLACK = 0.02   # objective's mean test loss at most this much above single's


def _front_of(run: dict) -> int:
    """How many candidates of a run are on the front of (objective, drift): as the run
    recorded it, or, for section 9's runs (which kept every candidate, not the front), by
    basin's own definition (``search/selection/front.py``) over them."""
    from search.selection.front import front

    if "front" in run:
        return len(run["front"])
    # front reads only these fields; the objective is a validation loss (lower is better).
    return len(front([SimpleNamespace(score=c["objective"], drift=c["answer_loss"],
                                      step=c["step"], trial_id=c["trial_id"])
                      for c in run["candidates"]]))


def mo_report(mo_runs: list[dict], single_runs: list[dict]) -> str:
    """The multi-objective runs beside the single-objective runs of the same (sweep, seed):
    each choice's test loss, test exact match and held-out share, the front's size and the
    sweep's wall time; then the protocol's win condition in a few lines."""
    single = {(r["sweep"], r["seed"]): r for r in single_runs if r.get("choices")}
    pairs = [(single[(r["sweep"], r["seed"])], r) for r in mo_runs
             if r.get("choices") and (r["sweep"], r["seed"]) in single]
    failed = [f"{r['sweep']} seed {r['seed']}: {r.get('failed', 'no choice')}" for r in mo_runs
              if not r.get("choices")]
    if not pairs:
        return "no finished pair yet" + "".join(f"\nfailed: {line}" for line in failed)
    rows = []
    for pair in pairs:
        for search, run in zip(("single", "multi"), pair):
            rows.append([run["sweep"], run["seed"], search, *[
                f"{c['test_loss']:.3f} / {c['test_exact_match']:.3f} / "
                f"{c['held_out'] / run['reference']:.0%}"
                for c in (run["choices"]["objective"], run["choices"]["retentive"])],
                _front_of(run), f"{run['wall_s']:.0f}"])
    table = print_table(
        "Single- and multi-objective search, each choice's test loss / test EM / held-out share "
        "of the untuned model", ["sweep", "seed", "search", "objective", "retentive",
                                 "front size", "wall s"], rows)

    def mean(runs: list[dict], choice: str, figure: str) -> float:
        return statistics.fmean(r["choices"][choice][figure] for r in runs)

    singles, multis = [p[0] for p in pairs], [p[1] for p in pairs]
    gain = mean(singles, "retentive", "test_loss") - mean(multis, "retentive", "test_loss")
    slack = mean(multis, "objective", "test_loss") - mean(singles, "objective", "test_loss")
    kept = statistics.fmean(r["choices"]["retentive"]["held_out"] / r["reference"]
                            for r in multis)
    won = gain >= MO_RETENTIVE_GAIN and kept >= BAR_KEPT and slack <= MO_OBJECTIVE_SLACK
    lines = [f"retentive's test loss {gain:+.3f} lower with multi-objective search (win: >= "
             f"{MO_RETENTIVE_GAIN}), keeping {kept:.0%} of the untuned held-out score (>= "
             f"{BAR_KEPT:.0%}); objective's test loss {slack:+.3f} (at most "
             f"+{MO_OBJECTIVE_SLACK}); over {len(pairs)} seed pairs: "
             + ("a win" if won else "not a win")]
    return "\n\n".join([table, *lines, *[f"failed: {line}" for line in failed]])
