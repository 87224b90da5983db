"""Tiny Detoxify checkpoints, built once per test session, and a local download server."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from service.model_catalogue import VARIANTS, Variant
from tests.fixtures.checkpoints import TinyCheckpoint, build_checkpoint

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture(scope="session")
def tiny_checkpoint(checkpoint_dir: Path) -> Callable[..., TinyCheckpoint]:
    def build(variant: str = "original", **options: Any) -> TinyCheckpoint:
        return build_checkpoint(checkpoint_dir, variant, **options)

    return build


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@dataclass
class FileServer:
    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)
    """Paths answered with the full Content-Length but half the body."""
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[FileServer]:
    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if self.path in state.truncated else body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


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


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Hugging Face, transformers or service setting."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "TRANSFORMERS_", "MODERATION_"))
    }
    return env | extra


def run_python(script: str, env: dict[str, str], *args: str, options: Sequence[str] = ()) -> str:
    """`script`'s stdout, run by a fresh interpreter with `options` (e.g. -W error)."""
    completed = subprocess.run(
        [sys.executable, *options, "-c", script, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout
