"""What the worker asks of a model: scores for texts, one dict of attributes a text.

The worker's parent imports this module and calls `check_model_available` (in
`workers.scoring.locate`) before it forks; torch is imported only by `load_scorer`, in each
child.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from service.settings import Settings


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
