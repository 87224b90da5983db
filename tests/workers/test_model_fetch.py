"""`moderation models fetch` against a local HTTP server standing in for both download hosts."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service.settings import Settings
from tests.fixtures.checkpoints import TinyCheckpoint
from workers.model_fetch import FetchError, fetch_model
from workers.scoring import VARIANTS, ScoringError, Variant, load_scorer

Build = Callable[..., TinyCheckpoint]


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


def test_fetched_model_loads_offline(
    server: FileServer, tiny_checkpoint: Build, tmp_path: Path
) -> None:
    checkpoint = tiny_checkpoint("unbiased")
    variant = named_after(checkpoint, "unbiased")
    publish(server, checkpoint, variant)
    dest = tmp_path / "models"

    path = fetch_model(variant, dest, base_url=server.url, hf_base_url=server.url, progress=True)

    assert path == dest / "unbiased" / variant.file_name
    assert path.read_bytes() == checkpoint.checkpoint.read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == ["unbiased"]
    assert sorted(p.name for p in (dest / "unbiased" / "config").iterdir()) == sorted(
        p.name for p in checkpoint.config_dir.iterdir()
    )
    fetched = load_scorer(Settings(model=str(path), model_config_dir=str(path.parent / "config")))
    original = load_scorer(checkpoint.settings())
    texts = ["You are an idiot!", "Thanks for the article."]
    assert fetched.labels == original.labels
    assert fetched.score(texts) == original.score(texts)


def test_fetching_again_keeps_a_good_checkpoint_and_renews_the_config(
    server: FileServer, tiny_checkpoint: Build, tmp_path: Path
) -> None:
    checkpoint = tiny_checkpoint("original")
    variant = named_after(checkpoint, "original")
    publish(server, checkpoint, variant)
    del server.files[f"/{variant.hub_repo}/resolve/main/tokenizer.json"]
    fetch_model(variant, tmp_path, base_url=server.url, hf_base_url=server.url, progress=False)
    server.requests.clear()

    path = fetch_model(
        variant, tmp_path, base_url=server.url, hf_base_url=server.url, progress=False
    )

    assert f"/{variant.release_path}" not in server.requests
    assert f"/{variant.hub_repo}/resolve/main/config.json" in server.requests
    assert not (path.parent / "config" / "tokenizer.json").exists(), "optional, and absent"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["original"]


def test_a_truncated_download_leaves_nothing(
    server: FileServer, tiny_checkpoint: Build, tmp_path: Path
) -> None:
    checkpoint = tiny_checkpoint("original")
    variant = named_after(checkpoint, "original")
    publish(server, checkpoint, variant)
    server.truncated.add(f"/{variant.release_path}")

    with pytest.raises(FetchError, match="cut short"):
        fetch_model(variant, tmp_path, base_url=server.url, hf_base_url=server.url, progress=False)

    assert list(tmp_path.iterdir()) == []


def test_a_checksum_mismatch_leaves_nothing(
    server: FileServer, tiny_checkpoint: Build, tmp_path: Path
) -> None:
    publish(server, tiny_checkpoint("unbiased"), VARIANTS["unbiased"])

    with pytest.raises(FetchError, match="does not start with the c7548aa0") as raised:
        fetch_model("unbiased", tmp_path, base_url=server.url, progress=False)

    assert server.requests == ["/v0.3-alpha/toxic_debiased-c7548aa0.ckpt"]
    assert "\n" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_tokenizer_file_leaves_nothing(
    server: FileServer, tiny_checkpoint: Build, tmp_path: Path
) -> None:
    checkpoint = tiny_checkpoint("multilingual")
    variant = named_after(checkpoint, "multilingual")
    publish(server, checkpoint, variant)
    missing = "/FacebookAI/xlm-roberta-base/resolve/main/sentencepiece.bpe.model"
    del server.files[missing]

    with pytest.raises(FetchError, match="answered HTTP 404") as raised:
        fetch_model(variant, tmp_path, base_url=server.url, hf_base_url=server.url, progress=False)

    assert missing in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_host_is_a_fetch_error(tmp_path: Path, closed_port: int) -> None:
    with pytest.raises(FetchError, match="ConnectError"):
        fetch_model(
            "original", tmp_path, base_url=f"http://127.0.0.1:{closed_port}/", progress=False
        )

    assert list(tmp_path.iterdir()) == []


def test_an_unknown_variant_is_a_fetch_error(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="unknown variant 'toxic'") as raised:
        fetch_model("toxic", tmp_path, progress=False)

    assert isinstance(raised.value, ScoringError)
