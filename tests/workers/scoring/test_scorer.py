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
from structlog.testing import capture_logs

from service.errors import ModelUnavailable, ScoringError
from service.model_catalogue import VARIANTS, Variant, model_labels
from service.settings import Settings
from tests.support.checkpoints import CLEAN, CORPUS, TOXIC, VARIANT_NAMES, TinyCheckpoint
from tests.support.cpu import AS_IF_AVX2_ONLY, int8_kernel_here, int8_suffix_here
from tests.support.downloads import named_after
from tests.support.processes import clean_env, run_python
from workers.scoring.detoxify_scorer import CPU_BATCH_SIZE
from workers.scoring.locate import check_model_available, release_url, torch_hub_checkpoints_dir
from workers.scoring.rowwise import RowwiseInt8Embedding, RowwiseInt8Linear
from workers.scoring.scorer import load_scorer

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
# Dynamic int8 on a 32-wide random model: the coarsest case. bench/scoring.py measures the
# real (768-wide) shape.
INT8_TOLERANCE = 0.08
PER_TENSOR_LINEAR = torch.ao.nn.quantized.dynamic.Linear

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
    assert scorer.model_id == f"checkpoint:{checkpoint.checkpoint.name}@{digest[:8]}" + (
        int8_suffix_here()
    )
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

    int8_modules = list(int8.model.modules())  # type: ignore[attr-defined]
    assert not any(type(m) is torch.nn.Linear for m in int8_modules)
    if int8_kernel_here() == "rowwise":
        assert sum(isinstance(m, RowwiseInt8Linear) for m in int8_modules) > 10
        assert isinstance(int8.model.get_input_embeddings(), RowwiseInt8Embedding)  # type: ignore[attr-defined]
        assert int8._batch_size == CPU_BATCH_SIZE > 1  # type: ignore[attr-defined]
    else:
        assert sum(isinstance(m, PER_TENSOR_LINEAR) for m in int8_modules) > 10
        assert int8._batch_size == 1  # type: ignore[attr-defined]
    assert not any(isinstance(m, RowwiseInt8Linear) for m in fp32.model.modules())  # type: ignore[attr-defined]
    assert fp32.model_id.endswith("+fp32") and int8.model_id.endswith(int8_suffix_here())
    assert fp32._batch_size == 1  # type: ignore[attr-defined]
    assert_agrees_with(fp32, int8)


def assert_agrees_with(fp32: object, int8: object) -> None:
    texts = [*CORPUS, *LONG_TEXTS]
    differences = [
        abs(a[label] - b[label])
        for a, b in zip(fp32.score(texts), int8.score(texts), strict=True)  # type: ignore[attr-defined]
        for label in fp32.labels  # type: ignore[attr-defined]
    ]
    assert max(differences) < INT8_TOLERANCE
    assert max(differences) > 0, "int8 scores identical to fp32: not quantized"


def test_per_tensor_forced_runs_on_any_cpu_one_comment_at_a_time(tiny_checkpoint: Build) -> None:
    checkpoint = tiny_checkpoint("unbiased")

    with capture_logs() as logs:
        int8 = load_scorer(checkpoint.settings(int8_kernel="per_tensor"))

    modules = list(int8.model.modules())  # type: ignore[attr-defined]
    assert sum(isinstance(m, PER_TENSOR_LINEAR) for m in modules) > 10
    assert not any(isinstance(m, RowwiseInt8Linear) for m in modules)
    # Per-tensor activation scales couple the comments of a batch: one comment per pass.
    assert int8._batch_size == 1  # type: ignore[attr-defined]
    assert int8.model_id.endswith("+int8-per-tensor")
    assert {
        "event": "scoring.per_tensor_int8",
        "log_level": "info",
        "reason": "MODERATION_INT8_KERNEL=per_tensor",
    } in logs
    texts = [*CORPUS, "", "Idiot."]
    assert int8.score(texts) == [int8.score([text])[0] for text in texts]
    assert_agrees_with(load_scorer(checkpoint.settings(quantize="none")), int8)


