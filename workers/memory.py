"""Giving back the memory a worker child freed while it loaded its model.

Loading reads the checkpoint's state dict, builds the fp32 model and quantizes it; what the
int8 model replaced is freed, but glibc keeps freed pages inside its heap, where they still
count in the child's RSS (and in a container's memory limit). `malloc_trim(0)` hands every
whole free page back to the kernel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def return_freed_memory() -> bool:
    """Collect, then trim the C heap; False where the C library has no malloc_trim (musl,
    macOS), which is harmless: only the RSS figure differs."""
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return False
    trim(0)
    return True
