"""The model registry, `MODERATION_MODELS`, read and checked without torch.

    MODERATION_MODELS='{"ko-hate": "ko-hate", "unbiased": "unbiased"}'
    MODERATION_MODELS_DIR=./models            # the default

Each id names where its model lives: a published Detoxify variant name (loaded as
MODERATION_MODEL loads one, SHA-256 checked; a `moderation models fetch VARIANT --to
MODELS_DIR` layout, MODELS_DIR/VARIANT/config, is used for its config and tokenizer), or a
directory relative to MODERATION_MODELS_DIR holding a Hugging Face
`AutoModelForSequenceClassification` checkpoint: `config.json` (with `id2label`), the tokenizer's
files and `model.safetensors` (or a sharded `model.safetensors.index.json`). The id `default` is
always MODERATION_MODEL's (and MODERATION_MODEL_CONFIG's) and can't be named here.

A checkpoint directory, and every file in it, must resolve inside MODERATION_MODELS_DIR (a
symlink pointing elsewhere is refused), and its weights must be safetensors: pickle weights
(`*.bin`, `*.pt`, ...) can run code when loaded, so a directory with only those is refused
naming the file. The policy file names only model ids, so whoever edits it can't make a worker
load anything an operator didn't configure. Every problem is one line naming
MODERATION_MODELS (a `ModelRegistryError`: both a ConfigurationError and a ModelUnavailable).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policy import RegisteredModel
from service.errors import ConfigurationError, ModelUnavailable
from service.model_catalogue import VARIANTS, model_labels, variant_of
from service.settings import Settings

DEFAULT_ID = "default"
MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
MANIFEST_FILE = "manifest.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
_SETTING = "MODERATION_MODELS"


class ModelRegistryError(ConfigurationError, ModelUnavailable):
    """MODERATION_MODELS or a checkpoint it names is unusable: one line naming the id.

    A ConfigurationError for the processes' start-up checks, and a ModelUnavailable for the
    worker code that loads models (a reload that needs it is rejected)."""


@dataclass(frozen=True)
class ModelEntry:
    """One registered model; exactly how `workers.scoring.scorer.load_scorer` loads it."""

    id: str
    variant: str | None
    """The Detoxify variant (for `default`: the one MODERATION_MODEL names, if any)."""
    path: Path | None
    """The Hugging Face checkpoint directory, resolved, inside MODERATION_MODELS_DIR."""

    @property
    def is_hf(self) -> bool:
        return self.path is not None


def model_registry(settings: Settings) -> dict[str, ModelEntry]:
    """`default` (MODERATION_MODEL) and every id MODERATION_MODELS names, each checked."""
    entries = {DEFAULT_ID: ModelEntry(DEFAULT_ID, variant_of(settings.model), None)}
    for model_id, source in _parse(settings.models).items():
        entries[model_id] = _entry(model_id, source, settings.models_dir)
    return entries


def registered_models(settings: Settings) -> dict[str, RegisteredModel]:
    """What the policy loader checks routes and label maps against: each id's outputs (a
    checkpoint's `config.json` id2label, read as JSON; a variant's published labels; None for
    a MODERATION_MODEL checkpoint file that is no published variant) and its variant."""
    registry: dict[str, RegisteredModel] = {}
    for model_id, entry in model_registry(settings).items():
        if entry.path is not None:
            outputs: tuple[str, ...] | None = checkpoint_outputs(entry.path, model_id)
        elif entry.variant is not None:
            outputs = model_labels(entry.variant)
        else:
            outputs = None
        registry[model_id] = RegisteredModel(outputs=outputs, variant=entry.variant)
    return registry


def checkpoint_outputs(path: Path, model_id: str = "?") -> tuple[str, ...]:
    """The output names of a checkpoint, in output order: its config.json's id2label."""
    config = read_checkpoint_config(path, model_id)
    return _id2label(config, path / CONFIG_FILE, model_id)


