"""A worker child that can't load its model stops the whole worker, with one line.

Celery logs and swallows an exception raised in `worker_process_init`, and billiard forks a
replacement that fails the same way: the worker would stay up while every task fails and the
sweeper re-sends them forever. So the parent opens a pipe before the pool forks; a child that
can't start writes why there and exits, and the parent prints that as one line, shuts down
(Celery's warm shutdown, which hands prefetched tasks back to the broker) and exits with 3.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import NoReturn

from service.errors import ModerationError

EXIT_CODE = 3
"""The same code as every other start-up failure of `moderation worker`: the CLI's
EXIT_CONFIGURATION (the CLI sits above this module, so the value is repeated; a test holds
the two equal)."""

SHUTDOWN_GRACE_SECONDS = 30.0
"""How long the warm shutdown may take before the parent exits anyway."""

# A write of at most PIPE_BUF (4096 on Linux) bytes is atomic: reports from several
# children never interleave.
_MAX_REPORT_BYTES = 2048

_report_fd: int | None = None
_reported = threading.Event()


def watch_children() -> None:
    """In the parent, before the pool forks: stop the worker when a child reports."""
    global _report_fd
    read_fd, write_fd = os.pipe()
    # A child must never block on a full pipe: the parent reads one report, the rest drop.
    os.set_blocking(write_fd, False)
    _report_fd = write_fd
    threading.Thread(
        target=_stop_on_report, args=(read_fd,), name="child-failure-watch", daemon=True
    ).start()


def report_and_exit(message: str) -> NoReturn:
    """In a child: tell the parent why it can't work, and exit without Celery's clean-up."""
    line = " ".join(message.split()).encode()[:_MAX_REPORT_BYTES] + b"\n"
    try:
        if _report_fd is None:
            # Started by `celery worker` directly: nobody watches, so at least say why.
            os.write(2, b"moderation: " + line)
        else:
            os.write(_report_fd, line)
    except OSError:
        pass
    os._exit(EXIT_CODE)


def describe(exc: BaseException) -> str:
    """One line: our own errors (ModelUnavailable) already say what to do."""
    if isinstance(exc, ModerationError):
        detail = str(exc)
    else:
        lines = str(exc).strip().splitlines()
        detail = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    return f"a worker process can't start: {detail}"


def exit_if_reported() -> None:
    """In the parent, once Celery has stopped: a child's report makes the exit code 3."""
    if _reported.is_set():
        sys.exit(EXIT_CODE)


def _stop_on_report(read_fd: int) -> None:
    with os.fdopen(read_fd, "rb") as reader:
        line = reader.readline()
    if not line:
        return
    # The process's own stderr: Celery has redirected sys.stderr into its log.
    os.write(2, b"moderation: " + line.strip() + b"\n")
    _reported.set()
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(SHUTDOWN_GRACE_SECONDS)
    os._exit(EXIT_CODE)
