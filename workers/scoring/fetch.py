"""`moderation models fetch`: a variant's checkpoint and transformers files, for offline use.

    DEST/<variant>/<published checkpoint name>   e.g. DEST/unbiased/toxic_debiased-c7548aa0.ckpt
    DEST/<variant>/config/                       config.json and the tokenizer's files

which is where MODERATION_MODEL=<variant> with MODERATION_MODEL_CONFIG=DEST/<variant>/config
looks. Everything is downloaded into a staging directory inside DEST, checked, fsynced and
moved into place with os.replace, so an interrupted or corrupt download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import httpx
import structlog
from tqdm import tqdm

from service.errors import ScoringError
from service.model_catalogue import HF_BASE_URL, OPTIONAL_HUB_FILES, VARIANTS, Variant
from workers.scoring.locate import first_line, release_url, sha256_of

log = structlog.get_logger(__name__)

CHUNK_BYTES = 1 << 20
TIMEOUT = httpx.Timeout(30.0)


class FetchError(ScoringError):
    """A download failed or didn't check out; nothing was left in the destination."""


def fetch_model(
    variant: str | Variant,
    dest: Path,
    *,
    base_url: str | None = None,
    hf_base_url: str | None = None,
    progress: bool = True,
) -> Path:
    """Download `variant` into `dest` and return the checkpoint's path.

    `base_url` replaces Detoxify's release download URL and `hf_base_url` the Hugging Face
    hub's, for mirrors (both keep the upstream paths below them).
    """
    spec = variant if isinstance(variant, Variant) else _known_variant(variant)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / spec.name
    checkpoint = target / spec.file_name
    staging = Path(tempfile.mkdtemp(prefix=f".fetch-{spec.name}-", dir=dest))
    try:
        with httpx.Client(
            follow_redirects=True, timeout=TIMEOUT, headers={"Accept-Encoding": "identity"}
        ) as client:
            staged_checkpoint = None
            if not _is_fetched(checkpoint, spec):
                staged_checkpoint = staging / spec.file_name
                _download(
                    client,
                    release_url(spec, base_url),
                    staged_checkpoint,
                    sha256_prefix=spec.sha256_prefix,
                    progress=progress,
                )
            staged_config = staging / "config"
            staged_config.mkdir()
            for name in (*spec.hub_files, *OPTIONAL_HUB_FILES):
                _download(
                    client,
                    _hub_url(spec, name, hf_base_url),
                    staged_config / name,
                    optional=name in OPTIONAL_HUB_FILES,
                )
        _fsync_directory(staged_config)
        target.mkdir(exist_ok=True)
        if (target / "config").exists():
            os.replace(target / "config", staging / "previous-config")
        os.replace(staged_config, target / "config")
        if staged_checkpoint is not None:
            os.replace(staged_checkpoint, checkpoint)
        _fsync_directory(target)
        _fsync_directory(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("model.fetched", variant=spec.name, checkpoint=str(checkpoint))
    return checkpoint


def _known_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise FetchError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}") from None


def _hub_url(spec: Variant, name: str, hf_base_url: str | None) -> str:
    return f"{(hf_base_url or HF_BASE_URL).rstrip('/')}/{spec.hub_repo}/resolve/main/{name}"


def _is_fetched(checkpoint: Path, spec: Variant) -> bool:
    if not checkpoint.is_file():
        return False
    prefix = spec.sha256_prefix
    if prefix is not None and not sha256_of(checkpoint).startswith(prefix):
        log.warning("model.refetch", checkpoint=str(checkpoint), reason="SHA-256 mismatch")
        return False
    return True


def _download(
    client: httpx.Client,
    url: str,
    path: Path,
    *,
    sha256_prefix: str | None = None,
    progress: bool = False,
    optional: bool = False,
) -> None:
    """Stream `url` into the new file `path`, checking its length and SHA-256 prefix."""
    digest = hashlib.sha256()
    received = 0
    try:
        with client.stream("GET", url) as response:
            if optional and response.status_code == httpx.codes.NOT_FOUND:
                return
            response.raise_for_status()
            length = response.headers.get("Content-Length")
            expected = (
                int(length) if length and "Content-Encoding" not in response.headers else None
            )
            with (
                path.open("xb") as file,
                tqdm(
                    total=expected,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=path.name,
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    file.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
                file.flush()
                os.fsync(file.fileno())
    except httpx.HTTPStatusError as exc:
        raise FetchError(f"{url} answered HTTP {exc.response.status_code}") from exc
    except httpx.RemoteProtocolError as exc:
        raise FetchError(f"download of {url} was cut short ({first_line(exc)})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(
            f"download of {url} failed ({type(exc).__name__}: {first_line(exc)})"
        ) from exc
    if expected is not None and received != expected:
        raise FetchError(f"download of {url} was cut short: {received} of {expected} bytes")
    if sha256_prefix is not None and not digest.hexdigest().startswith(sha256_prefix):
        raise FetchError(
            f"{path.name} from {url} has SHA-256 {digest.hexdigest()[:16]}..., which does not "
            f"start with the {sha256_prefix} its name promises: a corrupt or substituted file"
        )


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
