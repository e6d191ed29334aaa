"""Issue 30's bar, clause by clause, from the replay's results file, and the default it chooses.

Per (table, trials, concurrency), for a method:

- ``regret``: mean regret at most random search's (full budget);
- ``steps``: mean steps at most 50% of random search's full budget;
- ``ci``: the paired bootstrap 95% interval of (method - random) lies below zero; the bar asks
  for it on at least two of the three tables at each size and concurrency;
- ``anytime``: mean anytime regret at or below ``ray``'s (OptunaSearch + ASHA) at every tenth of
  random search's budget from 30% to 100% (the tenths the replay records that lie in the
  issue's 25-100%);
- ``winners``: top-5% configurations ended early (any rule, frozen-never-thawed included) at most
  half of ``basin``'s (ASHA as shipped).

The default is chosen as RESULTS.md section 6 says: among the variants meeting every clause
everywhere, the lowest mean regret over the tables at 20 trials, 2 at a time; else the one
meeting most clauses (ties broken the same way), adopted only if it also beats ``basin`` on that
average.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from benchmarks.replay.report import anytime_means, bootstrap_interval, cells_of

CLAUSES = ("regret", "steps", "ci", "anytime", "winners")
ANYTIME_FROM = 2  # index of the 30% tenth: the first recorded share inside 25-100%
CHOICE_CELL = (20, 2)  # the shipped sweeps' setting: trials, concurrency
BAR_SIZES = (20, 40)


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _regrets(rows: dict[int, dict]) -> dict[int, float]:
    return {seed: row["regret"] for seed, row in rows.items() if row["regret"] is not None}


def _anytime(rows: dict[int, dict]) -> list[float]:
    return anytime_means([r["anytime"] for r in rows.values()])


def _ended_winners(rows: dict[int, dict]) -> int:
    return sum(sum(r["winners"]["ended"].values()) for r in rows.values())


def cell_clauses(cell: dict[str, dict[int, dict]], method: str) -> dict[str, Any]:
    """The clauses and their figures for one method in one (table, trials, concurrency)."""
    rows, random_rows = cell[method], cell["random"]
    mine, theirs = _regrets(rows), _regrets(random_rows)
    seeds = sorted(set(mine) & set(theirs))
    diffs = [mine[s] - theirs[s] for s in seeds]
    low, high = bootstrap_interval(diffs)
    steps = _mean([r["steps_share"] for r in rows.values()])
    found: dict[str, Any] = {
        "mean_regret": _mean(list(mine.values())), "random_regret": _mean(list(theirs.values())),
        "steps_share": steps, "diff": _mean(diffs), "seeds": len(seeds),
    }
    found["regret"] = found["mean_regret"] <= found["random_regret"]
    found["steps"] = steps <= 0.5
    found["ci"] = high < 0
    found["ci_interval"] = (low, high)
    if "ray" in cell:
        own, ray = _anytime(rows), _anytime(cell["ray"])
        found["anytime_worst"] = max(a - b for a, b in zip(own[ANYTIME_FROM:], ray[ANYTIME_FROM:]))
        found["anytime"] = found["anytime_worst"] <= 0
    if "basin" in cell:
        found["winners_ended"] = _ended_winners(rows)
        found["basin_winners_ended"] = _ended_winners(cell["basin"])
        found["winners"] = found["winners_ended"] <= found["basin_winners_ended"] / 2
    return found


def evaluate(rows: list[dict[str, Any]], methods: list[str]) -> dict[str, dict[tuple, dict]]:
    """method -> (table, trials, concurrency) -> clauses, at the bar's sizes; the ``ci`` clause
    is replaced by the two-of-three-tables rule once every table is seen."""
    cells = cells_of(rows)
    found: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for key, cell in cells.items():
        if key[1] not in BAR_SIZES or "random" not in cell:
            continue
        for method in methods:
            if method in cell:
                found[method][key] = cell_clauses(cell, method)
    for method, by_cell in found.items():
        by_setting: dict[tuple, list[bool]] = defaultdict(list)
        for (table, trials, concurrency), clauses in by_cell.items():
            by_setting[(trials, concurrency)].append(clauses["ci"])
        for (table, trials, concurrency), clauses in by_cell.items():
            below = sum(by_setting[(trials, concurrency)])
            clauses["ci_tables"] = below
            clauses["ci_rule"] = below >= min(2, len(by_setting[(trials, concurrency)]))
    return found


def met(clauses: dict[str, Any]) -> list[str]:
    """The clauses a cell meets (the CI by the two-of-three-tables rule)."""
    out = [c for c in ("regret", "steps", "anytime", "winners") if clauses.get(c)]
    return out + (["ci"] if clauses.get("ci_rule") else [])


def choose(found: dict[str, dict[tuple, dict]], candidates: list[str]) -> tuple[str, str]:
    """The default by the protocol's rule, and why."""
    def choice_regret(method: str) -> float:
        return _mean([c["mean_regret"] for (t, n, k), c in found[method].items()
                      if (n, k) == CHOICE_CELL])

    def score(method: str) -> int:
        return sum(len(met(c)) for c in found[method].values())

    possible = len(CLAUSES) * max(len(found[m]) for m in candidates)
    everywhere = [m for m in candidates if score(m) == possible]
    if everywhere:
        best = min(everywhere, key=choice_regret)
        return best, f"meets every clause everywhere; lowest mean regret at 20 x2 " \
                     f"({choice_regret(best):+.4f})"
    best = min(candidates, key=lambda m: (-score(m), choice_regret(m)))
    base = choice_regret("basin")
    verdict = (f"{best} meets {score(best)} of {possible} clauses (most); mean regret at 20 x2 "
               f"{choice_regret(best):+.4f} against basin's {base:+.4f}")
    if choice_regret(best) < base:
        return best, verdict + ": adopted"
    return "basin", verdict + ": not better than basin, the default stays"


def bar_report(rows: list[dict[str, Any]], methods: list[str], candidates: list[str]) -> str:
    """Markdown: a line per method and cell with each clause's figure and mark, then the choice."""
    found = evaluate(rows, methods)
    lines = ["| method | table | trials x conc | regret (random) | steps | method - random "
             "[95% CI] | anytime - ray (worst, 30-100%) | winners ended (basin) | clauses met |",
             "|---|---|---|---|---|---|---|---|---|"]
    mark = {True: "ok", False: "MISS", None: "-"}
    for method in methods:
        for (table, trials, concurrency), c in sorted(found.get(method, {}).items()):
            low, high = c["ci_interval"]
            lines.append(
                f"| {method} | {table} | {trials} x{concurrency} | {c['mean_regret']:+.4f} "
                f"({c['random_regret']:+.4f}) {mark[c['regret']]} | {c['steps_share']:.0%} "
                f"{mark[c['steps']]} | {c['diff']:+.4f} [{low:+.4f}, {high:+.4f}] "
                f"{mark[c['ci']]} ({c['ci_tables']} tables) | "
                f"{c.get('anytime_worst', float('nan')):+.4f} {mark[c.get('anytime')]} | "
                f"{c.get('winners_ended', '-')} ({c.get('basin_winners_ended', '-')}) "
                f"{mark[c.get('winners')]} | {len(met(c))}/{len(CLAUSES)} |")
    chosen, why = choose(found, [m for m in candidates if m in found])
    return "\n".join(lines) + f"\n\nDefault by the protocol's rule: **{chosen}** ({why})."
