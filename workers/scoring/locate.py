"""Where the configured model comes from, decided without torch.

The worker's parent calls `check_model_available` before it forks, so a missing model is one
clear line at start-up rather than a traceback in every child.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from service.errors import ModelUnavailable
from service.model_catalogue import DETOXIFY_DOWNLOAD_URL, VARIANTS, Variant
from service.settings import Settings
from workers.scoring.device import check_device
from workers.scoring.kernel import check_int8_kernel

if TYPE_CHECKING:
    from service.models.registry import ModelEntry

PROBE_TIMEOUT = httpx.Timeout(10.0)
HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ModelSource:
    """One of: a local checkpoint file, or a variant's URL that torch.hub downloads and caches."""

    checkpoint: Path | None
    url: str | None
    config_dir: Path | None
    """Local transformers config/tokenizer; None: transformers asks the Hugging Face hub."""
    variant: Variant | None
    """The named variant, when MODERATION_MODEL names one."""

    @property
    def variant_name(self) -> str | None:
        return self.variant.name if self.variant else None


def locate_model(settings: Settings) -> ModelSource:
    """The model's source, checking every local path; raises ModelUnavailable. No network.

    A named variant's local file is hashed: its model id names the published SHA-256 prefix,
    which a renamed or corrupt file must not borrow.
    """
    config_dir = _config_dir(settings)
    variant = VARIANTS.get(settings.model)
    if variant is None:
        checkpoint = _checkpoint_file(settings.model)
        if config_dir is None:
            config_dir = _fetched_config_dir(checkpoint)
        return ModelSource(checkpoint, None, config_dir, None)
    candidates = [torch_hub_checkpoints_dir() / variant.file_name]
    if config_dir is not None:
        # `moderation models fetch` lays out DIR/<variant>/<checkpoint> beside DIR/<variant>/config.
        candidates.insert(0, config_dir.parent / variant.file_name)
    for candidate in candidates:
        if candidate.is_file():
            _check_published_hash(candidate, variant)
            return ModelSource(candidate, None, config_dir, variant)
    if config_dir is not None:
        raise ModelUnavailable(
            f"the {variant.name!r} checkpoint {variant.file_name} is not in "
            f"{' or '.join(str(c.parent) for c in candidates)}; {fetch_hint(variant.name)}"
        )
    return ModelSource(None, release_url(variant, settings.model_base_url), None, variant)


def check_model_available(settings: Settings) -> None:
    """Raise ModelUnavailable unless the configured models can be loaded: MODERATION_MODEL
    and every model MODERATION_MODELS names (its checkpoint directories checked as the
    registry checks them: inside MODERATION_MODELS_DIR, safetensors only). Never imports torch.

    A variant that still has to be downloaded costs one request here: the children would
    otherwise each find out on their own, after fork.
    """
    from service.models.registry import DEFAULT_ID, model_registry

    _check_one(settings)
    for entry in model_registry(settings).values():
        if entry.id != DEFAULT_ID and entry.variant is not None:
            _check_one(variant_settings(settings, entry))


def variant_settings(settings: Settings, entry: ModelEntry) -> Settings:
    """The settings that load a registry id's Detoxify variant as MODERATION_MODEL would: its
    config from MODERATION_MODELS_DIR/<variant>/config when `moderation models fetch <variant>
    --to MODELS_DIR` put it there."""
    assert entry.variant is not None, "a registry entry is a variant or a checkpoint directory"
    fetched = settings.models_dir / entry.variant / "config"
    config_dir = str(fetched) if (fetched / "config.json").is_file() else None
    return settings.model_copy(update={"model": entry.variant, "model_config_dir": config_dir})


def _check_one(settings: Settings) -> None:
    source = locate_model(settings)
    check_device(settings.device)
    check_int8_kernel(settings)
    if source.url is None:
        return
    assert source.variant is not None, "only named variants are downloaded"
    try:
        with (
            httpx.Client(follow_redirects=True, timeout=PROBE_TIMEOUT) as client,
            client.stream("GET", source.url) as response,
        ):
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise download_unavailable(source.variant, source.url, exc) from exc


def download_unavailable(variant: Variant, url: str, exc: BaseException) -> ModelUnavailable:
    return ModelUnavailable(
        f"can't download the {variant.name!r} checkpoint from {url} "
        f"({type(exc).__name__}: {first_line(exc)}); {fetch_hint(variant.name)}"
    )


def fetch_hint(variant: str | None = None) -> str:
    variant = variant or "VARIANT"
    return (
        f"run `moderation models fetch {variant} --to DIR` where there is internet and set "
        f"MODERATION_MODEL_CONFIG=DIR/{variant}/config, or set MODERATION_MODEL to a checkpoint "
        "file (to try the pipeline without downloading anything: `moderation models demo "
        "--to var/demo-model`, random weights)"
    )


def release_url(variant: Variant, base_url: str | None) -> str:
    return (base_url or DETOXIFY_DOWNLOAD_URL).rstrip("/") + "/" + variant.release_path


def torch_hub_checkpoints_dir() -> Path:
    """`torch.hub.get_dir()/checkpoints`, computed the way torch does, without importing it."""
    cache_home = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    torch_home = os.getenv("TORCH_HOME", os.path.join(cache_home, "torch"))
    return Path(torch_home).expanduser() / "hub" / "checkpoints"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _config_dir(settings: Settings) -> Path | None:
    if not settings.model_config_dir:
        return None
    path = Path(settings.model_config_dir).expanduser()
    if not (path / "config.json").is_file():
        raise ModelUnavailable(
            f"MODERATION_MODEL_CONFIG={path} has no config.json (a transformers config and "
            f"tokenizer directory); {fetch_hint()}"
        )
    return path


def _fetched_config_dir(checkpoint: Path) -> Path | None:
    """`models fetch` and `models demo` put the config beside the checkpoint: DIR/.../config."""
    beside = checkpoint.parent / "config"
    return beside if (beside / "config.json").is_file() else None


def _check_published_hash(path: Path, variant: Variant) -> None:
    prefix = variant.sha256_prefix
    if prefix is None:
        return
    digest = sha256_of(path)
    if not digest.startswith(prefix):
        raise ModelUnavailable(
            f"{path} has SHA-256 {digest[:16]}..., which does not start with the {prefix} its "
            f"published name promises (a corrupt or substituted file); {fetch_hint(variant.name)}"
        )


def _checkpoint_file(value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ModelUnavailable(
            f"MODERATION_MODEL={value!r} is neither a Detoxify variant ({', '.join(VARIANTS)}) "
            f"nor an existing checkpoint file; {fetch_hint()}"
        )
    return path
