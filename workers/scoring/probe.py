"""Questions for torch asked in a short-lived interpreter, so the worker's parent never imports it.

The parent must not import torch (nor initialise CUDA, which does not survive a fork); what it
must know before it forks (does the device exist, does this CPU run the int8 kernel) is asked
of a child interpreter that prints one line.
"""

from __future__ import annotations

import subprocess
import sys

from service.errors import ModelUnavailable

# Importing torch from a cold disk takes seconds; this bounds a hung driver, not the import.
PROBE_TIMEOUT_SECONDS = 120


def ask_torch(program: str, *args: str, about: str) -> str:
    """Run `program` in this interpreter and return what it printed, stripped.

    `about` names the setting being checked, for the one-line error if the probe fails.
    """
    try:
        probe = subprocess.run(  # noqa: S603 - this interpreter, our own program
            [sys.executable, "-c", program, *args],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelUnavailable(f"checking {about} took over {PROBE_TIMEOUT_SECONDS} s") from exc
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelUnavailable(f"can't check {about} ({last})")
    return probe.stdout.strip()