def test_rowwise_forced_loads_rowwise_where_this_cpu_runs_it_and_refuses_elsewhere(
    tiny_checkpoint: Build,
) -> None:
    settings = tiny_checkpoint("original").settings(int8_kernel="rowwise")

    if int8_kernel_here() == "rowwise":
        scorer = load_scorer(settings)
        assert scorer.model_id.endswith("+int8")
        assert any(isinstance(m, RowwiseInt8Linear) for m in scorer.model.modules())  # type: ignore[attr-defined]
        return
    with pytest.raises(ModelUnavailable, match="MODERATION_INT8_KERNEL=rowwise") as raised:
        load_scorer(settings)
    assert "\n" not in str(raised.value)


def test_the_worker_forced_to_rowwise_on_avx2s_int8_path_stops_at_start_in_one_line(
    tiny_checkpoint: Build, database_url: str, redis_server: str
) -> None:
    checkpoint = tiny_checkpoint("original")
    env = clean_env(
        MODERATION_MODEL=str(checkpoint.checkpoint),
        MODERATION_MODEL_CONFIG=str(checkpoint.config_dir),
        MODERATION_INT8_KERNEL="rowwise",
        MODERATION_DATABASE_URL=database_url,
        MODERATION_REDIS_URL=f"{redis_server}/15",
        **AS_IF_AVX2_ONLY,
    )

    completed = subprocess.run(
        [str(Path(sys.executable).with_name("moderation")), "worker", "--concurrency=1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 3
    [line] = completed.stderr.splitlines()
    assert line.startswith("moderation: MODERATION_INT8_KERNEL=rowwise, but this CPU can't")
    assert "MODERATION_INT8_KERNEL=auto" in line


def test_a_bad_int8_kernel_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="int8_kernel"):
        Settings(int8_kernel="fast")  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_a_comment_scores_the_same_alone_and_among_others(
    tiny_checkpoint: Build, variant: str
) -> None:
    scorer = load_scorer(tiny_checkpoint(variant).settings())
    # Lengths from 0 to 128 tokens, so every batch pads most of its comments.
    texts = [*CORPUS, *LONG_TEXTS, "", "Idiot.", *(text[:40] for text in CORPUS)]

    together = scorer.score(texts)

    assert len(texts) > 2 * CPU_BATCH_SIZE
    assert together == [scorer.score([text])[0] for text in texts]
    assert together == scorer.score(texts[::-1])[::-1]
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


def place_as_variant(
    checkpoint: TinyCheckpoint, variant: Variant, tmp_path: Path, where: str
) -> Settings:
    """`checkpoint` under `variant`'s file name, beside a fetched config or in the hub cache."""
    config_dir = tmp_path / "models" / variant.name / "config"
    shutil.copytree(checkpoint.config_dir, config_dir)
    file_dir = config_dir.parent if where.startswith("beside") else torch_hub_checkpoints_dir()
    file_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(checkpoint.checkpoint, file_dir / variant.file_name)
    return Settings(model=variant.name, model_config_dir=str(config_dir))


WHERE = ["beside the fetched config", "in the torch hub cache"]


@pytest.mark.parametrize("where", WHERE)
def test_a_variant_name_loads_from_a_local_checkpoint(
    tiny_checkpoint: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    checkpoint = tiny_checkpoint("original")
    # `original` as if published under the tiny file's own hash: the real prefix can't match.
    variant = named_after(checkpoint, "original")
    monkeypatch.setitem(VARIANTS, "original", variant)
    settings = place_as_variant(checkpoint, variant, tmp_path, where)

    check_model_available(settings)
    scorer = load_scorer(settings)

    assert scorer.model_id == f"detoxify:original@{variant.sha256_prefix}{int8_suffix_here()}"
    assert scorer.labels == model_labels("original")


@pytest.mark.parametrize("where", WHERE)
def test_a_variant_file_that_does_not_match_its_published_hash_is_refused(
    tiny_checkpoint: Build, tmp_path: Path, where: str
) -> None:
    checkpoint = tiny_checkpoint("original")
    settings = place_as_variant(checkpoint, VARIANTS["original"], tmp_path, where)
    digest = hashlib.sha256(checkpoint.checkpoint.read_bytes()).hexdigest()

    with pytest.raises(ModelUnavailable) as checked:
        check_model_available(settings)
    with pytest.raises(ModelUnavailable) as loaded:
        load_scorer(settings)

    assert_one_line_pointing_to_a_fix(checked.value)
    assert str(loaded.value) == str(checked.value)
    assert f"toxic_original-c1212f89.ckpt has SHA-256 {digest[:16]}..." in str(checked.value)
    assert "does not start with the c1212f89" in str(checked.value)


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


AVAILABILITY_SCRIPT = """
import json, sys
from service.settings import Settings
from service.errors import ModelUnavailable
from workers.scoring.locate import check_model_available
path, config_dir, device = sys.argv[1:]
try:
    check_model_available(Settings(model=path, model_config_dir=config_dir, device=device))
    problem = None
except ModelUnavailable as exc:
    problem = str(exc)
imported = sorted(m for m in ("torch", "transformers", "detoxify") if m in sys.modules)
print(json.dumps([problem, imported]))
"""


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here"),
        ),
    ],
)
def test_the_availability_check_never_imports_torch(tiny_checkpoint: Build, device: str) -> None:
    checkpoint = tiny_checkpoint("original")

    output = run_python(
        AVAILABILITY_SCRIPT,
        dict(os.environ),
        str(checkpoint.checkpoint),
        str(checkpoint.config_dir),
        device,
    )

    problem, imported = json.loads(output)
    assert imported == []
    if device == "cpu":
        assert problem is None
    else:
        assert "\n" not in problem
        assert problem.startswith("MODERATION_DEVICE=cuda, but ")
        assert problem.endswith("set MODERATION_DEVICE=cpu")


