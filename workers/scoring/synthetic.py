"""Random-weight Detoxify checkpoints, in the exact layout of the published ones, built offline.

They serve the tests (tiny ones), the benchmarks (real shapes: the same compute as the real
models) and `moderation models demo` (to try the pipeline where no weights can be had).
They score nothing meaningfully.

    ckpt = build_checkpoint(tmp_path, "unbiased", bias=CLEAN)
    scorer = load_scorer(ckpt.settings())  # offline: a local checkpoint and config directory

The model is random (hidden 32, 2 layers) unless `bias` is given: then the last classifier
layer's weights are zero and its bias is `bias`, so every text scores sigmoid(bias) exactly:
CLEAN (-8.0) scores ~0.0003, TOXIC (8.0) scores ~0.9997. A dict sets labels one by one and
leaves the others CLEAN. Builds are cached in `tmp_dir`: pass a session-scoped directory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from service.model_catalogue import BIAS_LABELS, IDENTITY_LABELS

if TYPE_CHECKING:
    from service.settings import Settings

CLEAN = -8.0
TOXIC = 8.0
# Part of the cache key: bump it when a build's output changes.
_BUILD_VERSION = 1

_JIGSAW_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
# The checkpoints' own class names: the unbiased/multilingual layouts already use the names
# Detoxify reports, so they are the published label lists.
_BIAS_CLASSES = list(BIAS_LABELS)
_IDENTITY_CLASSES = list(IDENTITY_LABELS)
# Detoxify renames these when it reads a checkpoint; TinyCheckpoint.labels are the renamed ones.
_RENAMES = {
    "toxic": "toxicity",
    "identity_hate": "identity_attack",
    "severe_toxic": "severe_toxicity",
}

CORPUS = (
    "Thanks for the article, the council should publish the full budget.",
    "You are an idiot and nobody wants to read your stupid opinions.",
    "I disagree with the writer, but this is a fair summary of the vote.",
    "Great reporting! The photos from the flood are heartbreaking.",
    "Shut up, you clown. Go back to whatever hole you crawled out of.",
    "Could the paper check the numbers? The turnout figure looks wrong.",
    "This government lies every single day and the press lets them.",
    "My grandmother lived on that street for sixty years, what a loss.",
    "Pathetic. Absolute garbage journalism from a garbage outlet.",
    "Does anyone know when the new bus timetable starts next month?",
    "Merci pour cet article, les chiffres sont très clairs. ¿Y en España?",
)


@dataclass(frozen=True)
class ModelShape:
    """Transformer sizes. `vocab_size` None: just the tokenizer's vocabulary."""

    name: str
    hidden: int = 32
    layers: int = 2
    heads: int = 2
    intermediate: int = 64
    vocab_size: int | None = None
    embedding_size: int | None = None
    """ALBERT's factorised embedding width."""
    init_std: float = 0.2
    """Random weights' spread: transformers' 0.02 scores every text 0.5 +- 1e-5 on a tiny
    model; 0.2 spreads scores over ~0.1-0.9 so they depend on the text."""


TINY = ModelShape("tiny")


@dataclass(frozen=True)
class _Layout:
    model_name: str
    tokenizer_name: str
    hub_name: str
    classes: list[str]
    identity_classes: list[str]


_LAYOUTS = {
    "original": _Layout(
        "BertForSequenceClassification", "BertTokenizer", "bert-base-uncased", _JIGSAW_CLASSES, []
    ),
    "unbiased": _Layout(
        "RobertaForSequenceClassification",
        "RobertaTokenizer",
        "roberta-base",
        _BIAS_CLASSES,
        _IDENTITY_CLASSES,
    ),
    "multilingual": _Layout(
        "XLMRobertaForSequenceClassification",
        "XLMRobertaTokenizer",
        "xlm-roberta-base",
        _BIAS_CLASSES,
        _IDENTITY_CLASSES,
    ),
    "original-small": _Layout(
        "AlbertForSequenceClassification", "AlbertTokenizer", "albert-base-v2", _JIGSAW_CLASSES, []
    ),
    "unbiased-small": _Layout(
        "AlbertForSequenceClassification",
        "AlbertTokenizer",
        "albert-base-v2",
        _BIAS_CLASSES,
        _IDENTITY_CLASSES,
    ),
}
VARIANT_NAMES = tuple(_LAYOUTS)


@dataclass(frozen=True)
class TinyCheckpoint:
    checkpoint: Path
    config_dir: Path
    labels: tuple[str, ...]
    variant: str

    def settings(self, **overrides: Any) -> Settings:
        """Settings that load this checkpoint offline; `overrides` are other Settings fields."""
        from service.settings import Settings

        fields = {"model": str(self.checkpoint), "model_config_dir": str(self.config_dir)}
        return Settings(**(fields | overrides))


def build_checkpoint(
    tmp_dir: Path,
    variant: str = "original",
    *,
    bias: float | Mapping[str, float] | None = None,
    shape: ModelShape = TINY,
    corpus: Sequence[str] = CORPUS,
) -> TinyCheckpoint:
    """A checkpoint of `variant`'s architecture and layout, plus its local config directory."""
    layout = _LAYOUTS[variant]
    labels = tuple(_RENAMES.get(c, c) for c in [*layout.classes, *layout.identity_classes])
    biases = _label_biases(labels, bias)
    key = hashlib.sha256(
        json.dumps([_BUILD_VERSION, variant, shape.__dict__, biases, list(corpus)]).encode()
    ).hexdigest()[:10]
    root = Path(tmp_dir) / f"{variant}-{shape.name}-{key}"
    result = TinyCheckpoint(root / f"{variant}-{shape.name}.ckpt", root / "config", labels, variant)
    if not result.checkpoint.is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
        try:
            _build(staging, result.checkpoint.name, layout, shape, biases, corpus)
            try:
                os.replace(staging, root)
            except OSError:
                if not result.checkpoint.is_file():  # else another process built it first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return result


