"""MODERATION_MODELS read and checked without torch: ids, sources, paths, safetensors only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policy import PolicyError, RegisteredModel
from service.errors import ConfigurationError
from service.model_catalogue import model_labels
from service.models.registry import (
    ModelEntry,
    ModelRegistryError,
    model_registry,
    registered_models,
)
from service.policies import check_policy_file, policy_holder
from service.settings import Settings
from tests.support.paths import REPO

KO_LABELS = ("clean", "offensive", "hate")


def fake_checkpoint(
    directory: Path,
    labels: tuple[str, ...] = KO_LABELS,
    *,
    weights: str | None = "model.safetensors",
) -> Path:
    """The files the registry reads (config.json) and looks for (the weights): no torch."""
    directory.mkdir(parents=True)
    id2label = {str(i): label for i, label in enumerate(labels)}
    (directory / "config.json").write_text(json.dumps({"id2label": id2label}))
    if weights is not None:
        (directory / weights).write_bytes(b"weights")
    return directory


def settings(models_dir: Path, registry: object, **fields: object) -> Settings:
    raw = registry if isinstance(registry, str) else json.dumps(registry)
    return Settings(models=raw, models_dir=models_dir, **fields)  # type: ignore[arg-type]


def one_line_error(models_dir: Path, registry: object) -> str:
    with pytest.raises(ConfigurationError) as raised:
        model_registry(settings(models_dir, registry))
    assert isinstance(raised.value, ModelRegistryError)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("MODERATION_MODELS")
    return message


def test_without_models_the_registry_is_the_default_model() -> None:
    assert model_registry(Settings()) == {"default": ModelEntry("default", "unbiased", None)}
    assert model_registry(Settings(models="  ")) == model_registry(Settings())
    assert registered_models(Settings(model="original")) == {
        "default": RegisteredModel(model_labels("original"), "original")
    }


def test_a_default_checkpoint_file_has_unknown_outputs(tmp_path: Path) -> None:
    checkpoint = tmp_path / "mine.ckpt"
    checkpoint.write_bytes(b"x")

    assert registered_models(Settings(model=str(checkpoint))) == {
        "default": RegisteredModel(None, None)
    }


def test_variants_and_checkpoint_directories(tmp_path: Path) -> None:
    ko = fake_checkpoint(tmp_path / "ko-hate")
    fake_checkpoint(tmp_path / "team" / "ko", ("toxicity", "insult"))
    configured = settings(
        tmp_path, {"ko-hate": "ko-hate", "unbiased": "unbiased", "team.ko_2": "team/ko/"}
    )

    assert model_registry(configured) == {
        "default": ModelEntry("default", "unbiased", None),
        "ko-hate": ModelEntry("ko-hate", None, ko.resolve()),
        "unbiased": ModelEntry("unbiased", "unbiased", None),
        "team.ko_2": ModelEntry("team.ko_2", None, (tmp_path / "team" / "ko").resolve()),
    }
    assert registered_models(configured) == {
        "default": RegisteredModel(model_labels("unbiased"), "unbiased"),
        "ko-hate": RegisteredModel(KO_LABELS, None),
        "unbiased": RegisteredModel(model_labels("unbiased"), "unbiased"),
        "team.ko_2": RegisteredModel(("toxicity", "insult"), None),
    }


def test_labels_are_read_from_config_json_in_output_order(tmp_path: Path) -> None:
    directory = tmp_path / "ko"
    directory.mkdir()
    (directory / "model.safetensors").write_bytes(b"w")
    (directory / "config.json").write_text(
        json.dumps({"id2label": {"2": "hate", "0": "clean", "1": "offensive"}})
    )

    assert registered_models(settings(tmp_path, {"ko": "ko"}))["ko"].outputs == KO_LABELS


def test_the_environment_configures_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_checkpoint(tmp_path / "ko-hate")
    monkeypatch.setenv("MODERATION_MODELS", '{"ko-hate": "ko-hate"}')
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(tmp_path))

    loaded = Settings()

    assert loaded.models_dir == tmp_path
    assert set(model_registry(loaded)) == {"default", "ko-hate"}
    assert Settings.model_fields["models_dir"].default == Path("models")


def test_the_models_dir_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_checkpoint(tmp_path / "models" / "ko")
    monkeypatch.chdir(tmp_path)

    entry = model_registry(Settings(models='{"ko": "ko"}'))["ko"]

    assert entry.path == (tmp_path / "models" / "ko").resolve()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{ko: 1}", "MODERATION_MODELS is not JSON (Expecting property name"),
        ('["ko-hate"]', "MODERATION_MODELS must be a JSON object from model id to source"),
        ('{"default": "original"}', "names 'default', which is MODERATION_MODEL's id"),
        ('{"Ko-Hate": "ko"}', "'Ko-Hate' is not a model id"),
        ('{"-ko": "ko"}', "'-ko' is not a model id"),
        ('{"ko/hate": "ko"}', "'ko/hate' is not a model id"),
        (json.dumps({"k" * 65: "ko"}), "is not a model id"),
        ('{"ko": 3}', "ko: the source must be a Detoxify variant"),
        ('{"ko": ""}', "ko: the source must be a Detoxify variant"),
        ('{"ko": "biased"}', "ko: 'biased' is neither a Detoxify variant (original, unbiased"),
        ('{"ko": "/etc"}', "ko: '/etc' is neither a Detoxify variant"),
        ('{"ko": "~/models/ko"}', "is neither a Detoxify variant"),
    ],
)
def test_bad_registries_are_one_line_configuration_errors(
    tmp_path: Path, raw: str, expected: str
) -> None:
    assert expected in one_line_error(tmp_path, raw)


def test_a_directory_outside_the_models_dir_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    fake_checkpoint(tmp_path / "elsewhere")

    message = one_line_error(models, {"ko": "../elsewhere"})

    assert "resolves to" in message and "outside MODERATION_MODELS_DIR" in message


def test_a_symlinked_directory_pointing_outside_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    os.symlink(fake_checkpoint(tmp_path / "elsewhere"), models / "ko")

    assert "outside MODERATION_MODELS_DIR" in one_line_error(models, {"ko": "ko"})


def test_a_symlinked_file_pointing_outside_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models"
    directory = fake_checkpoint(models / "ko", weights=None)
    (tmp_path / "secret.safetensors").write_bytes(b"w")
    os.symlink(tmp_path / "secret.safetensors", directory / "model.safetensors")

    message = one_line_error(models, {"ko": "ko"})

    assert "model.safetensors points to" in message and "outside" in message


def test_symlinks_inside_the_models_dir_are_followed(tmp_path: Path) -> None:
    real = fake_checkpoint(tmp_path / "store" / "ko-v2")
    os.symlink(real, tmp_path / "ko")

    entry = model_registry(settings(tmp_path, {"ko": "ko"}))["ko"]

    assert entry.path == real.resolve()


@pytest.mark.parametrize("pickle", ["pytorch_model.bin", "model.pt", "weights.ckpt", "tf.pkl"])
def test_a_pickle_only_directory_is_refused_naming_the_file(tmp_path: Path, pickle: str) -> None:
    fake_checkpoint(tmp_path / "ko", weights=pickle)

    message = one_line_error(tmp_path, {"ko": "ko"})

    assert f"holds only pickle weights ({pickle}), which can run code" in message


def test_sharded_safetensors_are_accepted(tmp_path: Path) -> None:
    fake_checkpoint(tmp_path / "ko", weights="model.safetensors.index.json")

    assert model_registry(settings(tmp_path, {"ko": "ko"}))["ko"].path == (tmp_path / "ko")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (None, "has no config.json"),
        ("{", "config.json is not JSON"),
        ("[]", "config.json is not a JSON object"),
        ("{}", "has no id2label"),
        ('{"id2label": {"a": "x"}}', "id2label's keys must be 0..n-1"),
        ('{"id2label": {"1": "x"}}', "id2label's keys must be 0..n-1"),
        ('{"id2label": {"0": "x", "1": "x"}}', "id2label names an output twice"),
        ('{"id2label": {"0": "x"}, "auto_map": {"A": "m.B"}}', "checkpoint's own code"),
        ('{"id2label": {"0": "x"}, "transformers_weights": "w.bin"}', "names weights 'w.bin'"),
    ],
)
def test_a_bad_config_json_is_refused(tmp_path: Path, config: str | None, expected: str) -> None:
    directory = fake_checkpoint(tmp_path / "ko")
    if config is None:
        (directory / "config.json").unlink()
    else:
        (directory / "config.json").write_text(config)

    assert expected in one_line_error(tmp_path, {"ko": "ko"})


def test_a_directory_without_weights_is_refused(tmp_path: Path) -> None:
    fake_checkpoint(tmp_path / "ko", weights=None)

    assert "has no model.safetensors" in one_line_error(tmp_path, {"ko": "ko"})


ROUTED = """\
language:
  routes:
    ko: ko-hate