OFFLINE_SCRIPT = """
import json, shutil, sys, tempfile
from pathlib import Path
from service.settings import Settings
from service.errors import ModelUnavailable
from workers.scoring.scorer import load_scorer

results = {}
for path, config_dir in json.loads(sys.argv[1]):
    scorer = load_scorer(Settings(model=path, model_config_dir=config_dir))
    results[scorer.model_id] = [list(scorer.labels), scorer.score(["You are an idiot!"])[0]]
# `models fetch` and `models demo` lay the config beside the checkpoint: found on its own.
results["config beside"] = load_scorer(Settings(model=path)).model_id
alone = Path(tempfile.mkdtemp()) / Path(path).name
shutil.copy(path, alone)
try:
    load_scorer(Settings(model=str(alone)))
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
    env = clean_env(HF_HUB_OFFLINE="1", HF_HOME=str(hf_home), TORCH_HOME=str(tmp_path))
    paths = [[str(c.checkpoint), str(c.config_dir)] for c in checkpoints]

    results = json.loads(run_python(OFFLINE_SCRIPT, env, json.dumps(paths)).splitlines()[-1])

    without_config = results.pop("without config")
    assert results.pop("config beside") == list(results)[-1], "the same checkpoint, found alone"
    assert "albert-base-v2" in without_config and "MODERATION_MODEL_CONFIG" in without_config
    assert [labels for labels, _ in results.values()] == [list(c.labels) for c in checkpoints]
    assert all(set(scores) == set(labels) for labels, scores in results.values())
    assert list(hf_home.iterdir()) == []


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:0", "cuda:12", "mps"])
def test_a_torch_device_name_is_accepted(device: str) -> None:
    assert Settings(device=device).device == device


@pytest.mark.parametrize("device", ["gpu", "CUDA", "cuda:", "cuda:x", "cuda:0,1", "meta", ""])
def test_any_other_device_is_a_settings_error(device: str) -> None:
    with pytest.raises(ValueError, match="MODERATION_DEVICE must be cpu, cuda, cuda:N or mps"):
        Settings(device=device)


@pytest.mark.parametrize(
    "device",
    [
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here"),
        ),
        # No machine has 64 GPUs: unavailable on a CUDA build too.
        "cuda:63",
    ],
)
def test_a_device_that_is_not_here_is_one_clear_line_in_the_child(
    tiny_checkpoint: Build, device: str
) -> None:
    with pytest.raises(ModelUnavailable) as raised:
        load_scorer(tiny_checkpoint("original").settings(device=device))

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"MODERATION_DEVICE={device}, but ")
    assert message.endswith("set MODERATION_DEVICE=cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here")
@pytest.mark.parametrize(
    ("device", "error"),
    [
        ("cuda", "moderation: MODERATION_DEVICE=cuda, but this torch "),
        ("gpu", "moderation: MODERATION_DEVICE must be cpu, cuda, cuda:N or mps, not 'gpu'"),
    ],
)
def test_the_worker_refuses_to_start_on_a_missing_device_in_one_line(
    tiny_checkpoint: Build, database_url: str, redis_server: str, device: str, error: str
) -> None:
    checkpoint = tiny_checkpoint("original")
    env = clean_env(
        MODERATION_MODEL=str(checkpoint.checkpoint),
        MODERATION_MODEL_CONFIG=str(checkpoint.config_dir),
        MODERATION_DEVICE=device,
        MODERATION_DATABASE_URL=database_url,
        MODERATION_REDIS_URL=f"{redis_server}/15",
    )

    completed = subprocess.run(
        [str(Path(sys.executable).with_name("moderation")), "worker", "--concurrency=2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 3
    [line] = completed.stderr.splitlines()
    assert line.startswith(error) and "MODERATION_DEVICE" in line


WARNINGS_SCRIPT = """
import json, sys, warnings
import torch
from service.settings import Settings
from workers.scoring.scorer import load_scorer
from workers.scoring.detoxify_scorer import quantize_int8

