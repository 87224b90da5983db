"""Tiny Hugging Face checkpoints for tests: real architectures, random or rigged weights, Hangul.

    from tests.support.hf_checkpoints import (
        APPROVED_KO, HELD_KO, tiny_hf_checkpoint, pickle_only_checkpoint,
    )

    ckpt = tiny_hf_checkpoint(tmp_path / "models" / "ko-tiny")          # BERT, 3 sigmoid labels
    ckpt = tiny_hf_checkpoint(
        tmp_path / "models" / "ko-hate",
        arch="electra",                                                  # or "bert", "xlm-roberta"
        labels=("clean", "offensive", "hate"),
        problem_type="single_label_classification",                      # softmax
        triggers={"hate": ("바보", "멍청이")},                            # rigged: see below
    )
    ckpt.path            # the checkpoint directory (config.json, model.safetensors, tokenizer)
    ckpt.labels          # config.id2label's values, in output order
    ckpt.entry("ko-hate")                  # a service.models.registry.ModelEntry for it
    ckpt.registry_env("ko-hate")           # {"MODERATION_MODELS": '{"ko-hate": "<dir name>"}',
                                           #  "MODERATION_MODELS_DIR": "<parent dir>"}
    ckpt.settings("ko-hate", **overrides)  # a Settings with that registry
    pickle_only_checkpoint(tmp_path / "models" / "pickled")   # pytorch_model.bin, no safetensors

`tiny_hf_checkpoint(dir, arch, labels, problem_type, *, triggers=None, corpus=KOREAN_CORPUS,
seed=0)` writes `AutoModelForSequenceClassification` files into `dir` (created; it must not
hold a checkpoint already) with `save_pretrained` (safetensors: transformers 5 writes nothing
else; the file is asserted), a WordPiece tokenizer whose vocabulary is the words, Hangul
syllables and characters of `corpus` (plus [PAD] [UNK] [CLS] [SEP] [MASK], ASCII letters,
digits and punctuation; no lower-casing, which would split Hangul into jamo), loaded by
`AutoTokenizer` from the saved `tokenizer_config.json`. Hidden size 32, 2 layers, 2 heads.

Without `triggers` the weights are random (seeded; spread 0.2 so scores depend on the text):
for int8-vs-fp32 and batch-independence tests.

With `triggers` ({label: words}) the model is rigged so that its scores depend only on whether
a text contains one of a label's words (as whole tokens: each word is added to the vocabulary;
a word with a particle attached, "바보야", still starts with the token "바보"):
- a label with a trigger word present: logit >= LOW + 12 (in practice ~+40: score ~1.0);
- otherwise every logit is LOW (-6.0), except, for `single_label_classification`, the label
  named `clean` (or the first label when none is) whose logit is HIGH (+6.0).
So with sigmoid a text scores ~0.0025 on every label unless it holds a trigger word, and with
softmax `clean` takes ~1.0 unless a trigger word is present. APPROVED_KO holds no trigger word
of TOXIC_WORDS, HELD_KO holds "바보" and "멍청이": use `triggers={"hate": TOXIC_WORDS}`.

How: attention queries/keys are zero (every token attends to all of its comment's tokens
alike), values and attention outputs are the identity, the feed-forward outputs zero, position
embeddings zero, and each triggered label owns one hidden dimension ("channel") that only its
words' embeddings set. The [CLS] token thus carries each channel's share of trigger tokens, and
the head reads label logits off the channels. It runs through transformers' own modules, so
the int8 row-wise and unpadded-attention paths score it as they score any checkpoint.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from service.models.registry import ModelEntry
    from service.settings import Settings

Arch = Literal["bert", "electra", "xlm-roberta"]
ProblemType = Literal["multi_label_classification", "single_label_classification"]

LOW = -6.0
HIGH = 6.0
# A trigger channel's weight in the head: one trigger token in a 60-token comment still adds
# well over 12 to its label's logit.
GAIN = 400.0

KOREAN_CORPUS = (
    "좋은 기사 감사합니다. 예산을 투명하게 공개해야 합니다.",
    "기사 잘 읽었습니다, 사진이 정말 인상적이네요!",
    "내일부터 버스 시간표가 바뀌나요?",
    "시의회 결정에 동의하지 않지만 공정한 요약입니다.",
    "이 기사 쓴 기자는 바보 멍청이다.",
    "꺼져라 이 쓰레기야, 아무도 네 글을 안 읽어.",
    "Great article, 감사합니다",
)
APPROVED_KO = "좋은 기사 감사합니다. 예산을 투명하게 공개해야 합니다."
HELD_KO = "이 기사 쓴 기자는 바보 멍청이다."
TOXIC_WORDS = ("바보", "멍청이", "쓰레기")

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
HIDDEN = 32
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
INIT_STD = 0.2

_MODEL_CLASSES = {
    "bert": ("BertConfig", "BertForSequenceClassification"),
    "electra": ("ElectraConfig", "ElectraForSequenceClassification"),
    "xlm-roberta": ("XLMRobertaConfig", "XLMRobertaForSequenceClassification"),
}


@dataclass(frozen=True)
class HfCheckpoint:
    path: Path
    arch: str
    labels: tuple[str, ...]
    problem_type: str
    triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def entry(self, model_id: str = "ko-tiny") -> ModelEntry:
        from service.models.registry import ModelEntry

        return ModelEntry(model_id, None, self.path.resolve())

    def registry_env(self, model_id: str = "ko-tiny") -> dict[str, str]:
        """The two variables that register this checkpoint (its parent is the models dir)."""
        return {
            "MODERATION_MODELS": json.dumps({model_id: self.path.name}),
            "MODERATION_MODELS_DIR": str(self.path.parent.resolve()),
        }

    def settings(self, model_id: str = "ko-tiny", **overrides: Any) -> Settings:
        from service.settings import Settings

        fields: dict[str, Any] = {
            "models": json.dumps({model_id: self.path.name}),
            "models_dir": self.path.parent.resolve(),
        }
        return Settings(**(fields | overrides))


def tiny_hf_checkpoint(
    directory: Path,
    arch: Arch = "bert",
    labels: Sequence[str] = ("toxicity", "insult", "threat"),
    problem_type: ProblemType = "multi_label_classification",
    *,
    triggers: Mapping[str, Sequence[str]] | None = None,
    corpus: Sequence[str] = KOREAN_CORPUS,
    seed: int = 0,
) -> HfCheckpoint:
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    labels = tuple(labels)
    rigged = {label: tuple(words) for label, words in (triggers or {}).items()}
    unknown = set(rigged) - set(labels)
    if unknown:
        raise ValueError(f"trigger labels {sorted(unknown)} are not among {labels}")
    if len(rigged) > HIDDEN // 2:
        raise ValueError(f"at most {HIDDEN // 2} labels can have triggers")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "config.json").exists():
        raise ValueError(f"{directory} already holds a checkpoint")

    words = [word for group in rigged.values() for word in group]
    tokenizer = _write_tokenizer(directory, [*corpus, *words], words)
    config_name, model_name = _MODEL_CLASSES[arch]
    sizes: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": 512,
        "pad_token_id": tokenizer.pad_token_id,
        "initializer_range": INIT_STD,
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: index for index, label in enumerate(labels)},
        "problem_type": problem_type,
    }
    if arch == "electra":
        sizes["embedding_size"] = HIDDEN
    if arch == "xlm-roberta":
        # Positions start after the padding id; one token type, as the real ones.
        sizes["max_position_embeddings"] = 512 + tokenizer.pad_token_id + 1
        sizes["type_vocab_size"] = 1
        sizes["bos_token_id"] = tokenizer.cls_token_id
        sizes["eos_token_id"] = tokenizer.sep_token_id
    config = getattr(transformers, config_name)(**sizes)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = getattr(transformers, model_name)(config)
        if rigged:
            _rig(model, arch, labels, problem_type, rigged, tokenizer)
    model.eval()
    model.save_pretrained(directory)
    assert (directory / "model.safetensors").is_file(), "transformers wrote no safetensors"
    return HfCheckpoint(directory, arch, labels, problem_type, rigged)


def pickle_only_checkpoint(directory: Path, arch: Arch = "bert") -> HfCheckpoint:
    """A checkpoint whose weights are only `pytorch_model.bin` (a pickle): to be refused."""
    import torch
    from safetensors.torch import load_file

    built = tiny_hf_checkpoint(directory, arch)
    weights = directory / "model.safetensors"
    torch.save(load_file(weights), directory / "pytorch_model.bin")
    weights.unlink()
    return built


def _write_tokenizer(directory: Path, corpus: Sequence[str], words: Sequence[str]) -> Any:
    import transformers
    from tokenizers.pre_tokenizers import BertPreTokenizer

    pre = BertPreTokenizer()
    pieces = {piece for text in corpus for piece, _ in pre.pre_tokenize_str(text)}
    # "쓰레기야" must read as "쓰레기" "##야": no whole word that merely starts with a trigger.
    pieces = {p for p in pieces if not any(p.startswith(w) and p != w for w in words)}
    pieces.update(words)
    chars = {char for piece in pieces for char in piece}
    chars.update(string.ascii_letters + string.digits + string.punctuation)
    vocab = [
        *SPECIAL_TOKENS,
        *sorted(pieces - set(SPECIAL_TOKENS)),
        *sorted(chars - pieces),
        *(f"##{char}" for char in sorted(chars)),
    ]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    options = {"do_lower_case": False, "strip_accents": False, "model_max_length": 512}
    (directory / "tokenizer_config.json").write_text(json.dumps(options), encoding="utf-8")
    tokenizer = transformers.BertTokenizer.from_pretrained(directory, **options)
    tokenizer.save_pretrained(directory)
    return tokenizer


def _rig(
    model: Any,
    arch: str,
    labels: tuple[str, ...],
    problem_type: str,
    triggers: Mapping[str, tuple[str, ...]],
    tokenizer: Any,
) -> None:
    import torch

    channels = {label: index for index, label in enumerate(sorted(triggers))}
    base = model.base_model
    with torch.no_grad():
        embeddings = base.embeddings
        words = embeddings.word_embeddings.weight
        words.normal_(0.0, 1.0)
        words[:, : len(channels)] = 0.0
        rest = words[:, len(channels) :]
        rest -= rest.mean(dim=1, keepdim=True)
        for label, trigger_words in triggers.items():
            for word in trigger_words:
                token_ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(word))
                words[token_ids[0], channels[label]] = 8.0
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()
        _identity_norm(embeddings.LayerNorm)
        for layer in base.encoder.layer:
            attention = layer.attention
            for linear in (attention.self.query, attention.self.key):
                linear.weight.zero_()
                linear.bias.zero_()
            for linear in (attention.self.value, attention.output.dense):
                linear.weight.copy_(torch.eye(HIDDEN))
                linear.bias.zero_()
            layer.output.dense.weight.zero_()
            layer.output.dense.bias.zero_()
            _identity_norm(attention.output.LayerNorm)
            _identity_norm(layer.output.LayerNorm)
        if arch == "bert":
            base.pooler.dense.weight.copy_(torch.eye(HIDDEN))
            base.pooler.dense.bias.zero_()
            head = model.classifier
        else:
            model.classifier.dense.weight.copy_(torch.eye(HIDDEN))
            model.classifier.dense.bias.zero_()
            head = model.classifier.out_proj
        head.weight.zero_()
        clean = "clean" if "clean" in labels else labels[0]
        single = problem_type == "single_label_classification"
        head.bias.copy_(
            torch.tensor([HIGH if single and label == clean else LOW for label in labels])
        )
        for label, channel in channels.items():
            head.weight[labels.index(label), channel] = GAIN


def _identity_norm(norm: Any) -> None:
    norm.weight.fill_(1.0)
    norm.bias.zero_()
