"""Detoxify's own loading code, made to run offline, quantized and single-threaded per process.

Imported only in worker children (after fork): it imports torch and transformers.
"""

from __future__ import annotations

import gc
import math
import os
import pickle
import warnings
from typing import Any

import detoxify.detoxify
import structlog
import torch
import transformers

from service.errors import ModelUnavailable, ScoringError
from service.model_catalogue import checkpoint_labels
from service.settings import Settings
from workers.scoring.attention import attend_unpadded
from workers.scoring.batched import BatchedScorer
from workers.scoring.device import device_problem
from workers.scoring.kernel import FALLBACK_REASON, MODEL_SUFFIX, choose_int8_kernel
from workers.scoring.locate import (
    ModelSource,
    download_unavailable,
    fetch_hint,
    first_line,
    locate_model,
    sha256_of,
)
from workers.scoring.rowwise import quantize_rowwise, quantize_token_embeddings
from workers.scoring.scorer import OutputKind

log = structlog.get_logger(__name__)

# The same comment must get the same scores from the same model_id, whatever it is batched with.
# Row-wise int8 with unpadded attention does that, so on CPU batches of 8 score ~1.5x more
# comments a second than one at a time (bench/scoring.py; 16 pad more than they save). Where
# the CPU can't run it, torch.ao's dynamic int8 gives a whole batch one activation scale, which
# couples a comment to its neighbours (by up to 0.05 on the bench model): one at a time there,
# and for fp32, whose float matrix products may round a row differently in a bigger batch.
# Accelerators batch for speed and guarantee no bits anyway.
CPU_BATCH_SIZE = 8
SOLO_BATCH_SIZE = 1
ACCELERATOR_BATCH_SIZE = 32
_ARCH_ARGS = ("model_type", "model_name", "tokenizer_name", "num_classes")


class DetoxifyScorer(BatchedScorer):
    """Scores every output of a Detoxify checkpoint, identity labels included."""

    outputs_are: OutputKind = "probabilities"

    def _rows(self, logits: list[list[float]]) -> list[list[float]]:
        # In Python, value by value: torch's vectorised sigmoid rounds a batch's last bits
        # differently from one row's.
        return [[_sigmoid(value) for value in row] for row in logits]


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def load_detoxify_scorer(settings: Settings) -> DetoxifyScorer:
    source = locate_model(settings)
    problem = device_problem(settings.device)
    if problem is not None:
        raise ModelUnavailable(problem)
    # One process per core, one thread each: torch's own pool would fight the sibling processes.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    torch.set_num_threads(1)
    # Worker logs are structured lines; a progress bar in them is noise.
    transformers.utils.logging.disable_progress_bar()
    device = torch.device(settings.device)

    loaded = _load_checkpoint(source)
    labels = checkpoint_labels(loaded["config"])
    args = _arch_args(loaded["config"])
    hub_name = args["model_type"]
    if source.config_dir is not None:
        # detoxify's get_model_and_tokenizer asks for the config by `model_type` even when
        # given huggingface_config_path; a local directory there keeps it off the network.
        args["model_type"] = str(source.config_dir)
    try:
        model, tokenizer = detoxify.detoxify.get_model_and_tokenizer(
            **args, state_dict=loaded["state_dict"]
        )
    except OSError as exc:
        where = f"in {source.config_dir}" if source.config_dir else "from the Hugging Face hub"
        raise ModelUnavailable(
            f"the transformers config/tokenizer for {hub_name} can't be loaded {where} "
            f"({first_line(exc)}); {fetch_hint(source.variant_name)}"
        ) from exc
    del loaded
    if model.config.num_labels != len(labels):
        raise ScoringError(
            f"the checkpoint has {model.config.num_labels} outputs but names {len(labels)} labels"
        )

    model, precision, batch_size = prepare_model(model, settings, device)
    scorer = DetoxifyScorer(
        model=model,
        tokenizer=tokenizer,
        labels=labels,
        model_id=f"{_model_name(source)}+{precision}",
        max_tokens=settings.max_tokens,
        device=device,
        batch_size=batch_size,
    )
    log.debug("scoring.loaded", model=scorer.model_id, labels=len(labels), device=str(device))
    return scorer


