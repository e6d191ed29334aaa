"""Does an exported bundle compute what its trial's model computed? The verdict of the probe.

Every checkpoint carries a probe (``probe.json``): a few figures of the trial's model on fixed
inputs (a classifier's logits, a causal LM's per-example losses) and the precision it computed
them in. ``basin export`` loads the bundle with plain transformers and peft, in fp32 on the
CPU, computes the same figures and compares. A bundle that does not reproduce them (another
base model than the one trained on, weights that are not the step's) is refused.
"""

from __future__ import annotations

from trainables.contract import PROBE_PRECISION

# The largest difference allowed, by the precision the trial computed its probe in.
# fp32: re-loading the same weights differs by float rounding only (~1e-6 on the tests' models,
# classifier logits and causal-LM losses alike); 1e-3 leaves room for another machine's kernels
# and still refuses an untrained or another step's adapter on the tests' models (~1e-2 and up).
# bf16 and fp16: the trial computed in half precision (2^-8 and 2^-11 relative per rounding,
# compounded over the layers), the export in fp32: a looser bound, not yet measured on a GPU.
TOLERANCE = {"fp32": 1e-3, "fp16": 0.05, "bf16": 0.1}
# A probe written before basin recorded the precision, by a sweep with precision "auto": it
# may have run on a GPU in bf16.
UNKNOWN_PRECISION = "bf16"


def probe_precision(probe: dict, configured: str) -> str:
    """The precision the probe was computed in: recorded in it, else the sweep's setting."""
    precision = probe.get(PROBE_PRECISION) or configured
    return UNKNOWN_PRECISION if precision == "auto" else precision


def verification(difference: float, precision: str) -> dict:
    """What ``metrics.json`` says of the check: the difference, the bound and the verdict."""
    tolerance = TOLERANCE[precision]
    return {"verified_max_difference": difference, "verify_tolerance": tolerance,
            "verify_precision": precision,
            "verified": bool(difference <= tolerance)}  # NaN fails


def refusal(summary: dict, out: str) -> str:
    """Why the bundle in ``out`` is not what the trial trained, and what to look at."""
    chosen = summary["chosen"]
    return (f"export: the bundle in {out} does not reproduce trial {chosen['trial_id']}'s probe "
            f"at step {chosen['step']}: max difference {summary['verified_max_difference']:.3g}"
            f", allowed {summary['verify_tolerance']:g} ({summary['verify_precision']}). It "
            f"loaded the base model {summary['base_model']}: if that is not the model the "
            f"trial trained ({summary['base_model_trained_on']}), export with --base local; "
            "the bundle is left there, marked verified: false in metrics.json")
