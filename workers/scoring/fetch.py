"""`moderation models fetch`: a variant's checkpoint and transformers files, for offline use.

    DEST/<variant>/<published checkpoint name>   e.g. DEST/unbiased/toxic_debiased-c7548aa0.ckpt
    DEST/<variant>/config/                       config.json and the tokenizer's files

which is where MODERATION_MODEL=<variant> with MODERATION_MODEL_CONFIG=DEST/<variant>/config
looks. Everything is downloaded into a staging directory inside DEST, checked, fsynced and
moved into place with os.replace, so an interrupted or corrupt download leaves nothing behind.

`hf:ORG/NAME[@REVISION]` fetches a Hugging Face checkpoint for the model registry
(MODERATION_MODELS) instead:

    DEST/<NAME>/config.json, tokenizer files, model.safetensors (or its shards), manifest.json

The revision (default `main`) is resolved to its commit first
(`GET {hub}/api/models/ORG/NAME/revision/REVISION`, whose `siblings` list the repo's files), and
every file is downloaded from that commit (`GET {hub}/ORG/NAME/resolve/SHA/FILE`). Only the
config, the tokenizer's files and safetensors weights are fetched: a repo that publishes its
weights only as a pickle (`pytorch_model.bin`) is refused. `manifest.json` pins the commit and
each file's SHA-256, and the worker checks them before it loads the model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import structlog
from tqdm import tqdm

from service.errors import ScoringError
from service.model_catalogue import HF_BASE_URL, OPTIONAL_HUB_FILES, VARIANTS, Variant
from service.models.registry import (
    CONFIG_FILE,
    PICKLE_SUFFIXES,
    SAFETENSORS_FILE,
    SAFETENSORS_INDEX,
)
from workers.scoring.locate import first_line, release_url, sha256_of
from workers.scoring.manifest import write_manifest

log = structlog.get_logger(__name__)

CHUNK_BYTES = 1 << 20
TIMEOUT = httpx.Timeout(30.0)
HF_PREFIX = "hf:"
# What `hf:` fetches: the config, a tokenizer's files and safetensors weights, nothing else.
HF_FILES = frozenset(
    {
        CONFIG_FILE,
        SAFETENSORS_FILE,
        SAFETENSORS_INDEX,
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
        "sentencepiece.bpe.model",
        "spiece.model",
        "tokenizer.model",
    }
)
_SHARD = re.compile(r"model-[0-9]{5}-of-[0-9]{5}\.safetensors")
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
) -> str | None:
    """Stream `url` into the new file `path`, checking its length and SHA-256 prefix; the
    file's SHA-256 (None: optional, and absent). A hub's `X-Linked-Etag` or `ETag` that is a
    SHA-256 (what the hub sends for its large files) is checked too."""
    digest = hashlib.sha256()
    received = 0
    try:
        with client.stream("GET", url) as response:
            if optional and response.status_code == httpx.codes.NOT_FOUND:
                return None
            response.raise_for_status()
            promised = _etag_sha256(response)
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
    if promised is not None and digest.hexdigest() != promised:
        raise FetchError(
            f"{path.name} from {url} has SHA-256 {digest.hexdigest()[:16]}..., not the "
            f"{promised[:16]}... the server's ETag promises: a corrupt or substituted file"
        )
    return digest.hexdigest()


def _etag_sha256(response: httpx.Response) -> str | None:
    for header in ("X-Linked-Etag", "ETag"):
        value = str(response.headers.get(header, "")).removeprefix("W/").strip('"').lower()
        if _SHA256.fullmatch(value):
            return value
    return None


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class HfSource:
    """`hf:ORG/NAME[@REVISION]`."""

    org: str
    name: str
    revision: str

    @property
    def repo(self) -> str:
        return f"{self.org}/{self.name}"

    def __str__(self) -> str:
        return f"{HF_PREFIX}{self.repo}@{self.revision}"


def parse_hf_source(value: str) -> HfSource:
    spec = value.removeprefix(HF_PREFIX)
    repo, at, revision = spec.partition("@")
    org, _, name = repo.partition("/")
    if (
        not _REPO_PART.fullmatch(org)
        or not _REPO_PART.fullmatch(name)
        or ".." in repo
        or (at and (not _REVISION.fullmatch(revision) or ".." in revision))
    ):
        raise FetchError(f"{value!r} is not hf:ORG/NAME or hf:ORG/NAME@REVISION")
    return HfSource(org, name, revision or "main")


def fetch_hf_model(
    source: str | HfSource,
    dest: Path,
    *,
    hf_base_url: str | None = None,
    progress: bool = True,
) -> Path:
    """Download a Hugging Face checkpoint into `dest`/NAME and return that directory."""
    spec = source if isinstance(source, HfSource) else parse_hf_source(source)
    base = (hf_base_url or HF_BASE_URL).rstrip("/")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / spec.name
    staging = Path(tempfile.mkdtemp(prefix=f".fetch-{spec.name}-", dir=dest))
    try:
        with httpx.Client(
            follow_redirects=True, timeout=TIMEOUT, headers={"Accept-Encoding": "identity"}
        ) as client:
            commit, siblings = _resolve_revision(client, base, spec)
            files = _hf_files(spec, commit, siblings)
            digests: dict[str, str] = {}
            for name in files:
                url = f"{base}/{spec.repo}/resolve/{commit}/{quote(name)}"
                digest = _download(client, url, staging / name, progress=progress)
                assert digest is not None
                digests[name] = digest
            if SAFETENSORS_INDEX in digests:
                for shard in _index_shards(staging / SAFETENSORS_INDEX, spec, commit):
                    if shard not in digests:
                        url = f"{base}/{spec.repo}/resolve/{commit}/{quote(shard)}"
                        digest = _download(client, url, staging / shard, progress=progress)
                        assert digest is not None
                        digests[shard] = digest
        write_manifest(staging, source=f"{HF_PREFIX}{spec.repo}", revision=commit, files=digests)
        _fsync_directory(staging)
        previous = None
        if target.exists():
            previous = Path(tempfile.mkdtemp(prefix=f".previous-{spec.name}-", dir=dest))
            os.replace(target, previous / spec.name)
        os.replace(staging, target)
        _fsync_directory(dest)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("model.fetched", source=f"{HF_PREFIX}{spec.repo}", revision=commit, path=str(target))
    return target


def _resolve_revision(
    client: httpx.Client, base: str, spec: HfSource
) -> tuple[str, list[str] | None]:
    url = f"{base}/api/models/{spec.repo}/revision/{quote(spec.revision, safe='')}"
    try:
        response = client.get(url)
        response.raise_for_status()
        body = response.json()
    except httpx.HTTPStatusError as exc:
        raise FetchError(
            f"{url} answered HTTP {exc.response.status_code}: no revision {spec.revision!r} of "
            f"{spec.repo} there (a private or gated repo is not supported)"
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchError(
            f"revision lookup at {url} failed ({type(exc).__name__}: {first_line(exc)})"
        ) from exc
    except ValueError as exc:
        raise FetchError(f"{url} answered something other than JSON") from exc
    commit = body.get("sha") if isinstance(body, dict) else None
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
        raise FetchError(f"{url} names no commit (a 40-hex `sha`) for {spec.revision!r}")
    siblings = body.get("siblings")
    if not isinstance(siblings, list):
        return commit, None
    names = [s.get("rfilename") for s in siblings if isinstance(s, dict)]
    return commit, [name for name in names if isinstance(name, str)]


def _hf_files(spec: HfSource, commit: str, siblings: list[str] | None) -> list[str]:
    """The files to fetch, from the repo's list; refuses a repo without safetensors."""
    where = f"{HF_PREFIX}{spec.repo}@{commit[:12]}"
    if siblings is None:
        raise FetchError(f"the hub lists no files (`siblings`) for {where}")
    top = [name for name in siblings if "/" not in name]
    wanted = sorted(name for name in top if name in HF_FILES or _SHARD.fullmatch(name))
    if CONFIG_FILE not in wanted:
        raise FetchError(f"{where} has no {CONFIG_FILE}: not a transformers checkpoint")
    if SAFETENSORS_FILE not in wanted and SAFETENSORS_INDEX not in wanted:
        pickles = sorted(n for n in top if Path(n).suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise FetchError(
                f"{where} publishes its weights only as a pickle ({pickles[0]}), which can run "
                f"code when loaded; only {SAFETENSORS_FILE} is fetched: pick a revision or a "
                "repo with safetensors weights, or convert it yourself"
            )
        raise FetchError(f"{where} has no {SAFETENSORS_FILE}")
    if SAFETENSORS_FILE in wanted:
        # Shards beside a whole file are another copy of the same weights.
        wanted = [name for name in wanted if not _SHARD.fullmatch(name)]
        wanted = [name for name in wanted if name != SAFETENSORS_INDEX]
    return wanted


def _index_shards(index: Path, spec: HfSource, commit: str) -> list[str]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        shards = sorted(set(weight_map.values()))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FetchError(
            f"{SAFETENSORS_INDEX} of {HF_PREFIX}{spec.repo}@{commit[:12]} is unreadable "
            f"({type(exc).__name__})"
        ) from exc
    bad = [s for s in shards if not isinstance(s, str) or not _SHARD.fullmatch(s)]
    if bad:
        raise FetchError(
            f"{SAFETENSORS_INDEX} of {HF_PREFIX}{spec.repo}@{commit[:12]} names {bad[0]!r}, "
            "not a model-NNNNN-of-NNNNN.safetensors shard"
        )
    return shards
