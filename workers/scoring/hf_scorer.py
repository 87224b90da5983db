"""A Hugging Face `AutoModelForSequenceClassification` checkpoint as a Scorer: raw logits.

Imported only in worker children (after fork): it imports torch and transformers.

The directory is the registry's (`service.models.registry`): inside MODERATION_MODELS_DIR,
safetensors only, checked again here since it may have changed since start-up, and against its
`manifest.json` when `moderation models fetch` wrote one. transformers loads it with
`use_safetensors=True` (a pickle is never read), `trust_remote_code=False` (no code from the
checkpoint runs) and `local_files_only=True` (no network).

Scores are the model's raw logits by its `config.id2label` names: the policy applies the
activation (sigmoid or softmax, `models.<id>.activation`) and maps outputs to the service's
labels. The model runs exactly as the Detoxify scorer's does (`prepare_model`): row-wise int8
Linear layers and token embeddings, attention over each comment's own tokens, and batches of 8
on CPU, so a comment's scores don't depend on what it is batched with. That path needs the
architecture's attention to go through transformers' attention interface; BERT, ELECTRA,
RoBERTa and XLM-R do (their `_supports_attention_backend`). An architecture that doesn't is
scored one comment at a time (batch size 1, so no padding ever enters its sums) with torch.ao's
per-tensor int8, and the model id says so ("+int8-per-tensor").
"""

from __future__ import annotations

import gc
import hashlib
import os
from typing import Any

import structlog
import torch
import transformers

from service.errors import ModelUnavailable
from service.models.registry import (
    SAFETENSORS_INDEX,
    ModelEntry,
    ModelRegistryError,
    checkpoint_dir,
    checkpoint_outputs,
    weights_file,
)
from service.settings import Settings
from workers.scoring.batched import BatchedScorer
from workers.scoring.detoxify_scorer import SOLO_BATCH_SIZE, prepare_model, quantize_int8
from workers.scoring.device import device_problem
from workers.scoring.kernel import MODEL_SUFFIX
from workers.scoring.locate import first_line, sha256_of
from workers.scoring.manifest import verify_manifest
from workers.scoring.scorer import OutputKind

log = structlog.get_logger(__name__)

# Position ids of these start after the padding id: two fewer positions for tokens.
_OFFSET_POSITIONS = frozenset({"roberta", "xlm-roberta", "camembert"})


class HfScorer(BatchedScorer):
    """Raw logits of every output of a sequence-classification checkpoint."""

    outputs_are: OutputKind = "logits"


def load_hf_scorer(entry: ModelEntry, settings: Settings) -> HfScorer:
    """Load `entry`'s checkpoint; raises ModelUnavailable (one line naming the model)."""
    assert entry.path is not None, "a Hugging Face entry has a checkpoint directory"
    # Checked again here: the directory may have changed since the registry was read.
    root = settings.models_dir.expanduser().resolve()
    resolved = entry.path.resolve()
    if not resolved.is_relative_to(root):
        raise ModelRegistryError(
            f"MODERATION_MODELS: {entry.id}: {entry.path} is outside MODERATION_MODELS_DIR ({root})"
        )
    path = checkpoint_dir(entry.id, str(resolved.relative_to(root)), root)
    weights = weights_file(path, entry.id)
    digests = verify_manifest(path, entry.id)
    labels = checkpoint_outputs(path, entry.id)
    problem = device_problem(settings.device)
    if problem is not None:
        raise ModelUnavailable(problem)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    device = torch.device(settings.device)
    options: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, **options)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            path, use_safetensors=True, **options
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelUnavailable(
            f"model {entry.id!r}: transformers can't load {path} ({type(exc).__name__}: "
            f"{first_line(exc)})"
        ) from exc
    config = model.config
    if config.num_labels != len(labels):
        raise ModelUnavailable(
            f"model {entry.id!r}: {path} has {config.num_labels} outputs but id2label names "
            f"{len(labels)}"
        )
    if getattr(model, "_supports_attention_backend", False):
        model, precision, batch_size = prepare_model(model, settings, device)
    else:
        model, precision, batch_size = _solo(model, settings, device, type(model).__name__)
    _own_memory(model)
    scorer = HfScorer(
        model=model,
        tokenizer=tokenizer,
        labels=labels,
        model_id=f"hf:{entry.id}@{_weights_digest(weights, digests)[:8]}+{precision}",
        max_tokens=_max_tokens(settings.max_tokens, config, tokenizer),
        device=device,
        batch_size=batch_size,
    )
    log.debug("scoring.loaded", model=scorer.model_id, labels=len(labels), device=str(device))
    return scorer


def _own_memory(model: torch.nn.Module) -> None:
    """Copy every tensor the model still shares with the checkpoint file. transformers loads
    safetensors memory-mapped; a parameter left as it was loaded (layer norms, position
    embeddings, fp32 weights) keeps the whole file mapped and resident after quantization
    has replaced most of it: ~420 MB for a BERT-base, ~1 GB for an XLM-R base."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.data = parameter.data.clone()
        for buffer in model.buffers():
            buffer.data = buffer.data.clone()
    gc.collect()


def _solo(
    model: torch.nn.Module, settings: Settings, device: torch.device, architecture: str
) -> tuple[torch.nn.Module, str, int]:
    """An architecture whose attention can't run unpadded: one comment a pass."""
    model.eval()
    precision = "fp32"
    if settings.quantize == "int8" and device.type == "cpu":
        log.info(
            "scoring.per_tensor_int8",
            reason=f"{architecture} has no attention interface to run unpadded",
        )
        model = quantize_int8(model)
        precision = MODEL_SUFFIX["per_tensor"]
    model.to(device)
    return model, precision, SOLO_BATCH_SIZE


def _weights_digest(weights: Any, digests: dict[str, str] | None) -> str:
    """model.safetensors' SHA-256; a sharded checkpoint's: that of its shards' digests."""
    known = digests or {}
    if weights.name != SAFETENSORS_INDEX:
        return known.get(weights.name) or sha256_of(weights)
    shards = sorted(p for p in weights.parent.glob("*.safetensors"))
    combined = hashlib.sha256()
    for shard in shards:
        combined.update((known.get(shard.name) or sha256_of(shard)).encode())
    return combined.hexdigest()


def _max_tokens(setting: int, config: Any, tokenizer: Any) -> int:
    positions = getattr(config, "max_position_embeddings", None) or setting
    if getattr(config, "model_type", "") in _OFFSET_POSITIONS:
        positions -= (getattr(config, "pad_token_id", None) or 0) + 1
    limit = getattr(tokenizer, "model_max_length", None) or setting
    return max(1, min(setting, positions, limit))
