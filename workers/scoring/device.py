"""Whether MODERATION_DEVICE exists on this machine, asked of torch in a child process.

The worker's parent must not import torch, so `check_device` asks a short-lived interpreter
(`workers.scoring.probe`); each worker child asks `device_problem` itself before loading the
model.
"""

from __future__ import annotations

from service.errors import ModelUnavailable
from workers.scoring.probe import ask_torch

_PROBE = (
    "import sys\n"
    "from workers.scoring.device import device_problem\n"
    "print(device_problem(sys.argv[1]) or '')\n"
)


def check_device(device: str) -> None:
    """Raise ModelUnavailable unless torch can use `device` here. Never imports torch."""
    if device == "cpu":
        return
    problem = ask_torch(_PROBE, device, about=f"MODERATION_DEVICE={device}")
    if problem:
        raise ModelUnavailable(problem)


def device_problem(device: str) -> str | None:
    """Why torch can't use `device` in this process, as one line; None if it can."""
    import torch

    kind, _, index = device.partition(":")
    fix = "set MODERATION_DEVICE=cpu"
    if kind == "cuda":
        if torch.version.cuda is None and torch.version.hip is None:
            return (
                f"MODERATION_DEVICE={device}, but this torch {torch.__version__} is built "
                f"without CUDA; install a CUDA build of torch or {fix}"
            )
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count <= int(index or 0):
            return f"MODERATION_DEVICE={device}, but torch sees {count} CUDA device(s); {fix}"
    elif kind == "mps" and not torch.backends.mps.is_available():
        return (
            f"MODERATION_DEVICE={device}, but MPS is not available here (Apple silicon with "
            f"a torch build that supports it); {fix}"
        )
    return None
