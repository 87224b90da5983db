"""Giving back the memory a worker child freed: after its model loads, and after each batch.

Loading reads the checkpoint's state dict, builds the fp32 model and quantizes it; what the
int8 model replaced is freed, but glibc keeps freed pages inside its heap, where they still
count in the child's RSS (and in a container's memory limit). Scoring does the same on a small
scale: each forward pass frees its activations, and the holes add up (~10 MB per 64 comments on
BERT-base). `malloc_trim(0)` hands every whole free page back to the kernel; it walks the
heap (about a millisecond once the model is loaded), so workers trim at most every few seconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import time
from collections.abc import Callable

_last_trim = float("-inf")


def return_freed_memory() -> bool:
    """Collect, then trim the C heap; False where the C library has no malloc_trim (musl,
    macOS), which is harmless: only the RSS figure differs."""
    gc.collect()
    return trim_heap()


def trim_heap() -> bool:
    """Trim the C heap only: cheap enough for after every batch (gc.collect isn't)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def trim_heap_every(seconds: float) -> bool:
    """`trim_heap` unless it ran less than `seconds` ago; whether it ran."""
    global _last_trim
    now = time.monotonic()
    if now - _last_trim < seconds:
        return False
    _last_trim = now
    return trim_heap()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")  # runs ldconfig: once per process
    try:
        trim: Callable[[int], int] | None = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    return trim
