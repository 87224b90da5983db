"""Whether MODERATION_DEVICE exists on this machine, asked of torch in a child process.

The worker's parent must not import torch (nor initialise CUDA, which does not survive a
fork), so `check_device` asks a short-lived interpreter; each worker child asks
`device_problem` itself before loading the model.
"""

from __future__ import annotations

import subprocess
import sys

from workers.scoring.errors import ModelUnavailable

# Importing torch from a cold disk takes seconds; this bounds a hung driver, not the import.
PROBE_TIMEOUT_SECONDS = 120
_PROBE = (
    "import sys\n"
    "from workers.scoring.device import device_problem\n"
    "print(device_problem(sys.argv[1]) or '')\n"
)


def check_device(device: str) -> None:
    """Raise ModelUnavailable unless torch can use `device` here. Never imports torch."""
    if device == "cpu":
        return
    try:
        probe = subprocess.run(  # noqa: S603 - this interpreter; the device was validated
            [sys.executable, "-c", _PROBE, device],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelUnavailable(
            f"checking MODERATION_DEVICE={device} took over {PROBE_TIMEOUT_SECONDS} s"
        ) from exc
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelUnavailable(f"can't check MODERATION_DEVICE={device} ({last})")
    problem = probe.stdout.strip()
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
