"""Issue 30's bar (benchmarks/replay/bar.py) on hand-made result rows: each clause, the
two-of-three-tables rule and the protocol's choice of default."""

from __future__ import annotations

from typing import Any

from benchmarks.replay.bar import choose, evaluate, met

TABLES = ("a", "b", "c")


def _row(table: str, method: str, seed: int, regret: float, share: float = 1.0,
         anytime: float | None = None, ended: int = 0) -> dict[str, Any]:
    return {"table": table, "method": method, "trials": 20, "concurrency": 2, "seed": seed,
            "regret": regret, "steps_share": share,
            "anytime": [anytime if anytime is not None else regret] * 10,
            "winners": {"ended": {"asha": ended} if ended else {}, "lost": {}}}


def _rows(method: str, regret: float, share: float, ended: int = 0,
          tables: tuple[str, ...] = TABLES, anytime: float | None = None) -> list[dict]:
    # A small seed-to-seed spread, the same for every method: paired differences are exact.
    return [_row(t, method, s, regret + 0.001 * (s % 5), share, anytime, ended)
            for t in tables for s in range(20)]


def _base() -> list[dict]:
    return [*_rows("random", 0.010, 1.0), *_rows("ray", 0.012, 0.5),
            *_rows("basin", 0.011, 0.6, ended=2)]


def test_a_variant_meeting_every_clause_is_chosen() -> None:
    rows = [*_base(), *_rows("freeze-good", 0.005, 0.45, ended=1),
            *_rows("freeze-costly", 0.004, 0.7)]
    found = evaluate(rows, ["basin", "freeze-good", "freeze-costly"])
    assert all(len(met(c)) == 5 for c in found["freeze-good"].values())
    assert all("steps" not in met(c) for c in found["freeze-costly"].values())
    assert not any("ci" in met(c) for c in found["basin"].values())  # worse than random
    assert choose(found, ["freeze-good", "freeze-costly"])[0] == "freeze-good"


def test_the_interval_must_be_below_zero_on_two_of_three_tables() -> None:
    # Better than random on one table only: the CI clause fails everywhere.
    rows = [*_base(), *_rows("freeze-x", 0.005, 0.45, tables=("a",)),
            *_rows("freeze-x", 0.010, 0.45, tables=("b", "c"))]
    found = evaluate(rows, ["freeze-x"])
    assert {c["ci_tables"] for c in found["freeze-x"].values()} == {1}
    assert not any(c["ci_rule"] for c in found["freeze-x"].values())


def test_anytime_and_lost_winner_clauses() -> None:
    rows = [*_base(), *_rows("freeze-late", 0.005, 0.45, anytime=0.02, ended=2)]
    found = evaluate(rows, ["freeze-late"])
    for clauses in found["freeze-late"].values():
        assert clauses["anytime"] is False  # above ray's mean anytime regret
        assert clauses["winners"] is False  # 40 ended against basin's 40: not at most half


def test_a_partial_winner_is_adopted_only_if_it_beats_basin_at_20_x2() -> None:
    rows = [*_base(), *_rows("freeze-worse", 0.020, 0.45)]
    found = evaluate(rows, ["basin", "freeze-worse"])
    chosen, why = choose(found, ["freeze-worse"])
    assert chosen == "basin" and "the default stays" in why
