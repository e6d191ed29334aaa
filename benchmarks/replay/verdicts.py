"""Equivalence verdicts over replayed sweeps (RESULTS.md, "How sure is the hand-over?"): is a
method better, worse, or the same as a reference within a margin, or can the replay not tell?

Per (table, trials, trials at a time), a method's regret is paired with the reference's over
the replay seeds both ran: d = mean regret(method) - mean regret(reference), with a 90%
percentile-bootstrap interval [lo, hi] (4000 resamples over the seeds). With the table's margin
(its noise floor, ``benchmarks/noise_floor.py``):

- equivalent within the margin: -margin < lo and hi < margin (two one-sided tests at 5%);
- better: hi < 0 and not equivalent; worse: lo > 0 and not equivalent;
- cannot tell: anything else (the interval crosses 0 and reaches beyond the margin).

And the steps a method needs to match the reference: the fewest tenths of random search's full
budget at whose end what the method would hand on is "equivalent" or "better" than what the
reference hands on at its end.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.replay.report import bootstrap_interval, cells_of
from benchmarks.replay.scoring import ANYTIME_SHARES

LEVEL = 0.90  # two one-sided tests at 5% each
EQUIVALENT, BETTER, WORSE, CANNOT_TELL = ("equivalent", "better", "worse", "cannot tell")


def verdict(low: float, high: float, margin: float) -> str:
    """The verdict of a paired difference's interval (method minus reference; lower regret is
    better) against ``margin``."""
    if -margin < low and high < margin:
        return EQUIVALENT
    if high < 0:
        return BETTER
    if low > 0:
        return WORSE
    return CANNOT_TELL


def paired(method: dict[int, float | None], reference: dict[int, float | None]
           ) -> list[float]:
    """Per replay seed both answered, regret(method) - regret(reference)."""
    return [method[seed] - reference[seed] for seed in sorted(method)
            if method[seed] is not None and reference.get(seed) is not None]


def compare(differences: list[float], margin: float) -> dict[str, Any] | None:
    """The mean difference, its interval and its verdict (None for fewer than two seeds)."""
    if len(differences) < 2:
        return None
    low, high = bootstrap_interval(differences, level=LEVEL)
    return {"d": statistics.fmean(differences), "lo": low, "hi": high,
            "seeds": len(differences), "verdict": verdict(low, high, margin)}


def cell_verdicts(method_rows: dict[str, dict[int, dict]], reference: str, margin: float
                  ) -> dict[str, dict[str, Any]]:
    """Every method of one cell against ``reference``: its final regret's comparison, and the
    fewest steps (a share of random search's full budget) at which it matches the reference's
    final regret (None: not within the budget)."""
    base = {seed: row["regret"] for seed, row in method_rows.get(reference, {}).items()}
    found = {}
    for method, rows in method_rows.items():
        if method == reference or not base:
            continue
        final = compare(paired({s: r["regret"] for s, r in rows.items()}, base), margin)
        if final is None:
            continue
        matched = None
        for tenth, share in enumerate(ANYTIME_SHARES):
            at = compare(paired({s: r["anytime"][tenth] for s, r in rows.items()}, base), margin)
            if at is not None and at["verdict"] in (EQUIVALENT, BETTER):
                matched = share
                break
        found[method] = {**final, "steps_to_match": matched,
                         "steps_share": statistics.fmean(r["steps_share"] for r in rows.values())}
    return found


def margins(tables: list[str], results_dir: Path) -> dict[str, float]:
    """Each table's margin: the noise floor ``sigma`` its ``noise_floor_<table>.json`` holds
    (a table without one has no margin and gets no verdicts)."""
    found = {}
    for table in tables:
        path = results_dir / f"noise_floor_{table}.json"
        if path.is_file() and (sigma := json.loads(path.read_text()).get("sigma")) is not None:
            found[table] = float(sigma)
    return found


def verdict_rows(rows: list[dict[str, Any]], margin_of: dict[str, float], reference: str
                 ) -> list[dict[str, Any]]:
    """Every (table, trials, trials at a time, method) against ``reference``, where the table
    has a margin."""
    out = []
    for (table, trials, concurrency), method_rows in sorted(cells_of(rows).items()):
        if table not in margin_of:
            continue
        for method, found in cell_verdicts(method_rows, reference, margin_of[table]).items():
            out.append({"table": table, "trials": trials, "concurrency": concurrency,
                        "method": method, "reference": reference,
                        "margin": margin_of[table], **found})
    return out


CONFIRM_PREFIX = "basin-confirm-"
REPLAYABLE = ("confirmed", "no room")  # what a confirm did where the table could answer it


def confirm_rows(rows: list[dict[str, Any]], margin_of: dict[str, float]
                 ) -> list[dict[str, Any]]:
    """Point 3 on the seeds where every confirm variant of the cell could be replayed (each
    "confirmed" or "no room": none lacked a replicate): each confirm variant and basin-one-se
    against basin there, with what each confirm did over all seeds."""
    out = []
    for (table, trials, concurrency), method_rows in sorted(cells_of(rows).items()):
        variants = sorted(m for m in method_rows if m.startswith(CONFIRM_PREFIX))
        if table not in margin_of or not variants or "basin" not in method_rows:
            continue
        seeds = set.intersection(*[
            {seed for seed, row in method_rows[m].items()
             if row.get("confirm", {}).get("status") in REPLAYABLE} for m in variants])
        base = {s: r["regret"] for s, r in method_rows["basin"].items() if s in seeds}
        for method in [*variants, "basin-one-se"]:
            if method not in method_rows:
                continue
            mine = {s: r["regret"] for s, r in method_rows[method].items() if s in seeds}
            statuses = Counter(r.get("confirm", {}).get("status", "-")
                               for r in method_rows[method].values())
            out.append({"table": table, "trials": trials, "concurrency": concurrency,
                        "method": method, "seeds": len(seeds), "statuses": dict(statuses),
                        "changed": sum(bool(r.get("confirm", {}).get("changed"))
                                       for r in method_rows[method].values()),
                        "compared": compare(paired(mine, base), margin_of[table])})
    return out


def _confirm_table(found: list[dict[str, Any]]) -> str:
    from benchmarks.common import print_table

    body = [[f"{r['table']} {r['trials']}x{r['concurrency']}", r["method"], str(r["seeds"]),
             ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items())), str(r["changed"]),
             "-" if r["compared"] is None else
             f"{r['compared']['d']:+.4f} [{r['compared']['lo']:+.4f}, "
             f"{r['compared']['hi']:+.4f}]", "-" if r["compared"] is None
             else r["compared"]["verdict"]] for r in found]
    title = "point 3 on the seeds every confirm could replay: method - basin, 90% interval"
    return f"**{title}**\n\n" + print_table(
        title, ["cell", "method", "seeds", "what the confirm did (all seeds)", "changed pick",
                "d [90% CI]", "verdict"], body)


def verdict_report(rows: list[dict[str, Any]], margin_of: dict[str, float],
                   references: tuple[str, ...] = ("random", "basin")) -> str:
    """Markdown tables of the verdicts against each reference, printed as they are made."""
    from benchmarks.common import print_table

    parts = []
    missing = sorted({r["table"] for r in rows} - set(margin_of))
    if missing:
        parts.append(f"no noise floor (benchmarks/results/noise_floor_<table>.json), so no "
                     f"verdicts, for: {', '.join(missing)}")
    for reference in references:
        found = verdict_rows(rows, margin_of, reference)
        if not found:
            continue
        body = [[f"{r['table']} {r['trials']}x{r['concurrency']}", r["method"],
                 f"{r['d']:+.4f} [{r['lo']:+.4f}, {r['hi']:+.4f}]", f"{r['margin']:.4f}",
                 r["verdict"], f"{r['steps_share']:.0%}",
                 "-" if r["steps_to_match"] is None else f"{r['steps_to_match']:.0%}"]
                for r in found]
        title = f"against {reference}: regret(method) - regret({reference}), 90% interval"
        parts.append(f"**{title}**\n\n" + print_table(
            title, ["cell", "method", "d [90% CI]", "margin", "verdict", "steps",
                    f"steps to match {reference}"], body))
    if found := confirm_rows(rows, margin_of):
        parts.append(_confirm_table(found))
    return "\n\n".join(parts)
