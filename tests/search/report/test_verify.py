"""The export's verdict on a bundle's probe: the bound by precision, and the refusal's words."""

from __future__ import annotations

import math

from search.report.export.verify import TOLERANCE, probe_precision, refusal, verification


def test_the_probe_says_its_precision_else_the_sweep_file_does_and_auto_is_the_loosest():
    assert probe_precision({"precision": "fp32"}, "auto") == "fp32"
    assert probe_precision({}, "fp16") == "fp16"
    assert probe_precision({}, "auto") == "bf16"  # a probe from before basin recorded it
    assert TOLERANCE["fp32"] < TOLERANCE["fp16"] < TOLERANCE["bf16"]


def test_a_difference_within_the_bound_verifies_and_one_beyond_or_nan_does_not():
    assert verification(2e-7, "fp32")["verified"]
    assert verification(TOLERANCE["fp32"], "fp32")["verified"]
    assert not verification(0.02, "fp32")["verified"]
    assert verification(0.02, "bf16")["verified"]
    assert not verification(math.nan, "bf16")["verified"]


def test_the_refusal_names_the_trial_the_figures_and_what_to_check():
    summary = {"chosen": {"trial_id": "3f2a9c01", "step": 60}, "base_model": "org/model",
               "base_model_trained_on": "/models/mine", **verification(0.4, "fp32")}
    message = refusal(summary, "bundle")
    for part in ("bundle", "3f2a9c01", "step 60", "0.4", "0.001", "fp32", "org/model",
                 "/models/mine", "--base local", "verified: false"):
        assert part in message, part
