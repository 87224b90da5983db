"""Hugging Face checkpoints scored through transformers' own loading code: raw logits by
id2label name, int8 row-wise and unpadded like Detoxify's, safetensors only."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import transformers
from structlog.testing import capture_logs

from service.errors import ConfigurationError, ModelUnavailable
from service.models.registry import ModelEntry, ModelRegistryError, model_registry
from service.settings import Settings
from tests.support.checkpoints import TinyCheckpoint
from tests.support.cpu import int8_kernel_here, int8_suffix_here
from tests.support.hf_checkpoints import (
    APPROVED_KO,
    HELD_KO,
    KOREAN_CORPUS,
    TOXIC_WORDS,
    HfCheckpoint,
    pickle_only_checkpoint,
    tiny_hf_checkpoint,
)
from workers.scoring.detoxify_scorer import CPU_BATCH_SIZE
from workers.scoring.hf_scorer import HfScorer
from workers.scoring.locate import sha256_of, variant_settings
from workers.scoring.manifest import write_manifest
from workers.scoring.scorer import load_scorer

ARCHES = ("bert", "electra", "xlm-roberta")
SOFTMAX_LABELS = ("clean", "offensive", "hate")
TEXTS = [
    *KOREAN_CORPUS,
    "짧다",
    "Thanks for the article, 감사합니다!",
    "시의회 " * 40,
    "",
]
# Scores of a 32-wide random model, int8 against fp32: bench/scoring.py measures real shapes.
# Row-wise int8 scales each comment's activations by their own range; the per-tensor fallback
# (CPUs without VNNI or AMX) shares one scale across a whole tensor, which is coarser (the
# Detoxify scorer's test allows 0.08 for either).
INT8_TOLERANCE = {"rowwise": 0.05, "per_tensor": 0.1}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def random_checkpoints(models_dir: Path) -> dict[str, HfCheckpoint]:
    built = {"bert": tiny_hf_checkpoint(models_dir / "bert")}
    built["electra"] = tiny_hf_checkpoint(
        models_dir / "electra", "electra", SOFTMAX_LABELS, "single_label_classification"
    )
    built["xlm-roberta"] = tiny_hf_checkpoint(models_dir / "xlm-roberta", "xlm-roberta")
    return built


def load(checkpoint: HfCheckpoint, **overrides: object) -> HfScorer:
    scorer = load_scorer(checkpoint.settings(**overrides), checkpoint.entry())
    assert isinstance(scorer, HfScorer)
    return scorer


@pytest.mark.parametrize("arch", ARCHES)
def test_each_architecture_loads_and_scores_raw_logits_by_id2label_name(
    arch: str, random_checkpoints: dict[str, HfCheckpoint]
) -> None:
    checkpoint = random_checkpoints[arch]
    config = json.loads((checkpoint.path / "config.json").read_text())

    scorer = load(checkpoint)

    assert scorer.labels == tuple(config["id2label"][str(i)] for i in range(3))
    assert scorer.outputs_are == "logits"
    digest = sha256_of(checkpoint.path / "model.safetensors")
    assert scorer.model_id == f"hf:ko-tiny@{digest[:8]}{int8_suffix_here()}"
    scores = scorer.score(TEXTS)
    assert [set(row) for row in scores] == [set(scorer.labels)] * len(TEXTS)
    assert all(round(v, 6) == v for row in scores for v in row.values())
    assert len({tuple(row.values()) for row in scores}) > 1, "scores depend on the text"
    assert type(scorer.model).__name__ == config["architectures"][0]


@pytest.mark.parametrize("arch", ARCHES)
def test_int8_is_within_tolerance_of_fp32(
    arch: str, random_checkpoints: dict[str, HfCheckpoint]
) -> None:
    checkpoint = random_checkpoints[arch]
    int8 = load(checkpoint).score(TEXTS)
    fp32_scorer = load(checkpoint, quantize="none")
    fp32 = fp32_scorer.score(TEXTS)

    assert fp32_scorer.model_id.endswith("+fp32")
    worst = max(abs(a[k] - b[k]) for a, b in zip(int8, fp32, strict=True) for k in a)
    assert worst <= INT8_TOLERANCE[int8_kernel_here()]


@pytest.mark.parametrize("arch", ARCHES)
def test_a_comments_scores_do_not_depend_on_its_batch(
    arch: str, random_checkpoints: dict[str, HfCheckpoint]
) -> None:
    scorer = load(random_checkpoints[arch])
    if int8_kernel_here() == "rowwise":
        assert scorer._batch_size == CPU_BATCH_SIZE
    alone = [scorer.score([text])[0] for text in TEXTS]

    batched = scorer.score(TEXTS)
    reversed_batch = scorer.score(TEXTS[::-1])[::-1]

    assert batched == alone
    assert reversed_batch == alone


@pytest.mark.parametrize("arch", ARCHES)
def test_a_rigged_checkpoint_scores_its_trigger_words_high_and_the_rest_low(
    arch: str, models_dir: Path
) -> None:
    softmax = tiny_hf_checkpoint(
        models_dir / f"rigged-softmax-{arch}",
        arch,  # type: ignore[arg-type]
        SOFTMAX_LABELS,
        "single_label_classification",
        triggers={"hate": TOXIC_WORDS},
    )
    sigmoid = tiny_hf_checkpoint(
        models_dir / f"rigged-sigmoid-{arch}", arch, triggers={"insult": TOXIC_WORDS}
    )
    texts = [APPROVED_KO, HELD_KO, "꺼져라 이 쓰레기야", "좋은 하루 " * 30 + "바보"]

    for checkpoint in (softmax, sigmoid):
        for quantize in ("int8", "none"):
            approved, *held = load(checkpoint, quantize=quantize).score(texts)
            probabilities = [_probabilities(row, checkpoint) for row in (approved, *held)]
            clean, *toxic = probabilities
            label = "hate" if checkpoint is softmax else "insult"
            assert clean[label] < 0.01
            assert all(row[label] > 0.99 for row in toxic)
            if checkpoint is softmax:
                assert clean["clean"] > 0.99
                assert all(row["clean"] < 0.01 for row in toxic)
            else:
                assert all(row["toxicity"] < 0.01 for row in probabilities)


def _probabilities(logits: dict[str, float], checkpoint: HfCheckpoint) -> dict[str, float]:
    if checkpoint.problem_type == "multi_label_classification":
        return {k: 1 / (1 + math.exp(-v)) for k, v in logits.items()}
    top = max(logits.values())
    exps = {k: math.exp(v - top) for k, v in logits.items()}
    return {k: e / sum(exps.values()) for k, e in exps.items()}


def test_a_pickle_only_checkpoint_is_refused_naming_the_file(tmp_path: Path) -> None:
    checkpoint = pickle_only_checkpoint(tmp_path / "models" / "pickled")

    with pytest.raises(ModelUnavailable, match=r"pickle weights \(pytorch_model\.bin\)") as raised:
        load_scorer(checkpoint.settings(), checkpoint.entry())
    with pytest.raises(ConfigurationError, match=r"pytorch_model\.bin"):
        model_registry(checkpoint.settings())

    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith("MODERATION_MODELS: ko-tiny: ")


def test_a_pickle_beside_safetensors_is_never_read(tmp_path: Path) -> None:
    checkpoint = tiny_hf_checkpoint(tmp_path / "models" / "both")
    expected = load(checkpoint, quantize="none").score(TEXTS)
    # Unpickling this would fail (or worse); transformers must not open it.
    (checkpoint.path / "pytorch_model.bin").write_bytes(b"not a pickle")

    assert load(checkpoint, quantize="none").score(TEXTS) == expected


def test_a_checkpoint_that_asks_for_its_own_code_is_refused(tmp_path: Path) -> None:
    checkpoint = tiny_hf_checkpoint(tmp_path / "models" / "remote")
    config_file = checkpoint.path / "config.json"
    config = json.loads(config_file.read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "modeling.Evil"}
    config_file.write_text(json.dumps(config))

    with pytest.raises(ModelUnavailable, match="auto_map"):
        load_scorer(checkpoint.settings(), checkpoint.entry())


def test_a_checkpoint_outside_the_models_dir_is_refused_at_load(tmp_path: Path) -> None:
    checkpoint = tiny_hf_checkpoint(tmp_path / "elsewhere" / "ko")
    settings = Settings(models_dir=tmp_path / "models")
    (tmp_path / "models").mkdir()

    with pytest.raises(ModelUnavailable, match="outside MODERATION_MODELS_DIR"):
        load_scorer(settings, checkpoint.entry())


def test_weights_symlinked_from_outside_the_models_dir_are_refused(tmp_path: Path) -> None:
    checkpoint = tiny_hf_checkpoint(tmp_path / "models" / "linked")
    outside = tmp_path / "outside.safetensors"
    (checkpoint.path / "model.safetensors").rename(outside)
    os.symlink(outside, checkpoint.path / "model.safetensors")

    with pytest.raises(ModelUnavailable, match=r"points to .*outside MODERATION_MODELS_DIR"):
        load_scorer(checkpoint.settings(), checkpoint.entry())


def test_a_manifest_is_checked_before_the_load(tmp_path: Path) -> None:
    checkpoint = tiny_hf_checkpoint(tmp_path / "models" / "pinned")
    files = {p.name: sha256_of(p) for p in checkpoint.path.iterdir()}
    write_manifest(checkpoint.path, source="hf:org/pinned", revision="a" * 40, files=files)
    scorer = load(checkpoint)
    assert scorer.model_id.startswith(f"hf:ko-tiny@{files['model.safetensors'][:8]}+")

    config_file = checkpoint.path / "config.json"
    config_file.write_text(config_file.read_text().replace('"hate"', '"hatred"') + " ")
    with pytest.raises(ModelUnavailable, match=r"config\.json has SHA-256 .* a changed"):
        load(checkpoint)

    config_file.write_text(config_file.read_text().strip())
    (checkpoint.path / "extra.txt").write_text("added later")
    with pytest.raises(ModelUnavailable, match=r"extra\.txt is not in manifest\.json"):
        load(checkpoint)


def test_an_architecture_without_the_attention_interface_is_scored_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = tiny_hf_checkpoint(tmp_path / "models" / "solo")
    monkeypatch.setattr(
        transformers.BertForSequenceClassification, "_supports_attention_backend", False
    )

    with capture_logs() as logs:
        scorer = load(checkpoint)

    assert scorer._batch_size == 1
    assert scorer.model_id.endswith("+int8-per-tensor")
    assert any(log["event"] == "scoring.per_tensor_int8" for log in logs)
    assert scorer.score(TEXTS) == [scorer.score([text])[0] for text in TEXTS]


def test_the_detoxify_scorer_says_it_outputs_probabilities(
    tiny_checkpoint: Callable[..., TinyCheckpoint],
) -> None:
    checkpoint = tiny_checkpoint("original")
    settings = checkpoint.settings()
    default = model_registry(settings)["default"]

    scorer = load_scorer(settings, default)

    assert scorer.outputs_are == "probabilities"
    assert scorer.model_id == load_scorer(settings).model_id


def test_a_registered_variant_loads_with_its_fetched_config(tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path, models='{"orig": "original"}')
    entry = model_registry(settings)["orig"]
    assert entry == ModelEntry("orig", "original", None)
    assert variant_settings(settings, entry).model_config_dir is None

    (tmp_path / "original" / "config").mkdir(parents=True)
    (tmp_path / "original" / "config" / "config.json").write_text("{}")

    loaded = variant_settings(settings, entry)
    assert loaded.model == "original"
    assert loaded.model_config_dir == str(tmp_path / "original" / "config")


def test_registry_errors_are_model_unavailable_and_configuration_errors() -> None:
    assert issubclass(ModelRegistryError, ModelUnavailable)
    assert issubclass(ModelRegistryError, ConfigurationError)