def _label_biases(
    labels: tuple[str, ...], bias: float | Mapping[str, float] | None
) -> list[float] | None:
    if bias is None:
        return None
    if isinstance(bias, int | float):
        return [float(bias)] * len(labels)
    unknown = set(bias) - set(labels)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among {labels}")
    return [float(bias.get(label, CLEAN)) for label in labels]


def _build(
    out: Path,
    checkpoint_name: str,
    layout: _Layout,
    shape: ModelShape,
    biases: list[float] | None,
    corpus: Sequence[str],
) -> None:
    import torch
    import transformers

    config_dir = out / "config"
    config_dir.mkdir()
    _write_vocabulary(layout.tokenizer_name, config_dir, corpus)
    tokenizer = getattr(transformers, layout.tokenizer_name).from_pretrained(config_dir)
    # Like the hub repos: tokenizer.json and tokenizer_config.json beside the vocabulary.
    tokenizer.save_pretrained(config_dir)
    model_class = getattr(transformers, layout.model_name)
    sizes = {
        "vocab_size": max(shape.vocab_size or 0, len(tokenizer)),
        "hidden_size": shape.hidden,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "intermediate_size": shape.intermediate,
        "max_position_embeddings": 514 if "Roberta" in layout.model_name else 512,
    }
    if "Roberta" in layout.model_name:
        sizes["type_vocab_size"] = 1
    if shape.embedding_size is not None:
        sizes["embedding_size"] = shape.embedding_size
    # The hub's config.json names no labels: Detoxify passes num_labels when it loads.
    model_class.config_class(**sizes).save_pretrained(config_dir)

    num_classes = len(layout.classes) + len(layout.identity_classes)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = model_class(
            model_class.config_class(
                **sizes, num_labels=num_classes, initializer_range=shape.init_std
            )
        )
    if biases is not None:
        head = getattr(model.classifier, "out_proj", model.classifier)
        with torch.no_grad():
            head.weight.zero_()
            head.bias.copy_(torch.tensor(biases))
    dataset_args: dict[str, object] = {"classes": layout.classes}
    if layout.identity_classes:
        dataset_args["identity_classes"] = layout.identity_classes
    checkpoint = {
        "config": {
            "name": f"tiny_{layout.hub_name}",
            "arch": {
                "type": layout.hub_name,
                "args": {
                    "num_classes": num_classes,
                    "model_type": layout.hub_name,
                    "model_name": layout.model_name,
                    "tokenizer_name": layout.tokenizer_name,
                },
            },
            "dataset": {"type": "tiny", "args": dataset_args},
        },
        "state_dict": model.state_dict(),
    }
    torch.save(checkpoint, out / checkpoint_name)


def _write_vocabulary(tokenizer_name: str, config_dir: Path, corpus: Sequence[str]) -> None:
    words = sorted({word for text in corpus for word in text.lower().split()})
    if tokenizer_name == "BertTokenizer":
        _write_wordpiece(config_dir, corpus)
    elif tokenizer_name == "RobertaTokenizer":
        _write_byte_bpe(config_dir, words)
    elif tokenizer_name == "XLMRobertaTokenizer":
        # XLM-R's own sentencepiece model numbers <unk>, <s>, </s> first, like spm's defaults.
        _write_sentencepiece(config_dir / "sentencepiece.bpe.model", corpus)
    else:
        _write_sentencepiece(
            config_dir / "spiece.model",
            corpus,
            pad_id=0,
            unk_id=1,
            bos_id=-1,
            eos_id=-1,
            control_symbols=["[CLS]", "[SEP]", "[MASK]"],
            normalization_rule_name="nmt_nfkc_cf",
        )


def _write_wordpiece(config_dir: Path, corpus: Sequence[str]) -> None:
    from tokenizers.pre_tokenizers import BertPreTokenizer

    pre = BertPreTokenizer()
    pieces = {piece for text in corpus for piece, _ in pre.pre_tokenize_str(text.lower())}
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
    (config_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (config_dir / "tokenizer_config.json").write_text(
        json.dumps({"do_lower_case": True, "model_max_length": 512})
    )


def _write_byte_bpe(config_dir: Path, words: list[str]) -> None:
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    byte_chars = list(bytes_to_unicode().values())
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for char in byte_chars:
        vocab.setdefault(char, len(vocab))
    # Merge each whole word, with and without its leading space, one byte at a time.
    encode = bytes_to_unicode()
    merges: list[str] = []
    for word in words:
        for prefixed in (word, " " + word):
            symbols = "".join(encode[b] for b in prefixed.encode("utf-8"))
            for end in range(2, len(symbols) + 1):
                merge = f"{symbols[: end - 1]} {symbols[end - 1]}"
                if symbols[:end] not in vocab:
                    merges.append(merge)
                    vocab[symbols[:end]] = len(vocab)
    vocab["<mask>"] = len(vocab)
    (config_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (config_dir / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8"
    )


class _TrainerOptions(TypedDict, total=False):
    """The sentencepiece trainer flags a caller sets beyond the defaults below."""

    pad_id: int
    unk_id: int
    bos_id: int
    eos_id: int
    control_symbols: list[str]
    normalization_rule_name: str


def _write_sentencepiece(
    path: Path, corpus: Sequence[str], **options: Unpack[_TrainerOptions]
) -> None:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(list(corpus) * 3),
        model_writer=model,
        vocab_size=min(8000, 8 * len(corpus) + 60),
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        minloglevel=2,
        **options,
    )
    path.write_bytes(model.getvalue())
