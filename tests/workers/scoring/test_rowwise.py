"""Row-wise int8 and unpadded attention: a comment's scores don't depend on its batch."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import torch
from structlog.testing import capture_logs

from tests.support.checkpoints import CORPUS, VARIANT_NAMES, TinyCheckpoint
from tests.support.cpu import AS_IF_AVX2_ONLY, flags_say_exact_int8, int8_kernel_here
from tests.support.processes import clean_env, run_python
from workers.scoring.rowwise import (
    RowwiseInt8Embedding,
    RowwiseInt8Linear,
    quantize_rowwise,
    rowwise_int8_works,
)
from workers.scoring.scorer import Scorer, load_scorer
from workers.scoring.synthetic import ModelShape

Build = Callable[..., TinyCheckpoint]
# Wide and deep enough that padding's last-bit differences reach the logits through the int8
# rounding (the 32-wide tiny models round them away): the control below shows they do.
SENSITIVE = ModelShape("sensitive", hidden=256, layers=4, heads=4, intermediate=1024, init_std=0.05)
# Short and long, so a batch pads most of its comments; the last one is cut at 128 tokens.
TEXTS = [*CORPUS, "", "Idiot.", "you are an idiot " * 60]


def linear(inputs: int, outputs: int, *, seed: int = 0, bias: bool = True) -> torch.nn.Linear:
    torch.manual_seed(seed)
    layer = torch.nn.Linear(inputs, outputs, bias=bias)
    with torch.no_grad():
        layer.weight.mul_(3.0)
    return layer


def test_the_probe_answers_what_this_cpus_flags_say() -> None:
    assert rowwise_int8_works() == flags_say_exact_int8()
    assert int8_kernel_here() == ("rowwise" if flags_say_exact_int8() else "per_tensor")


PROBE_SCRIPT = """
from workers.scoring.rowwise import rowwise_int8_works
print(rowwise_int8_works())
"""


def test_on_avx2s_int8_path_the_probe_says_no() -> None:
    """An AVX2-only CPU's answer, had on any x86 CPU by limiting oneDNN to AVX2."""
    output = run_python(PROBE_SCRIPT, clean_env(**AS_IF_AVX2_ONLY))

    assert output.split() == ["False"]


def assert_falls_back_to_per_tensor(scorer: Scorer, logs: list[dict[str, object]]) -> None:
    """Where the row-wise kernel isn't exact: the fallback is taken, and said so twice."""
    modules = list(scorer.model.modules())  # type: ignore[attr-defined]
    assert sum(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in modules) > 2
    assert not any(isinstance(m, RowwiseInt8Linear) for m in modules)
    assert scorer.model_id.endswith("+int8-per-tensor")
    assert scorer._batch_size == 1  # type: ignore[attr-defined]
    [event] = [log for log in logs if log["event"] == "scoring.per_tensor_int8"]
    assert event["reason"] == "this CPU can't run oneDNN's int8 exactly"


def load_logged(settings: object) -> tuple[Scorer, list[dict[str, object]]]:
    with capture_logs() as logs:
        scorer = load_scorer(settings)  # type: ignore[arg-type]
    return scorer, logs


@pytest.mark.parametrize("bias", [True, False])
def test_the_output_is_int8_arithmetic_with_one_scale_per_row_and_per_output(
    bias: bool, tiny_checkpoint: Build
) -> None:
    if int8_kernel_here() == "per_tensor":
        # This CPU's int8 product isn't exact, so the scorer never uses the layer.
        assert_falls_back_to_per_tensor(*load_logged(tiny_checkpoint("original").settings()))
        return
    layer = linear(96, 40, bias=bias)
    x = torch.randn(3, 7, 96) * torch.tensor([0.01, 1.0, 50.0])[:, None, None]
    x[0, 0] = 0.0  # an all-zero row (a padding token's) stays zero

    got = RowwiseInt8Linear(layer)(x)

    weight = layer.weight.detach().double()
    weight_scale = weight.abs().amax(dim=1) / 127
    weight_int8 = torch.round(weight / weight_scale[:, None])
    rows = x.reshape(-1, 96).double()
    row_scale = (rows.abs().amax(dim=1, keepdim=True) / 127).clamp(min=1e-12)
    rows_int8 = torch.round(rows / row_scale)
    expected = (rows_int8 @ weight_int8.T) * row_scale * weight_scale
    if bias:
        expected += layer.bias.detach().double()
    assert got.shape == (3, 7, 40)
    assert torch.allclose(got.reshape(-1, 40).double(), expected, rtol=1e-5, atol=1e-5)
    assert torch.all(got[0, 0] == (layer.bias if bias else 0.0))
    # Close to the float layer: each row is quantized on its own range.
    assert torch.allclose(got, layer(x).detach(), rtol=0.05, atol=0.05 * x.abs().amax().item())


def test_a_rows_output_is_the_same_bits_in_any_batch() -> None:
    layer = RowwiseInt8Linear(linear(768, 3072))
    x = torch.randn(40, 768)
    x[5:] *= 100.0  # neighbours with a far larger range, which a shared scale would follow

    together = layer(x)

    for row in (0, 4, 5, 39):
        assert torch.equal(layer(x[row : row + 1].clone()), together[row : row + 1])
    assert torch.equal(layer(x[:5].clone()), together[:5])


