"""Hugging Face checkpoints of real architectures' sizes, random weights, built offline.

What `MODERATION_MODELS` loads from a directory: `config.json` (with `id2label`), tokenizer
files and `model.safetensors`, written by transformers' own `save_pretrained`. Nothing is
downloaded: the weights are drawn at random (std `INIT_STD`, like bench/shapes.py) and the
tokenizer's vocabulary is built from the bench comments, English and Korean, so it tokenizes
them word by word. The model's embedding table has the real vocabulary's size all the same,
so the compute and the memory are the real architecture's; the scores mean nothing.

    built = build_hf_checkpoint(models_dir, HF_SHAPES["bert-base"])
    # built.path, models_dir / "bert-base", is the checkpoint directory
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.comments import KOREAN_SENTENCES, SENTENCES
from bench.shapes import INIT_STD

# Hate categories and `clean`: the Korean UnSmile (`kor_unsmile`) label set, in English. The
# bench's Korean model has a softmax head over them, like docs/languages.md's example.
UNSMILE_LABELS = (
    "women",
    "men",
    "lgbtq",
    "race",
    "age",
    "region",
    "religion",
    "other_hate",
    "abuse",
    "clean",
)
# A multi-label head with the Jigsaw labels, as the published English classifiers:
JIGSAW_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")

PUNCTUATION = ".,!?'\"()"


@dataclass(frozen=True)
class HFShape:
    """An architecture in the sizes of a published checkpoint (`like`)."""

    name: str
    """The directory name, and the architecture's name in reports."""
    arch: str
    """"bert", "electra" or "xlm-roberta"."""
    like: str
    """The published checkpoint whose sizes these are."""
    vocab_size: int
    hidden: int = 768
    layers: int = 12
    heads: int = 12
    intermediate: int = 3072
    labels: tuple[str, ...] = JIGSAW_LABELS
    softmax: bool = False
    """A single-label (softmax) head, else multi-label (sigmoid)."""
    init_std: float = INIT_STD

    def describe(self) -> str:
        head = "softmax" if self.softmax else "sigmoid"
        vocabulary = f"{self.vocab_size:,}" if self.vocab_size else "the bench comments'"
        return (
            f"{self.arch} ({self.layers} layers, hidden {self.hidden}, {self.heads} heads, "
            f"vocabulary {vocabulary}, {len(self.labels)} {head} labels; as `{self.like}`)"
        )


HF_SHAPES = {
    "bert-base": HFShape("bert-base", "bert", "bert-base-uncased", 30_522),
    "electra-base": HFShape("electra-base", "electra", "google/electra-base-discriminator", 30_522),
    "xlm-r-base": HFShape("xlm-r-base", "xlm-roberta", "xlm-roberta-base", 250_002),
}
# A Korean BERT-base with a softmax head over hate categories and `clean`: klue/bert-base's
# vocabulary (32,000), the size of the Korean hate-speech classifiers fine-tuned from it.
KOREAN_BERT = HFShape(
    "ko-bert-base",
    "bert",
    "klue/bert-base",
    32_000,
    labels=UNSMILE_LABELS,
    softmax=True,
)


def tiny(shape: HFShape) -> HFShape:
    """The same architecture, vocabulary and labels at toy sizes (for the bench's smoke test)."""
    return HFShape(
        f"{shape.name}-tiny",
        shape.arch,
        shape.like,
        vocab_size=0,
        hidden=32,
        layers=2,
        heads=2,
        intermediate=64,
        labels=shape.labels,
        softmax=shape.softmax,
        init_std=0.2,
    )


@dataclass(frozen=True)
class BuiltCheckpoint:
    shape: HFShape
    path: Path

    @property
    def mb(self) -> float:
        return (self.path / "model.safetensors").stat().st_size / 2**20


def build_hf_checkpoint(
    models_dir: Path, shape: HFShape, *, corpus: Sequence[str] | None = None
) -> BuiltCheckpoint:
    """`models_dir/<shape.name>`: config, tokenizer and `model.safetensors` (rebuilt)."""
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    texts = list(corpus) if corpus is not None else [*SENTENCES, *KOREAN_SENTENCES]
    out = models_dir / shape.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    tokenizer = _tokenizer(shape.arch, out, texts)
    sizes: dict[str, Any] = {
        "vocab_size": max(shape.vocab_size, len(tokenizer)),
        "hidden_size": shape.hidden,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "intermediate_size": shape.intermediate,
        "initializer_range": shape.init_std,
        "id2label": dict(enumerate(shape.labels)),
        "label2id": {label: index for index, label in enumerate(shape.labels)},
        "problem_type": "single_label_classification"
        if shape.softmax
        else "multi_label_classification",
    }
    if shape.arch == "xlm-roberta":
        sizes |= {
            "max_position_embeddings": 514,
            "type_vocab_size": 1,
            "layer_norm_eps": 1e-5,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
    if shape.arch == "electra":
        sizes["embedding_size"] = shape.hidden  # base and large: no factorised embeddings
    config = transformers.AutoConfig.for_model(shape.arch, **sizes)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = transformers.AutoModelForSequenceClassification.from_config(config)  # type: ignore[no-untyped-call]
    model.save_pretrained(out, safe_serialization=True, max_shard_size="100GB")
    tokenizer.save_pretrained(out)
    return BuiltCheckpoint(shape, out)


def _tokenizer(arch: str, out: Path, texts: Sequence[str]) -> Any:
    import transformers

    if arch == "xlm-roberta":
        return transformers.XLMRobertaTokenizer(vocab=_unigram_vocabulary(texts))
    _write_wordpiece(out, texts)
    name = "BertTokenizer" if arch == "bert" else "ElectraTokenizer"
    return getattr(transformers, name).from_pretrained(out)


def _write_wordpiece(out: Path, texts: Sequence[str]) -> None:
    """A WordPiece vocabulary with every word of `texts`, and every letter on its own."""
    from tokenizers.pre_tokenizers import BertPreTokenizer

    pre = BertPreTokenizer()
    pieces = {piece for text in texts for piece, _ in pre.pre_tokenize_str(text.lower())}
    chars = sorted({char for piece in pieces for char in piece})
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *sorted(pieces),
        *(c for c in chars if c not in pieces),
        *(f"##{c}" for c in chars),
    ]
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # Lower case without stripping accents: stripping decomposes Hangul syllables into jamo.
    (out / "tokenizer_config.json").write_text(
        json.dumps({"do_lower_case": True, "strip_accents": False, "model_max_length": 512})
    )


def _unigram_vocabulary(texts: Sequence[str]) -> list[tuple[str, float]]:
    """A sentencepiece unigram vocabulary numbering <s>, <pad>, </s>, <unk> first, as XLM-R's
    does, where each word of `texts` is one piece (a real XLM-R splits some in two)."""
    # Punctuation apart, as XLM-R's own vocabulary mostly has it.
    words = {bare for text in texts for word in text.split() if (bare := word.strip(PUNCTUATION))}
    chars = sorted({char for text in texts for char in text if not char.isspace()})
    return [
        *((special, 0.0) for special in ("<s>", "<pad>", "</s>", "<unk>")),
        *((f"\N{LOWER ONE EIGHTH BLOCK}{word}", -5.0) for word in sorted(words)),
        *((char, -10.0) for char in chars),
        ("\N{LOWER ONE EIGHTH BLOCK}", -10.0),
        ("<mask>", 0.0),
    ]
