"""`moderation models fetch hf:ORG/NAME[@REVISION]` against a fake hub on 127.0.0.1: the
revision lookup and resolve routes, safetensors only, a manifest checked at load."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import transformers

from service.errors import ModelUnavailable
from service.models.registry import model_registry
from tests.support.downloads import FileServer
from tests.support.hf_checkpoints import APPROVED_KO, HELD_KO, HfCheckpoint, tiny_hf_checkpoint
from tests.support.paths import REPO
from tests.support.processes import clean_env
from workers.scoring.fetch import FetchError, fetch_hf_model, parse_hf_source
from workers.scoring.scorer import load_scorer

REPO_ID = "korea-lab/ko-hate"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
# Listed by the hub but never fetched: not config, tokenizer or safetensors weights.
EXTRAS = {
    "pytorch_model.bin": b"a pickle",
    "README.md": b"# ko-hate",
    "onnx/model.onnx": b"onnx",
    "tokenizer_script.py": b"import os",
}


def publish_hf(
    server: FileServer,
    checkpoint: HfCheckpoint,
    *,
    repo: str = REPO_ID,
    commit: str = COMMIT,
    revisions: tuple[str, ...] = ("main",),
    extras: dict[str, bytes] | None = None,
    without: tuple[str, ...] = (),
) -> dict[str, bytes]:
    """Serve `checkpoint`'s files at `commit` and its revision lookups, as the hub does."""
    files = {p.name: p.read_bytes() for p in checkpoint.path.iterdir() if p.name not in without}
    files.update(EXTRAS if extras is None else extras)
    for name, body in files.items():
        server.files[f"/{repo}/resolve/{commit}/{name}"] = body
    lookup = json.dumps({"sha": commit, "siblings": [{"rfilename": n} for n in sorted(files)]})
    for revision in revisions:
        # As the hub's clients send it: a revision like refs/pr/1 is one path segment.
        server.files[f"/api/models/{repo}/revision/{quote(revision, safe='')}"] = lookup.encode()
    return files


@pytest.fixture
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> HfCheckpoint:
    return tiny_hf_checkpoint(
        tmp_path_factory.mktemp("built") / "ko-hate",
        "electra",
        ("clean", "offensive", "hate"),
        "single_label_classification",
        triggers={"hate": ("바보",)},
    )


