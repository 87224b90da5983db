"""Tiny Detoxify checkpoints, built once per test session."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.checkpoints import TinyCheckpoint, build_checkpoint


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
