"""What ``basin validate`` says of a sweep's data for this task: it trains on its own generated
ratings only (``data.source: demo``)."""

from __future__ import annotations

from trainables.settings import DataSettings, ModelSettings


def check_data(data: DataSettings, model: ModelSettings) -> list[tuple[str, str]]:
    """The problems with ``data`` for text regression, each as (field, message)."""
    if data.source != "demo":
        return [("data.source", f"task 'text-regression' generates its own ratings; use "
                                f"data.source: demo (got {data.source!r})")]
    return []
