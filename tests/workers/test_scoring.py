"""The scoring layer on tiny checkpoints of every Detoxify layout, loaded by Detoxify's own code."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import detoxify.detoxify
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from service.settings import Settings
from tests.fixtures.checkpoints import CLEAN, CORPUS, TOXIC, VARIANT_NAMES, TinyCheckpoint
from workers.scoring import (
    VARIANTS,
    ModelUnavailable,
    ScoringError,
    check_model_available,
    load_scorer,
    model_labels,
)
from workers.scoring.locate import release_url, torch_hub_checkpoints_dir

REPO = Path(__file__).resolve().parents[2]
MODEL_CLASSES = {
    "original": "BertForSequenceClassification",
    "unbiased": "RobertaForSequenceClassification",
    "multilingual": "XLMRobertaForSequenceClassification",
    "original-small": "AlbertForSequenceClassification",
    "unbiased-small": "AlbertForSequenceClassification",
}
LONG_TEXTS = [
    "you are an idiot " * 600,
    "x" * 10_000,
    "".join(chr(0x4E00 + i % 500) for i in range(10_000)),
]
# Per-tensor dynamic int8 on a 32-wide random model: the coarsest case. bench/scoring.py
# measures the real (768-wide) shape.
INT8_TOLERANCE = 0.08

Build = Callable[..., TinyCheckpoint]


@pytest.fixture(autouse=True)
def _empty_torch_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test finds or leaves a checkpoint in the user's torch hub cache."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))


def assert_one_line_pointing_to_a_fix(error: ModelUnavailable) -> None:
    message = str(error)
    assert "\n" not in message
    assert "MODERATION_MODEL" in message
    assert "moderation models fetch" in message


def test_variants_are_detoxify_published_checkpoints() -> None:
    urls = {name: release_url(variant, None) for name, variant in VARIANTS.items()}
    assert urls == detoxify.detoxify.MODEL_URLS


@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_each_layout_loads_with_every_label_and_scores_long_input(
    tiny_checkpoint: Build, variant: str
) -> None:
    checkpoint = tiny_checkpoint(variant)

    scorer = load_scorer(checkpoint.settings())

    assert type(scorer.model.base_model).__name__ in {  # type: ignore[attr-defined]
        MODEL_CLASSES[variant].replace("ForSequenceClassification", "Model")
    }
    assert scorer.labels == checkpoint.labels == model_labels(variant)
    assert len(scorer.labels) == (6 if variant.startswith("original") else 16)
    digest = hashlib.sha256(checkpoint.checkpoint.read_bytes()).hexdigest()
    assert scorer.model_id == f"checkpoint:{checkpoint.checkpoint.name}@{digest[:8]}+int8"
    results = scorer.score(["You are an idiot!", "", *LONG_TEXTS])
    assert len(results) == 5
    for scores in results:
        assert list(scores) == list(scorer.labels)
        assert all(0.0 <= value <= 1.0 and round(value, 6) == value for value in scores.values())


@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_each_output_maps_to_its_label(tiny_checkpoint: Build, variant: str) -> None:
    labels = model_labels(variant)
    # Renamed by Detoxify (identity_hate, severe_toxic) and, for the bias models, the last one.
    toxic = {"identity_attack", "severe_toxicity", labels[-1]}

    scorer = load_scorer(tiny_checkpoint(variant, bias=dict.fromkeys(toxic, TOXIC)).settings())

    [scores] = scorer.score(["Thanks for the article."])
    assert {label for label, value in scores.items() if value > 0.99} == toxic
    assert all(value < 0.01 for label, value in scores.items() if label not in toxic)


@pytest.mark.parametrize(("bias", "low", "high"), [(CLEAN, 0.0, 0.001), (TOXIC, 0.999, 1.0)])
def test_bias_makes_every_text_clean_or_toxic(
    tiny_checkpoint: Build, bias: float, low: float, high: float
) -> None:
    scorer = load_scorer(tiny_checkpoint("unbiased", bias=bias).settings())

    for scores in scorer.score([*CORPUS, *LONG_TEXTS]):
        assert all(low <= value <= high for value in scores.values())


def test_int8_quantizes_every_linear_layer_and_agrees_with_fp32(tiny_checkpoint: Build) -> None:
    checkpoint = tiny_checkpoint("unbiased")
    fp32 = load_scorer(checkpoint.settings(quantize="none"))
    int8 = load_scorer(checkpoint.settings())

    dynamic_linear = torch.ao.nn.quantized.dynamic.Linear
    int8_modules = list(int8.model.modules())  # type: ignore[attr-defined]
    assert not any(type(m) is torch.nn.Linear for m in int8_modules)
    assert sum(isinstance(m, dynamic_linear) for m in int8_modules) > 10
    assert not any(isinstance(m, dynamic_linear) for m in fp32.model.modules())  # type: ignore[attr-defined]
    assert fp32.model_id.endswith("+fp32") and int8.model_id.endswith("+int8")
    texts = [*CORPUS, *LONG_TEXTS]
    differences = [
        abs(a[label] - b[label])
        for a, b in zip(fp32.score(texts), int8.score(texts), strict=True)
        for label in fp32.labels
    ]
    assert max(differences) < INT8_TOLERANCE
    assert max(differences) > 0, "int8 scores identical to fp32: not quantized"


def test_a_comment_scores_the_same_alone_and_among_others(tiny_checkpoint: Build) -> None:
    scorer = load_scorer(tiny_checkpoint("original").settings())
    texts = [*CORPUS, *LONG_TEXTS]

    together = scorer.score(texts)

    assert together == [scorer.score([text])[0] for text in texts]
    assert len({json.dumps(scores) for scores in together}) > 1, "scores ignore the text"
    assert scorer.score([]) == []


def test_loading_uses_one_torch_thread_and_a_serial_tokenizer(
    tiny_checkpoint: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    threads = torch.get_num_threads()
    try:
        load_scorer(tiny_checkpoint("original").settings())
        assert torch.get_num_threads() == 1
        assert os.environ["TOKENIZERS_PARALLELISM"] == "false"
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def multilingual_scorer(tiny_checkpoint: Build) -> object:
    return load_scorer(tiny_checkpoint("multilingual").settings())


@given(text=st.text(max_size=400))
@settings(max_examples=60, deadline=None)
def test_any_unicode_text_scores(multilingual_scorer: object, text: str) -> None:
    [scores] = multilingual_scorer.score([text])  # type: ignore[attr-defined]

    assert len(scores) == 16
    assert all(0.0 <= value <= 1.0 for value in scores.values())


@pytest.mark.parametrize("where", ["beside the fetched config", "in the torch hub cache"])
def test_a_variant_name_loads_from_a_local_checkpoint(
    tiny_checkpoint: Build, tmp_path: Path, where: str
) -> None:
    checkpoint = tiny_checkpoint("original")
    config_dir = tmp_path / "models" / "original" / "config"
    shutil.copytree(checkpoint.config_dir, config_dir)
    file_dir = config_dir.parent if where.startswith("beside") else torch_hub_checkpoints_dir()
    file_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(checkpoint.checkpoint, file_dir / VARIANTS["original"].file_name)
    settings = Settings(model="original", model_config_dir=str(config_dir))

    check_model_available(settings)
    scorer = load_scorer(settings)

    assert scorer.model_id == "detoxify:original@c1212f89+int8"
    assert scorer.labels == model_labels("original")


def test_torch_hub_cache_is_where_torch_puts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert torch_hub_checkpoints_dir() == Path(torch.hub.get_dir()) / "checkpoints"
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert torch_hub_checkpoints_dir() == Path(torch.hub.get_dir()) / "checkpoints"


def test_a_missing_checkpoint_file_is_one_clear_line(tmp_path: Path) -> None:
    settings = Settings(model=str(tmp_path / "gone.ckpt"))

    with pytest.raises(ModelUnavailable) as checked:
        check_model_available(settings)
    with pytest.raises(ModelUnavailable) as loaded:
        load_scorer(settings)

    assert_one_line_pointing_to_a_fix(checked.value)
    assert str(tmp_path / "gone.ckpt") in str(checked.value)
    assert str(loaded.value) == str(checked.value)


def test_a_corrupt_checkpoint_is_one_clear_line(tiny_checkpoint: Build, tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint("original")
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(checkpoint.checkpoint.read_bytes()[:5000])
    settings = checkpoint.settings(model=str(truncated))

    check_model_available(settings)  # cheap: it doesn't read the file
    with pytest.raises(ModelUnavailable, match="can't read the checkpoint") as raised:
        load_scorer(settings)

    assert_one_line_pointing_to_a_fix(raised.value)


def test_a_config_dir_without_config_json_is_one_clear_line(
    tiny_checkpoint: Build, tmp_path: Path
) -> None:
    settings = tiny_checkpoint("original").settings(model_config_dir=str(tmp_path))

    with pytest.raises(ModelUnavailable, match=r"has no config\.json") as raised:
        check_model_available(settings)

    assert_one_line_pointing_to_a_fix(raised.value)


def test_a_variant_missing_beside_its_config_is_one_clear_line(tiny_checkpoint: Build) -> None:
    settings = Settings(
        model="unbiased", model_config_dir=str(tiny_checkpoint("unbiased").config_dir)
    )

    with pytest.raises(ModelUnavailable, match=r"toxic_debiased-c7548aa0\.ckpt") as raised:
        check_model_available(settings)

    assert_one_line_pointing_to_a_fix(raised.value)


CANT_DOWNLOAD = "can't download the 'unbiased' checkpoint"


def test_a_variant_that_cannot_be_downloaded_fails_fast(closed_port: int) -> None:
    settings = Settings(model="unbiased", model_base_url=f"http://127.0.0.1:{closed_port}/")
    started = time.monotonic()

    with pytest.raises(ModelUnavailable, match=CANT_DOWNLOAD) as checked:
        check_model_available(settings)
    with pytest.raises(ModelUnavailable, match=CANT_DOWNLOAD) as loaded:
        load_scorer(settings)

    assert time.monotonic() - started < 10
    for raised in (checked, loaded):
        assert_one_line_pointing_to_a_fix(raised.value)
        assert f"127.0.0.1:{closed_port}/v0.3-alpha/toxic_debiased-c7548aa0.ckpt" in str(
            raised.value
        )


def test_model_labels_of_an_unknown_variant_is_an_error() -> None:
    with pytest.raises(ScoringError, match="unknown Detoxify variant 'toxic'"):
        model_labels("toxic")


def run_python(script: str, env: dict[str, str], *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_the_availability_check_never_imports_torch(tiny_checkpoint: Build) -> None:
    checkpoint = tiny_checkpoint("original")
    script = (
        "import sys\n"
        "from service.settings import Settings\n"
        "from workers.scoring import check_model_available\n"
        "check_model_available(Settings(model=sys.argv[1], model_config_dir=sys.argv[2]))\n"
        "print(sorted(m for m in ('torch', 'transformers', 'detoxify') if m in sys.modules))\n"
    )

    output = run_python(
        script, dict(os.environ), str(checkpoint.checkpoint), str(checkpoint.config_dir)
    )

    assert output.strip() == "[]"


OFFLINE_SCRIPT = """
import json, sys
from service.settings import Settings
from workers.scoring import ModelUnavailable, load_scorer