def warning_raised(quantize):
    try:
        quantize(torch.nn.Sequential(torch.nn.Linear(4, 4)))
    except Warning as warning:
        return f"{type(warning).__name__}: {str(warning).splitlines()[0]}"
    return None

results = {}
results["torch itself"] = warning_raised(
    lambda model: torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear})
)
scorer = load_scorer(
    Settings(model=sys.argv[1], model_config_dir=sys.argv[2], int8_kernel="per_tensor")
)
results["model"] = scorer.model_id
results["scores"] = scorer.score(["You are an idiot!"])[0]

quantize_dynamic = torch.ao.quantization.quantize_dynamic
def with_an_unrelated_deprecation(*args, **kwargs):
    warnings.warn("an unrelated deprecation", DeprecationWarning, stacklevel=2)
    return quantize_dynamic(*args, **kwargs)
torch.ao.quantization.quantize_dynamic = with_an_unrelated_deprecation
results["unrelated"] = warning_raised(quantize_int8)
print(json.dumps(results))
"""


def test_int8_loads_with_warnings_as_errors_and_hides_only_torchs_deprecation(
    tiny_checkpoint: Build,
) -> None:
    checkpoint = tiny_checkpoint("unbiased")

    output = run_python(
        WARNINGS_SCRIPT,
        clean_env(),
        str(checkpoint.checkpoint),
        str(checkpoint.config_dir),
        options=["-W", "error"],
    )

    results = json.loads(output.splitlines()[-1])
    assert results["torch itself"].startswith(
        "DeprecationWarning: torch.ao.quantization is deprecated"
    ), "torch no longer warns: the filter in quantize_int8 can go"
    assert results["model"].endswith("+int8-per-tensor")
    assert list(results["scores"]) == list(checkpoint.labels)
    # The filter matches torch's message, not every DeprecationWarning during quantization.
    assert results["unrelated"] == "DeprecationWarning: an unrelated deprecation"


def test_only_the_first_max_tokens_tokens_are_scored(tiny_checkpoint: Build) -> None:
    checkpoint = tiny_checkpoint("original")
    scorer = load_scorer(checkpoint.settings())
    cap = Settings().max_tokens
    words = " ".join(CORPUS).split()

    def tokens(text: str) -> int:
        return len(scorer.tokenizer(text)["input_ids"])  # type: ignore[attr-defined]

    prefix = ""
    while tokens(prefix) < cap:
        prefix += f"{words[tokens(prefix) % len(words)]} "
    shorter = " ".join(prefix.split()[:-20])
    polite, rude = "thanks for the great reporting", "shut up you pathetic clown"
    assert tokens(prefix + polite) > cap and tokens(shorter + rude) < cap

    assert cap == 256, "README.md and docs/scoring.md state the default"
    [beyond_polite, beyond_rude] = scorer.score([prefix + polite, prefix + rude])
    assert beyond_polite == beyond_rude, "tokens past the cap changed the scores"
    [within_polite, within_rude] = scorer.score([shorter + polite, shorter + rude])
    assert within_polite != within_rude, "the texts' differences never reach the model"
    wider = load_scorer(checkpoint.settings(max_tokens=cap + 64))
    assert wider.score([prefix + polite]) != wider.score([prefix + rude])
