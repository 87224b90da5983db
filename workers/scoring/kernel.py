"""Which int8 kernel a CPU scorer runs: MODERATION_INT8_KERNEL, and the CPU's own answer.

`rowwise` (workers.scoring.rowwise) scores 8 comments a pass and gives each its solo scores
bit for bit, but only where oneDNN's int8 product is exact: CPUs with AVX-512 VNNI, AVX-VNNI or
AMX. Elsewhere (AVX2 only, whose 16-bit partial sums saturate, or a non-x86 build) `per_tensor`
(torch.ao's dynamic int8) runs, one comment a pass so that a batch's shared activation scale
never couples neighbours. `auto` asks the CPU. The decision's model id names the kernel, so
scores from the two are never mistaken for each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from service.errors import ModelUnavailable
from workers.scoring.probe import ask_torch

if TYPE_CHECKING:
    from service.settings import Settings

Int8Kernel = Literal["rowwise", "per_tensor"]
# The model id's suffix for each kernel: "detoxify:unbiased@c7548aa0+int8-per-tensor".
MODEL_SUFFIX: dict[Int8Kernel, str] = {"rowwise": "int8", "per_tensor": "int8-per-tensor"}
FALLBACK_REASON = "this CPU can't run oneDNN's int8 exactly"
_PROBE = "from workers.scoring.rowwise import rowwise_int8_works\nprint(rowwise_int8_works())\n"


def rowwise_unavailable() -> ModelUnavailable:
    return ModelUnavailable(
        "MODERATION_INT8_KERNEL=rowwise, but this CPU can't run oneDNN's int8 exactly (it "
        "needs AVX-512 VNNI, AVX-VNNI or AMX); set MODERATION_INT8_KERNEL=auto to score with "
        "per-tensor int8 here"
    )


def check_int8_kernel(settings: Settings) -> None:
    """Before the fork, never importing torch: a forced `rowwise` this CPU can't run stops the
    worker with one line, rather than every child failing on its own."""
    if settings.int8_kernel != "rowwise" or settings.quantize != "int8":
        return
    if settings.device != "cpu":
        return
    if ask_torch(_PROBE, about="MODERATION_INT8_KERNEL=rowwise") != "True":
        raise rowwise_unavailable()


def choose_int8_kernel(setting: str) -> Int8Kernel:
    """The kernel for this process (imports torch: worker children only)."""
    if setting == "per_tensor":
        return "per_tensor"
    from workers.scoring.rowwise import rowwise_int8_works

    if rowwise_int8_works():
        return "rowwise"
    if setting == "rowwise":
        raise rowwise_unavailable()
    return "per_tensor"
