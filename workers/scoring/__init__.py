"""Comment scoring with Detoxify: every variant, every output label, offline-ready.

The parent of the worker processes imports this package and calls `check_model_available`
before it forks; torch is imported only by `load_scorer`, in each child.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from workers.scoring.errors import ModelUnavailable, ScoringError
from workers.scoring.locate import check_model_available
from workers.scoring.variants import VARIANTS, Variant, model_labels

if TYPE_CHECKING:
    from service.settings import Settings

__all__ = [
    "VARIANTS",
    "ModelUnavailable",
    "Scorer",
    "ScoringError",
    "Variant",
    "check_model_available",
    "load_scorer",
    "model_labels",
]


class Scorer(Protocol):
    model_id: str
    """Which weights and precision produced a score, e.g. "detoxify:unbiased@c7548aa0+int8"."""
    labels: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """One dict per text with every label, floats in 0..1 rounded to 6 places."""
        ...


def load_scorer(settings: Settings) -> Scorer:
    """Load the configured model; once per worker child, after fork."""
    from workers.scoring.detoxify_scorer import load_detoxify_scorer

    return load_detoxify_scorer(settings)