def test_every_linear_layer_is_replaced_and_shared_ones_once() -> None:
    shared = torch.nn.Linear(8, 8)
    model = torch.nn.Sequential(shared, torch.nn.ReLU(), shared, torch.nn.Linear(8, 2))

    assert quantize_rowwise(model) == 2

    assert not any(type(module) is torch.nn.Linear for module in model.modules())
    assert model[0] is model[2]
    assert model(torch.randn(3, 8)).shape == (3, 2)


@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_padding_never_changes_a_comments_logits(tiny_checkpoint: Build, variant: str) -> None:
    scorer, logs = load_logged(tiny_checkpoint(variant, shape=SENSITIVE).settings())
    if int8_kernel_here() == "per_tensor":
        # One comment a pass: nothing is padded, and no neighbour shares a scale.
        assert_falls_back_to_per_tensor(scorer, logs)
        assert scorer.score(TEXTS) == [scorer.score([text])[0] for text in TEXTS]
        return

    together = _logits(scorer, TEXTS)

    alone = torch.cat([_logits(scorer, [text]) for text in TEXTS])
    assert torch.equal(together, alone)


def test_with_transformers_own_attention_padding_changes_the_logits(
    tiny_checkpoint: Build,
) -> None:
    """The control for the test above: it can see the difference it guards against."""
    scorer = load_scorer(tiny_checkpoint("original", shape=SENSITIVE).settings())
    tolerance = 0.05
    if int8_kernel_here() == "rowwise":
        scorer.model.set_attn_implementation("sdpa")  # type: ignore[attr-defined]
    else:
        # Per-tensor int8: a batch also shares one activation scale, which couples it more.
        tolerance = 0.15

    together = _logits(scorer, TEXTS)

    alone = torch.cat([_logits(scorer, [text]) for text in TEXTS])
    assert not torch.equal(together, alone)
    assert torch.allclose(together, alone, atol=tolerance)


def test_per_tensor_int8_couples_a_batch_so_it_scores_one_at_a_time(
    tiny_checkpoint: Build,
) -> None:
    """Forced on every CPU, so the fallback's reason to score alone is shown everywhere."""
    scorer = load_scorer(
        tiny_checkpoint("original", shape=SENSITIVE).settings(int8_kernel="per_tensor")
    )

    together = _logits(scorer, TEXTS)

    alone = torch.cat([_logits(scorer, [text]) for text in TEXTS])
    assert not torch.equal(together, alone)
    assert scorer.score(TEXTS) == [scorer.score([text])[0] for text in TEXTS]


AUTO_SCRIPT = """
import json, sys
from structlog.testing import capture_logs
from service.settings import Settings
from workers.scoring.scorer import load_scorer

with capture_logs() as logs:
    scorer = load_scorer(Settings(model=sys.argv[1], model_config_dir=sys.argv[2]))
texts = ["You are an idiot!", "Thanks for the article.", "so are you " * 20]
print(json.dumps({
    "model": scorer.model_id,
    "batch": scorer._batch_size,
    "logs": [log for log in logs if log["event"].startswith("scoring.")],
    "together": scorer.score(texts),
    "alone": [scorer.score([text])[0] for text in texts],
}))
"""


def test_on_avx2s_int8_path_auto_falls_back_and_says_so(tiny_checkpoint: Build) -> None:
    checkpoint = tiny_checkpoint("unbiased")

    output = run_python(
        AUTO_SCRIPT,
        clean_env(**AS_IF_AVX2_ONLY),
        str(checkpoint.checkpoint),
        str(checkpoint.config_dir),
    )

    result = json.loads(output.splitlines()[-1])
    assert result["model"].endswith("+int8-per-tensor")
    assert result["batch"] == 1
    assert {
        "event": "scoring.per_tensor_int8",
        "log_level": "info",
        "reason": "this CPU can't run oneDNN's int8 exactly",
    } in result["logs"]
    assert result["together"] == result["alone"]


def _logits(scorer: object, texts: list[str]) -> torch.Tensor:
    inputs = scorer.tokenizer(  # type: ignore[attr-defined]
        texts, return_tensors="pt", truncation=True, max_length=128, padding=True
    )
    with torch.inference_mode():
        logits: torch.Tensor = scorer.model(**inputs).logits  # type: ignore[attr-defined]
    return logits


def test_token_embeddings_are_int8_rows_close_to_the_floats() -> None:
    torch.manual_seed(0)
    # More rows than one slice of the conversion, and a zero row (a padding index's).
    table = torch.nn.Embedding(10_000, 24, padding_idx=0)
    with torch.no_grad():
        table.weight[0] = 0.0
        table.weight[9_999] *= 1000.0

    int8 = RowwiseInt8Embedding(table)

    ids = torch.tensor([[0, 1, 4_096, 9_999], [5, 5, 8_191, 0]])
    got, expected = int8(ids), table(ids).detach()
    assert int8.quantized.dtype == torch.int8
    assert got.shape == expected.shape == (2, 4, 24)
    assert torch.all(got[0, 0] == 0.0)
    # Each row's error is at most half a step of its own scale.
    step = expected.abs().amax(dim=-1, keepdim=True) / 127
    assert torch.all((got - expected).abs() <= step / 2 + 1e-6)
    assert torch.equal(int8(ids[:, 1:2]), got[:, 1:2])