results = {}
for path, config_dir in json.loads(sys.argv[1]):
    scorer = load_scorer(Settings(model=path, model_config_dir=config_dir))
    results[scorer.model_id] = [list(scorer.labels), scorer.score(["You are an idiot!"])[0]]
try:
    load_scorer(Settings(model=path))
except ModelUnavailable as exc:
    results["without config"] = str(exc)
print(json.dumps(results))
"""


def test_every_layout_loads_offline_with_an_empty_hugging_face_cache(
    tiny_checkpoint: Build, tmp_path: Path
) -> None:
    checkpoints = [tiny_checkpoint(variant) for variant in VARIANT_NAMES]
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "TRANSFORMERS_", "MODERATION_"))
    }
    env |= {"HF_HUB_OFFLINE": "1", "HF_HOME": str(hf_home), "TORCH_HOME": str(tmp_path)}
    paths = [[str(c.checkpoint), str(c.config_dir)] for c in checkpoints]

    results = json.loads(run_python(OFFLINE_SCRIPT, env, json.dumps(paths)).splitlines()[-1])

    without_config = results.pop("without config")
    assert "albert-base-v2" in without_config and "MODERATION_MODEL_CONFIG" in without_config
    assert [labels for labels, _ in results.values()] == [list(c.labels) for c in checkpoints]
    assert all(set(scores) == set(labels) for labels, scores in results.values())
    assert list(hf_home.iterdir()) == []
