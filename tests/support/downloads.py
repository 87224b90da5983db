"""A local HTTP server standing in for both download hosts (the checkpoints' release host and
the Hugging Face hub), and tiny checkpoints published on it under a variant's paths."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field

from service.model_catalogue import VARIANTS, Variant
from tests.support.checkpoints import TinyCheckpoint


@dataclass
class FileServer:
    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)
    """Paths answered with the full Content-Length but half the body."""
    requests: list[str] = field(default_factory=list)


def publish(server: FileServer, checkpoint: TinyCheckpoint, variant: Variant) -> None:
    """Serve `checkpoint` under `variant`'s release path and its config files under the hub's."""
    server.files[f"/{variant.release_path}"] = checkpoint.checkpoint.read_bytes()
    for path in checkpoint.config_dir.iterdir():
        server.files[f"/{variant.hub_repo}/resolve/main/{path.name}"] = path.read_bytes()


def named_after(checkpoint: TinyCheckpoint, variant: str) -> Variant:
    """`variant` published under a file name carrying the tiny checkpoint's own SHA-256 prefix."""
    digest = hashlib.sha256(checkpoint.checkpoint.read_bytes()).hexdigest()
    upstream = VARIANTS[variant]
    directory = upstream.release_path.rsplit("/", 1)[0]
    return dataclasses.replace(
        upstream, release_path=f"{directory}/{variant.replace('-', '_')}-{digest[:8]}.ckpt"
    )
