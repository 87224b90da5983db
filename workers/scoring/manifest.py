"""`manifest.json`: what `moderation models fetch hf:...` pinned, checked before a load.

    {"source": "hf:ORG/NAME", "revision": "<commit sha>", "files": {"config.json": "<sha256>"}}

Written last by the fetch, beside the files it names. At load every file named must be there
with that SHA-256, and every other file in the directory is refused: a changed, swapped or
added file is never loaded silently. A checkpoint directory without a manifest (one an
operator built or copied in) is loaded as it is. Imports no torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from service.errors import ModelUnavailable
from service.models.registry import MANIFEST_FILE
from workers.scoring.locate import sha256_of


def write_manifest(
    directory: Path, *, source: str, revision: str, files: Mapping[str, str]
) -> Path:
    path = directory / MANIFEST_FILE
    body = {"source": source, "revision": revision, "files": dict(sorted(files.items()))}
    partial = directory / f".{MANIFEST_FILE}.{os.getpid()}"
    partial.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def verify_manifest(directory: Path, model_id: str) -> dict[str, str] | None:
    """The SHA-256 of each file, checked against the manifest; None when there is none."""
    path = directory / MANIFEST_FILE
    if not path.is_file():
        return None
    where = f"model {model_id!r} ({directory})"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict) or not all(
            isinstance(name, str) and isinstance(digest, str) for name, digest in files.items()
        ):
            raise TypeError("files is not an object of file name to SHA-256")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailable(
            f"{where}: {MANIFEST_FILE} is unreadable ({type(exc).__name__}: {exc})"
        ) from exc
    present = {p.name for p in directory.iterdir() if p.is_file() and p.name != MANIFEST_FILE}
    unlisted = sorted(present - set(files) - {name for name in present if name.startswith(".")})
    if unlisted:
        raise ModelUnavailable(
            f"{where}: {unlisted[0]} is not in {MANIFEST_FILE} (files fetched from "
            f"{manifest.get('source')} at {manifest.get('revision')}); remove it or fetch again"
        )
    digests: dict[str, str] = {}
    for name, expected in sorted(files.items()):
        if Path(name).name != name:
            raise ModelUnavailable(f"{where}: {MANIFEST_FILE} names {name!r}, not a file name")
        file = directory / name
        if not file.is_file():
            raise ModelUnavailable(f"{where}: {name}, named in {MANIFEST_FILE}, is missing")
        digest = sha256_of(file)
        if digest != expected:
            raise ModelUnavailable(
                f"{where}: {name} has SHA-256 {digest[:16]}..., not the {expected[:16]}... "
                f"{MANIFEST_FILE} pinned (revision {manifest.get('revision')}): a changed or "
                "substituted file; fetch it again"
            )
        digests[name] = digest
    return digests
