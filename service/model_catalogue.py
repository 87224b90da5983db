"""The published Detoxify checkpoints, described without loading anything.

This mirrors `detoxify.detoxify.MODEL_URLS` (a test keeps the two equal) because importing
detoxify imports torch, and the worker's parent process must answer these questions before
it forks, without torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.errors import ScoringError

DETOXIFY_DOWNLOAD_URL = "https://github.com/unitaryai/detoxify/releases/download/"
HF_BASE_URL = "https://huggingface.co"

# Detoxify standardises the Jigsaw column names the same way (`detoxify.load_checkpoint`).
LABEL_RENAMES = {
    "toxic": "toxicity",
    "identity_hate": "identity_attack",
    "severe_toxic": "severe_toxicity",
}
ORIGINAL_LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")
BIAS_LABELS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
)
# Outputs 8..16 of the bias-trained checkpoints: `Detoxify.predict` drops them, we keep them.
IDENTITY_LABELS = (
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
)

# Fetched when the mirror has them: transformers prefers tokenizer.json when present.
OPTIONAL_HUB_FILES = ("tokenizer.json", "tokenizer_config.json")

# torch.hub.HASH_REGEX: a published file name carries a prefix of its SHA-256.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")


@dataclass(frozen=True)
class Variant:
    name: str
    release_path: str
    """Relative to the download base URL, exactly as in detoxify's MODEL_URLS."""
    hub_name: str
    """The transformers config/tokenizer the checkpoint names (its `arch.args.model_type`)."""
    hub_repo: str
    """Where `hub_name` lives on the Hugging Face hub now (the short names only redirect)."""
    hub_files: tuple[str, ...]
    """The config and vocabulary files the tokenizer class can't do without."""
    labels: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return self.release_path.rsplit("/", 1)[-1]

    @property
    def sha256_prefix(self) -> str | None:
        return sha256_prefix_in_name(self.file_name)


def sha256_prefix_in_name(file_name: str) -> str | None:
    match = _HASH_IN_NAME.search(file_name)
    return match.group(1) if match and match.group(1) else None


_BERT = ("bert-base-uncased", "google-bert/bert-base-uncased", ("config.json", "vocab.txt"))
_ROBERTA = ("roberta-base", "FacebookAI/roberta-base", ("config.json", "vocab.json", "merges.txt"))
_XLM_R = (
    "xlm-roberta-base",
    "FacebookAI/xlm-roberta-base",
    ("config.json", "sentencepiece.bpe.model"),
)
_ALBERT = ("albert-base-v2", "albert/albert-base-v2", ("config.json", "spiece.model"))

VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("original", "v0.1-alpha/toxic_original-c1212f89.ckpt", *_BERT, ORIGINAL_LABELS),
        Variant(
            "unbiased",
            "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",
            *_ROBERTA,
            BIAS_LABELS + IDENTITY_LABELS,
        ),
        Variant(
            "multilingual",
            "v0.4-alpha/multilingual_debiased-0b549669.ckpt",
            *_XLM_R,
            BIAS_LABELS + IDENTITY_LABELS,
        ),
        Variant(
            "original-small", "v0.1.2/original-albert-0e1d6498.ckpt", *_ALBERT, ORIGINAL_LABELS
        ),
        Variant(
            "unbiased-small",
            "v0.1.2/unbiased-albert-c8519128.ckpt",
            *_ALBERT,
            BIAS_LABELS + IDENTITY_LABELS,
        ),
    )
}


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ScoringError(
            f"unknown Detoxify variant {name!r}; known: {', '.join(VARIANTS)}"
        ) from None


def model_labels(variant: str) -> tuple[str, ...]:
    """Every label a named variant scores, identity labels included, without loading it."""
    return get_variant(variant).labels


def checkpoint_labels(config: dict[str, object]) -> tuple[str, ...]:
    """Label names in a checkpoint's training config, in output order, renamed as Detoxify does.

    Published checkpoints keep `classes` under `dataset.args`; detoxify's newer training
    configs moved them to `arch.args`, so both are read.
    """
    sections = [config.get("dataset"), config.get("arch")]
    for section in sections:
        args = section.get("args") if isinstance(section, dict) else None
        if isinstance(args, dict) and "classes" in args:
            names = [*args["classes"], *args.get("identity_classes", [])]
            return tuple(LABEL_RENAMES.get(name, name) for name in names)
    raise ScoringError("checkpoint config names no classes (dataset.args.classes)")


def variant_of(model: str) -> str | None:
    """Which published variant MODERATION_MODEL names: a variant name, a published checkpoint
    file, or a file in a `models fetch` directory (DIR/<variant>/...); None if unknown."""
    if model in VARIANTS:
        return model
    path = model.replace("\\", "/").rstrip("/").split("/")
    for variant in VARIANTS.values():
        if path[-1] == variant.file_name:
            return variant.name
    if len(path) >= 2 and path[-2] in VARIANTS:
        return path[-2]
    return None
