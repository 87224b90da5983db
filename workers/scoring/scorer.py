"""What the worker asks of a model: scores for texts, one dict of outputs a text.

The worker's parent imports this module and calls `check_model_available` (in
`workers.scoring.locate`) before it forks; torch is imported only by `load_scorer`, in each
child.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from service.models.registry import ModelEntry
    from service.settings import Settings

OutputKind = Literal["probabilities", "logits"]


class Scorer(Protocol):
    model_id: str
    """Which weights and precision produced a score, e.g. "detoxify:unbiased@c7548aa0+int8"
    or "hf:ko-hate@1a2b3c4d+int8"."""
    labels: tuple[str, ...]
    """The model's outputs, by its own names (Detoxify's are the service's labels)."""
    outputs_are: OutputKind
    """"probabilities" (Detoxify: sigmoid applied, the policy applies none) or "logits" (a
    Hugging Face checkpoint: the policy applies the model's activation)."""

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """One dict per text with every output, floats rounded to 6 places (probabilities in
        0..1, or raw logits, as `outputs_are` says)."""
        ...


def load_scorer(settings: Settings, entry: ModelEntry | None = None) -> Scorer:
    """Load a registered model (`default`, MODERATION_MODEL's, when `entry` is None); once per
    model per worker child, after fork.

    `default` loads as MODERATION_MODEL (+ MODERATION_MODEL_CONFIG) says; another Detoxify
    variant id loads that published variant (its config from MODERATION_MODELS_DIR/<variant>/
    config when `moderation models fetch <variant> --to MODELS_DIR` put it there); a checkpoint
    directory loads with transformers (`workers.scoring.hf_scorer`).
    """
    if entry is not None and entry.path is not None:
        from workers.scoring.hf_scorer import load_hf_scorer

        return load_hf_scorer(entry, settings)

    from workers.scoring.detoxify_scorer import load_detoxify_scorer
    from workers.scoring.locate import variant_settings

    if entry is None or entry.id == "default":
        return load_detoxify_scorer(settings)
    return load_detoxify_scorer(variant_settings(settings, entry))
