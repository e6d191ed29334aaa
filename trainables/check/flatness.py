"""How flat a fine-tuned model's basin is: its loss along random directions around its weights.

The directions live where fine-tuning moved the model: every LoRA-adapted layer. A direction is
a random Gaussian matrix per adapted layer, scaled to the norm of that layer's merged update
(``B @ A * scaling``), so radius 1 moves each layer as far as fine-tuning did, and layers are
comparable whatever their size (filter-normalised directions, Li et al. 2018). The loss
increase at a radius is averaged over a few directions; the basin radius is the largest radius
at which that increase stays within a tolerance, found by bisection.

Measuring never changes the model: each perturbation is added to the frozen base weights in
place and the saved copy is put back exactly afterwards (a copy, not a subtraction, so not a
bit differs). Directions come from seeded generators, one per direction, drawn again each time
they are used: the same seed gives the same directions, and nothing the size of the model is
held for them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch


@dataclass(frozen=True)
class AdaptedLayer:
    """One LoRA-adapted layer: its frozen base weight and the norm of its merged update."""

    name: str
    weight: torch.nn.Parameter
    update_norm: float


def adapted_layers(model: Any) -> list[AdaptedLayer]:
    """Every LoRA layer of a peft model with its active adapter's update norm, by name."""
    from peft.tuners.lora import LoraLayer

    layers = []
    for name, module in sorted(model.named_modules(), key=lambda item: item[0]):
        if not isinstance(module, LoraLayer) or not module.active_adapters:
            continue
        adapter = module.active_adapters[0]
        if adapter not in getattr(module, "lora_A", {}):
            continue
        with torch.no_grad():
            norm = float(module.get_delta_weight(adapter).float().norm())
        layers.append(AdaptedLayer(name, module.get_base_layer().weight, norm))
    if not layers:
        raise ValueError("the model has no LoRA-adapted layer to perturb")
    return layers


def direction(layers: list[AdaptedLayer], seed: int, index: int) -> Iterator[torch.Tensor]:
    """Direction ``index``: per layer, Gaussian noise scaled to the layer's update norm."""
    generator = torch.Generator().manual_seed(seed * 100_003 + index)
    for layer in layers:
        noise = torch.randn(layer.weight.shape, generator=generator, dtype=torch.float32)
        yield noise * (layer.update_norm / max(float(noise.norm()), 1e-12))


@contextmanager
def perturbed(layers: list[AdaptedLayer], radius: float, seed: int, index: int
              ) -> Iterator[None]:
    """The model moved by ``radius`` along direction ``index``; put back exactly after."""
    saved = [layer.weight.detach().clone() for layer in layers]
    try:
        with torch.no_grad():
            for layer, step in zip(layers, direction(layers, seed, index)):
                layer.weight.add_(step.to(layer.weight.device, layer.weight.dtype),
                                  alpha=radius)
        yield
    finally:
        with torch.no_grad():
            for layer, original in zip(layers, saved):
                layer.weight.copy_(original)


def basin_radius(increase: Callable[[float], float], limit: float, max_radius: float,
                 steps: int, known: dict[float, float] | None = None) -> float:
    """The largest radius in (0, ``max_radius``] at which ``increase`` stays within ``limit``;
    0 when even the smallest probed radius leaves it. ``known``: increases already measured;
    they bracket the edge for free (``max_radius`` is measured only when every known radius
    is inside). The bracket is then halved ``steps`` times: in ratio once its lower end is
    above 0 (radii span orders of magnitude), else in the middle.

    Assumes the increase grows with the radius, as it does around a minimum; the bracket's
    lower end is returned, a radius at which the increase was measured within the limit."""
    measured = dict(known or {})

    def inside(radius: float) -> bool:
        if radius not in measured:
            measured[radius] = increase(radius)
        return measured[radius] <= limit

    outside = [r for r, value in measured.items() if not value <= limit]
    if not outside:
        if inside(max_radius):
            return max_radius
        outside = [max_radius]
    high = min(outside)
    low = max((r for r, value in measured.items() if value <= limit and r < high), default=0.0)
    for _ in range(steps):
        middle = (low * high) ** 0.5 if low > 0 else high / 2
        if inside(middle):
            low = middle
        else:
            high = middle
    return low


@dataclass
class Flatness:
    """The loss increases at the reported radii and the basin radius of one model."""

    loss: float
    increases: dict[float, float]
    radius: float
    evaluations: int


def measure_flatness(model: Any, loss_of: Callable[[Any], float], radii: list[float],
                     directions: int, tolerance: float, max_radius: float, steps: int,
                     seed: int) -> Flatness:
    """The mean loss increase over ``directions`` random directions at each radius, and the
    basin radius at which it stays within ``tolerance`` (a fraction of the unperturbed loss).
    ``loss_of(model)`` measures the loss (in eval mode, on a fixed sample)."""
    layers = adapted_layers(model)
    loss = loss_of(model)
    calls = [1]

    def increase(radius: float) -> float:
        total = 0.0
        for index in range(directions):
            with perturbed(layers, radius, seed, index):
                total += loss_of(model) - loss
        calls[0] += directions
        return total / directions

    increases = {radius: increase(radius) for radius in radii}
    radius = basin_radius(increase, tolerance * abs(loss), max_radius, steps, increases)
    return Flatness(loss, increases, radius, calls[0])
