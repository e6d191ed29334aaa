"""Settings of ``basin check``: how the flatness of a candidate's basin is measured (the sweep
file's ``check`` block; ``basin check`` flags override it).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from trainables.settings import MAX_SEED, Strict


class CheckSettings(Strict):
    """Which candidates are checked and how. Radii are relative: at radius 1, each adapted
    layer is moved along a random direction by as much as fine-tuning moved it (the norm of
    its merged LoRA update)."""

    top: int = Field(5, ge=1, description="How many of the best candidates (by objective) are "
                     "checked.")
    radii: list[float] = Field([4.0, 16.0], min_length=1, description="Relative radii "
                               "at which the validation loss increase is reported.")
    directions: int = Field(2, ge=1, le=64, description="Random directions averaged at each "
                            "radius (the same directions for every candidate).")
    tolerance: float = Field(0.05, gt=0, le=10, description="The basin's edge: the loss "
                             "increase allowed, as a fraction of the unperturbed loss.")
    max_radius: float = Field(64.0, gt=0, le=1000, description="The largest radius the basin "
                              "radius is searched up to (reported as is when the loss never "
                              "leaves the tolerance).")
    bisection_steps: int = Field(3, ge=1, le=20, description="Halvings of the bracket around "
                                 "the basin's edge.")
    examples: int = Field(128, ge=8, description="Validation examples the losses are measured "
                          "on (a fixed sample; all of them when the split is smaller).")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seeds the directions and the sample.")

    @model_validator(mode="before")
    @classmethod
    def _moved_settings(cls, raw: object) -> object:
        # Compatibility (sweep files of basin 0.1, whose check measured the drift): a message,
        # not a translation. Remove in basin 0.3.
        if isinstance(raw, dict) and "general_samples" in raw:
            raise ValueError("general_samples: the drift is measured at every evaluation now; "
                             "set its sample with retention.samples (got general_samples: "
                             f"{raw['general_samples']!r})")
        return raw

    @field_validator("radii")
    @classmethod
    def _positive_radii(cls, radii: list[float]) -> list[float]:
        bad = [r for r in radii if not r > 0]
        if bad:
            raise ValueError(f"every radius must be > 0 (got {bad[0]!r})")
        return sorted(set(radii))

    @model_validator(mode="after")
    def _radii_within_search(self) -> CheckSettings:
        if max(self.radii) > self.max_radius:
            raise ValueError(f"radii: {max(self.radii)!r} is beyond max_radius "
                             f"{self.max_radius!r}")
        return self


# ``basin check``'s flag for each setting (the flags override the sweep file's ``check`` block).
FLAGS = {name: "--" + name.replace("_", "-") for name in CheckSettings.model_fields}
