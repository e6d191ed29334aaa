"""``basin best --within-gap-limit``: without a value it keeps the candidates the sweep's own gap
rule finds within its threshold (docs/production.md: "default: the gap rule's threshold")."""

from __future__ import annotations

from types import SimpleNamespace

from search.cli.parser import build_parser
from search.cli.read_commands import _gap_filter
from search.spec.model import validate_spec
from tests.conftest import tiny_sweep


def _run_dir(tmp_path, gap: dict) -> SimpleNamespace:
    spec = validate_spec(tiny_sweep(tmp_path, stopping={"not_learning": None, "gap": gap}),
                         "sweep.yaml")
    return SimpleNamespace(spec=spec)


def _kept(keep, gaps: list[float], val_loss: float = 0.5) -> list[float]:
    return [g for g in gaps if keep(SimpleNamespace(gap=g, val_loss=val_loss))]


def test_no_value_means_the_gap_rules_threshold(tmp_path) -> None:
    args = build_parser().parse_args(["best", "runs/x", "--within-gap-limit"])
    keep, title = _gap_filter(_run_dir(tmp_path, {"threshold": 0.1}), args.within_gap_limit)
    assert _kept(keep, [0.05, 0.1, 0.2, 0.4]) == [0.05, 0.1]
    assert title == "gap within 0.10"


def test_no_value_with_a_relative_rule_judges_as_the_rule_does(tmp_path) -> None:
    run_dir = _run_dir(tmp_path, {"threshold": 0.5, "relative": True})
    keep, title = _gap_filter(run_dir, build_parser().parse_args(
        ["best", "runs/x", "--within-gap-limit"]).within_gap_limit)
    assert _kept(keep, [0.2, 0.25, 0.3], val_loss=0.5) == [0.2, 0.25]  # half of val_loss 0.5
    assert title == "gap within 50% of val_loss"


def test_a_given_limit_replaces_the_threshold_and_no_gap_is_never_kept(tmp_path) -> None:
    keep, _ = _gap_filter(_run_dir(tmp_path, {"threshold": 0.1}), "0.3")
    assert _kept(keep, [0.05, 0.2, 0.4]) == [0.05, 0.2]
    assert not keep(SimpleNamespace(gap=None, val_loss=0.5))