def test_a_fetched_checkpoint_loads_offline_with_its_manifest(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    published = publish_hf(server, checkpoint)
    models = tmp_path / "models"

    path = fetch_hf_model(f"hf:{REPO_ID}", models, hf_base_url=server.url, progress=False)

    assert path == models / "ko-hate"
    assert server.requests[0] == f"/api/models/{REPO_ID}/revision/main"
    fetched = sorted(p.name for p in path.iterdir())
    wanted = sorted(n for n in published if n not in EXTRAS)
    assert fetched == sorted([*wanted, "manifest.json"])
    assert not any(name in request for name in EXTRAS for request in server.requests)
    assert all(f"/resolve/{COMMIT}/" in r for r in server.requests[1:])
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest == {
        "source": f"hf:{REPO_ID}",
        "revision": COMMIT,
        "files": {name: hashlib.sha256(published[name]).hexdigest() for name in wanted},
    }
    assert sorted(p.name for p in models.iterdir()) == ["ko-hate"], "no staging left"

    settings = checkpoint.settings(models='{"ko-hate": "ko-hate"}', models_dir=models)
    entry = model_registry(settings)["ko-hate"]
    scorer = load_scorer(settings, entry)
    original = load_scorer(checkpoint.settings(), checkpoint.entry())
    assert scorer.score([APPROVED_KO, HELD_KO]) == original.score([APPROVED_KO, HELD_KO])
    digest = manifest["files"]["model.safetensors"][:8]
    assert scorer.model_id.startswith(f"hf:ko-hate@{digest}+")


def test_a_revision_is_resolved_to_its_commit(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    publish_hf(server, checkpoint, commit=OTHER_COMMIT, revisions=("v1.0", "refs/pr/1"))

    path = fetch_hf_model(f"hf:{REPO_ID}@refs/pr/1", tmp_path, hf_base_url=server.url)

    assert server.requests[0] == f"/api/models/{REPO_ID}/revision/refs%2Fpr%2F1"
    assert json.loads((path / "manifest.json").read_text())["revision"] == OTHER_COMMIT

    with pytest.raises(FetchError, match="HTTP 404: no revision 'v2' of korea-lab/ko-hate"):
        fetch_hf_model(f"hf:{REPO_ID}@v2", tmp_path / "other", hf_base_url=server.url)
    assert list((tmp_path / "other").iterdir()) == []


def test_a_file_whose_bytes_change_after_the_fetch_is_refused_at_load(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    publish_hf(server, checkpoint)
    path = fetch_hf_model(f"hf:{REPO_ID}", tmp_path, hf_base_url=server.url, progress=False)
    settings = checkpoint.settings(models='{"ko": "ko-hate"}', models_dir=tmp_path)
    weights = path / "model.safetensors"
    body = bytearray(weights.read_bytes())
    body[-1] ^= 1
    weights.write_bytes(bytes(body))

    with pytest.raises(ModelUnavailable) as raised:
        load_scorer(settings, model_registry(settings)["ko"])

    message = str(raised.value)
    assert "model.safetensors has SHA-256" in message
    assert f"pinned (revision {COMMIT})" in message
    assert "\n" not in message


def test_a_repo_offering_only_pickle_weights_is_refused(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    publish_hf(server, checkpoint, without=("model.safetensors",))

    with pytest.raises(FetchError) as raised:
        fetch_hf_model(f"hf:{REPO_ID}", tmp_path, hf_base_url=server.url, progress=False)

    message = str(raised.value)
    assert message == (
        f"hf:{REPO_ID}@{COMMIT[:12]} publishes its weights only as a pickle "
        "(pytorch_model.bin), which can run code when loaded; only model.safetensors is "
        "fetched: pick a revision or a repo with safetensors weights, or convert it yourself"
    )
    assert server.requests == [f"/api/models/{REPO_ID}/revision/main"]
    assert list(tmp_path.iterdir()) == []


def test_sharded_safetensors_are_fetched_shard_by_shard(server: FileServer, tmp_path: Path) -> None:
    checkpoint = tiny_hf_checkpoint(tmp_path / "built" / "sharded")
    tmp_path = tmp_path / "dest"
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        checkpoint.path, use_safetensors=True, local_files_only=True
    )
    (checkpoint.path / "model.safetensors").unlink()
    model.save_pretrained(checkpoint.path, max_shard_size="40KB")
    shards = sorted(p.name for p in checkpoint.path.glob("model-*.safetensors"))
    assert len(shards) > 1
    publish_hf(server, checkpoint, extras={})

    path = fetch_hf_model(f"hf:{REPO_ID}", tmp_path / "models", hf_base_url=server.url)

    assert set(shards) <= {p.name for p in path.iterdir()}
    settings = checkpoint.settings(models='{"ko": "ko-hate"}', models_dir=tmp_path / "models")
    fetched = load_scorer(settings, model_registry(settings)["ko"])
    original = load_scorer(checkpoint.settings(), checkpoint.entry())
    assert fetched.score([APPROVED_KO]) == original.score([APPROVED_KO])


def test_fetching_again_replaces_the_directory_whole(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    publish_hf(server, checkpoint)
    path = fetch_hf_model(f"hf:{REPO_ID}", tmp_path, hf_base_url=server.url, progress=False)
    (path / "stale.txt").write_text("left from before")
    publish_hf(server, checkpoint, commit=OTHER_COMMIT)

    again = fetch_hf_model(f"hf:{REPO_ID}", tmp_path, hf_base_url=server.url, progress=False)

    assert again == path
    assert not (path / "stale.txt").exists()
    assert json.loads((path / "manifest.json").read_text())["revision"] == OTHER_COMMIT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ko-hate"]


def test_a_truncated_file_leaves_nothing(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    publish_hf(server, checkpoint)
    server.truncated.add(f"/{REPO_ID}/resolve/{COMMIT}/model.safetensors")

    with pytest.raises(FetchError, match="cut short"):
        fetch_hf_model(f"hf:{REPO_ID}", tmp_path, hf_base_url=server.url, progress=False)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "source",
    ["hf:ko-hate", "hf:org/", "hf:../x", "hf:org/name@", "hf:org/name@../main", "hf:a/b/c"],
)
def test_a_malformed_source_is_a_fetch_error(source: str) -> None:
    with pytest.raises(FetchError, match="is not hf:ORG/NAME or hf:ORG/NAME@REVISION"):
        parse_hf_source(source)


def test_a_source_names_repo_and_revision() -> None:
    assert str(parse_hf_source("hf:org/name")) == "hf:org/name@main"
    assert parse_hf_source("hf:org/Name.v2@v1.0").repo == "org/Name.v2"


def moderation(*args: str, server: FileServer) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("moderation")), *args]
    env = clean_env(MODERATION_MODEL_HF_BASE_URL=server.url)
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_fetches_and_says_how_to_register_it(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    publish_hf(server, checkpoint, revisions=("main", "v1"))

    completed = moderation(
        "models", "fetch", f"hf:{REPO_ID}@v1", "--to", str(tmp_path), server=server
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        f"export MODERATION_MODELS_DIR={tmp_path.resolve()}",
        """# register it: MODERATION_MODELS='{"ko-hate": "ko-hate"}' (with the models already """
        "there), then route a language to it in the policy",
    ]
    assert (tmp_path / "ko-hate" / "manifest.json").is_file()


def test_the_command_refuses_a_pickle_only_repo_in_one_line(
    server: FileServer, checkpoint: HfCheckpoint, tmp_path: Path
) -> None:
    publish_hf(server, checkpoint, without=("model.safetensors",))

    completed = moderation("models", "fetch", f"hf:{REPO_ID}", "--to", str(tmp_path), server=server)

    assert completed.returncode == 3
    assert completed.stdout == ""
    [line] = completed.stderr.splitlines()
    assert line.startswith(f"moderation: hf:{REPO_ID}@{COMMIT[:12]} publishes its weights only")
    assert list(tmp_path.iterdir()) == []