def prepare_model(
    model: torch.nn.Module, settings: Settings, device: torch.device
) -> tuple[torch.nn.Module, str, int]:
    """The model ready to score on `device`, its precision (the model id's suffix: "int8",
    "int8-per-tensor", "fp32") and the batch size that keeps each text's scores independent of
    its batch. Any transformers model whose attention takes transformers' attention interface
    (BERT, RoBERTa, XLM-R, ELECTRA, ALBERT) runs the row-wise int8 + unpadded path."""
    model.eval()
    precision = "fp32"
    batch_size = SOLO_BATCH_SIZE if device.type == "cpu" else ACCELERATOR_BATCH_SIZE
    if settings.quantize == "int8" and device.type == "cpu":
        kernel = choose_int8_kernel(settings.int8_kernel)
        precision = MODEL_SUFFIX[kernel]
        if kernel == "rowwise":
            quantize_rowwise(model)
            quantize_token_embeddings(model)
            attend_unpadded(model)
            batch_size = CPU_BATCH_SIZE
        else:
            forced = settings.int8_kernel == "per_tensor"
            reason = "MODERATION_INT8_KERNEL=per_tensor" if forced else FALLBACK_REASON
            log.info("scoring.per_tensor_int8", reason=reason)
            model = quantize_int8(model)
    elif settings.quantize == "int8":
        log.info("scoring.int8_skipped", device=str(device), reason="dynamic int8 is CPU-only")
    model.to(device)
    # The fp32 weights that quantization replaced sit in reference cycles until collected.
    gc.collect()
    return model, precision, batch_size


def _load_checkpoint(source: ModelSource) -> dict[str, Any]:
    # A pickle, like every Detoxify checkpoint: only ever read from configured paths and URLs.
    if source.checkpoint is not None:
        try:
            loaded = torch.load(source.checkpoint, map_location="cpu", weights_only=False)
        except (RuntimeError, pickle.UnpicklingError, EOFError, OSError) as exc:
            raise ModelUnavailable(
                f"can't read the checkpoint {source.checkpoint} ({type(exc).__name__}: "
                f"{first_line(exc)}); {fetch_hint(source.variant_name)}"
            ) from exc
    else:
        assert source.url is not None and source.variant is not None
        try:
            loaded = torch.hub.load_state_dict_from_url(
                source.url, map_location="cpu", weights_only=False, check_hash=True
            )
        except (OSError, RuntimeError) as exc:
            raise download_unavailable(source.variant, source.url, exc) from exc
    if not isinstance(loaded, dict) or "config" not in loaded or "state_dict" not in loaded:
        raise ScoringError("not a Detoxify checkpoint: it needs 'config' and 'state_dict'")
    return loaded


def _arch_args(config: dict[str, Any]) -> dict[str, Any]:
    """What detoxify's get_model_and_tokenizer takes; newer configs also hold the classes."""
    args = config.get("arch", {}).get("args", {})
    missing = [key for key in _ARCH_ARGS if key not in args]
    if missing:
        raise ScoringError(f"not a Detoxify checkpoint: config.arch.args lacks {missing}")
    return {key: args[key] for key in _ARCH_ARGS}


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """The model with its linear layers dynamically quantized to int8, torch's notices hushed."""
    with warnings.catch_warnings():
        # torch 2.13 deprecates torch.ao and quantized tensors in favour of torchao; the eager
        # API still works, and these two notices would otherwise greet every worker child.
        warnings.filterwarnings(
            "ignore",
            message=r"torch\.ao\.quantization is deprecated",
            category=DeprecationWarning,
        )
        warnings.filterwarnings(
            "ignore",
            message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel",
            category=UserWarning,
        )
        # In place: a copy would hold a second fp32 model at the load's peak (+400 MB for BERT).
        quantized: torch.nn.Module = torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
        return quantized


def _model_name(source: ModelSource) -> str:
    if source.variant is not None:
        return f"detoxify:{source.variant.name}@{source.variant.sha256_prefix}"
    assert source.checkpoint is not None
    return f"checkpoint:{source.checkpoint.name}@{sha256_of(source.checkpoint)[:8]}"