models:
  ko-hate:
    activation: softmax
    labels:
      toxicity: {one_minus: clean}
      LABEL: OUTPUT
"""


def test_the_policy_check_reads_label_maps_against_config_json(tmp_path: Path) -> None:
    fake_checkpoint(tmp_path / "models" / "ko-hate")
    policy = tmp_path / "policy.yaml"
    policy.write_text(ROUTED.replace("LABEL: OUTPUT", "hate: hate"))
    configured = settings(
        tmp_path / "models", {"ko-hate": "ko-hate"}, policy=policy, var_dir=tmp_path
    )

    assert check_policy_file(configured).route("ko") == "ko-hate"
    assert policy_holder(configured).current().route("ko") == "ko-hate"

    policy.write_text(ROUTED.replace("LABEL: OUTPUT", "insult: insult"))
    with pytest.raises(PolicyError, match="insult"):
        check_policy_file(configured)
    policy.write_text(ROUTED.replace("ko-hate", "ko-other").replace("LABEL: OUTPUT", "x: y"))
    with pytest.raises(PolicyError, match="ko-other"):
        check_policy_file(configured)


# Built without torch: config.json and a placeholder weights file are all the registry reads.
NO_TORCH = """
import json, sys
from pathlib import Path
from service.models.registry import registered_models
from service.settings import Settings
models = Path(sys.argv[1])
(models / "ko").mkdir()
(models / "ko" / "config.json").write_text(json.dumps({"id2label": {"0": "clean"}}))
(models / "ko" / "model.safetensors").write_bytes(b"w")
found = registered_models(Settings(models='{"ko": "ko"}', models_dir=models))
assert found["ko"].outputs == ("clean",), found
loaded = [m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "detoxify")]
print(json.dumps(loaded))
"""


def test_the_registry_imports_no_torch(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
