"""`moderation models fetch` against a local HTTP server standing in for both download hosts."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from service.errors import ScoringError
from service.model_catalogue import VARIANTS
from service.settings import Settings
from tests.support.checkpoints import TinyCheckpoint
from tests.support.cpu import int8_suffix_here
from tests.support.downloads import FileServer, named_after, publish
from tests.support.paths import REPO
from tests.support.processes import clean_env, run_python
from workers.scoring.fetch import FetchError, fetch_model
from workers.scoring.scorer import load_scorer

Build = Callable[..., TinyCheckpoint]


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


def moderation(
    args: Sequence[str], server: FileServer, *, script: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed `moderation` command, or `script` ending in the same `main`, with both
    download hosts pointed at `server`."""
    command = [str(Path(sys.executable).with_name("moderation"))]
    if script is not None:
        command = [sys.executable, "-c", script]
    env = clean_env(MODERATION_MODEL_BASE_URL=server.url, MODERATION_MODEL_HF_BASE_URL=server.url)
    return subprocess.run(
        [*command, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_command_refuses_a_checksum_mismatch_in_one_line(
    server: FileServer, tiny_checkpoint: Build, tmp_path: Path
) -> None:
    publish(server, tiny_checkpoint("unbiased"), VARIANTS["unbiased"])
    dest = tmp_path / "models"

    completed = moderation(["models", "fetch", "unbiased", "--to", str(dest)], server)

    assert completed.returncode == 3
    assert completed.stdout == ""
    [line] = completed.stderr.splitlines()
    assert line.startswith(f"moderation: toxic_debiased-c7548aa0.ckpt from {server.url}v0.3-alpha/")
    assert "does not start with the c7548aa0 its name promises" in line
    assert list(dest.iterdir()) == []


# The published name carries the real model's SHA-256 prefix, which no tiny checkpoint can
# match: this registers `unbiased` under the tiny file's own hash, then runs the real command.
FETCH_AS_PUBLISHED = """
import dataclasses, sys
from service.model_catalogue import VARIANTS
VARIANTS["unbiased"] = dataclasses.replace(VARIANTS["unbiased"], release_path=sys.argv[1])
from workers.cli.main import main
main(sys.argv[2:], prog_name="moderation")
"""

LOAD_FROM_THE_ENVIRONMENT = """
import json
from service.settings import Settings
from workers.scoring.scorer import load_scorer
scorer = load_scorer(Settings())
print(json.dumps([scorer.model_id, list(scorer.labels), scorer.score(["You are an idiot!"])[0]]))
"""


def test_the_command_fetches_a_model_that_then_loads_offline_from_its_path_alone(
    server: FileServer, tiny_checkpoint: Build, tmp_path: Path
) -> None:
    checkpoint = tiny_checkpoint("unbiased")
    variant = named_after(checkpoint, "unbiased")
    publish(server, checkpoint, variant)
    dest = tmp_path / "models"

    fetched = moderation(
        [variant.release_path, "models", "fetch", "unbiased", "--to", str(dest)],
        server,
        script=FETCH_AS_PUBLISHED,
    )

    assert fetched.returncode == 0, fetched.stderr
    path = (dest / "unbiased" / variant.file_name).resolve()
    assert fetched.stdout.splitlines() == [
        f"export MODERATION_MODEL={path}",
        f"export MODERATION_MODEL_CONFIG={path.parent / 'config'}",
    ]
    assert path.read_bytes() == checkpoint.checkpoint.read_bytes()

    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    env = clean_env(
        MODERATION_MODEL=str(path),
        HF_HUB_OFFLINE="1",
        HF_HOME=str(hf_home),
        TORCH_HOME=str(tmp_path / "torch-home"),
    )
    output = run_python(LOAD_FROM_THE_ENVIRONMENT, env).splitlines()[-1]

    model_id, labels, scores = json.loads(output)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert model_id == f"checkpoint:{variant.file_name}@{digest[:8]}{int8_suffix_here()}"
    assert labels == list(VARIANTS["unbiased"].labels)
    assert scores == load_scorer(checkpoint.settings()).score(["You are an idiot!"])[0]
    assert list(hf_home.iterdir()) == []