def read_checkpoint_config(path: Path, model_id: str = "?") -> dict[str, Any]:
    file = path / CONFIG_FILE
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _error(model_id, f"can't read {file} ({exc.strerror})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _error(model_id, f"{file} is not JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise _error(model_id, f"{file} is not a JSON object")
    return config


def weights_file(path: Path, model_id: str = "?") -> Path:
    """`model.safetensors` or the sharded index; refuses a directory of pickle weights."""
    for name in (SAFETENSORS_FILE, SAFETENSORS_INDEX):
        if (path / name).is_file():
            return path / name
    pickles = sorted(p.name for p in path.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise _error(
            model_id,
            f"{path} holds only pickle weights ({pickles[0]}), which can run code when loaded: "
            f"only {SAFETENSORS_FILE} is read (convert it, or fetch a repo that publishes "
            "safetensors)",
        )
    raise _error(model_id, f"{path} has no {SAFETENSORS_FILE} (nor {SAFETENSORS_INDEX})")


def _parse(raw: str | None) -> dict[str, str]:
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelRegistryError(
            f"{_SETTING} is not JSON ({exc.msg} at character {exc.pos}); write an object "
            'from model id to source, e.g. {"ko-hate": "ko-hate"}'
        ) from exc
    if not isinstance(value, dict):
        raise ModelRegistryError(
            f'{_SETTING} must be a JSON object from model id to source, e.g. {{"ko-hate": '
            f'"ko-hate"}}, not {type(value).__name__}'
        )
    parsed: dict[str, str] = {}
    for model_id, source in value.items():
        if model_id == DEFAULT_ID:
            raise ModelRegistryError(
                f"{_SETTING} names {DEFAULT_ID!r}, which is MODERATION_MODEL's id: set "
                "MODERATION_MODEL (and MODERATION_MODEL_CONFIG) for it instead"
            )
        if not MODEL_ID.fullmatch(model_id):
            raise ModelRegistryError(
                f"{_SETTING}: {model_id!r} is not a model id (lower-case letters, digits, "
                "'.', '_' and '-', starting with a letter or digit, at most 64)"
            )
        if not isinstance(source, str) or not source.strip():
            raise ModelRegistryError(
                f"{_SETTING}: {model_id}: the source must be a Detoxify variant "
                f"({', '.join(VARIANTS)}) or a directory in MODERATION_MODELS_DIR, not "
                f"{json.dumps(source)}"
            )
        parsed[model_id] = source.strip()
    return parsed


def _entry(model_id: str, source: str, models_dir: Path) -> ModelEntry:
    if source in VARIANTS:
        return ModelEntry(model_id, source, None)
    return ModelEntry(model_id, None, checkpoint_dir(model_id, source, models_dir))


def checkpoint_dir(model_id: str, source: str, models_dir: Path) -> Path:
    """The checked, resolved checkpoint directory `source` names inside `models_dir`."""
    relative = Path(source)
    if relative.is_absolute() or source.startswith("~"):
        raise _error(
            model_id,
            f"{source!r} is neither a Detoxify variant ({', '.join(VARIANTS)}) nor a directory "
            "relative to MODERATION_MODELS_DIR",
        )
    root = models_dir.expanduser().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise _error(
            model_id, f"{source!r} resolves to {path}, outside MODERATION_MODELS_DIR ({root})"
        )
    if not path.is_dir():
        raise _error(
            model_id,
            f"{source!r} is neither a Detoxify variant ({', '.join(VARIANTS)}) nor a "
            f"directory in MODERATION_MODELS_DIR ({root})",
        )
    for file in path.iterdir():
        target = file.resolve()
        if not target.is_relative_to(root):
            raise _error(
                model_id,
                f"{file} points to {target}, outside MODERATION_MODELS_DIR ({root})",
            )
    if not (path / CONFIG_FILE).is_file():
        raise _error(model_id, f"{path} has no {CONFIG_FILE} (a Hugging Face checkpoint's)")
    weights_file(path, model_id)
    config = read_checkpoint_config(path, model_id)
    _id2label(config, path / CONFIG_FILE, model_id)
    if config.get("auto_map"):
        raise _error(
            model_id, f"{path / CONFIG_FILE} asks for the checkpoint's own code (auto_map)"
        )
    explicit = config.get("transformers_weights")
    if explicit is not None and explicit not in (SAFETENSORS_FILE, SAFETENSORS_INDEX):
        raise _error(
            model_id,
            f"{path / CONFIG_FILE} names weights {explicit!r}; only {SAFETENSORS_FILE} is read",
        )
    return path


def _id2label(config: Mapping[str, Any], file: Path, model_id: str) -> tuple[str, ...]:
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        raise _error(model_id, f"{file} has no id2label (the names of the model's outputs)")
    try:
        indexed = sorted((int(key), value) for key, value in id2label.items())
    except (TypeError, ValueError):
        raise _error(model_id, f"{file}: id2label's keys must be 0..n-1") from None
    if [index for index, _ in indexed] != list(range(len(indexed))):
        raise _error(model_id, f"{file}: id2label's keys must be 0..n-1")
    names = tuple(str(value) for _, value in indexed)
    if len(set(names)) != len(names):
        raise _error(model_id, f"{file}: id2label names an output twice")
    return names


def _error(model_id: str, message: str) -> ModelRegistryError:
    return ModelRegistryError(f"{_SETTING}: {model_id}: {message}")
