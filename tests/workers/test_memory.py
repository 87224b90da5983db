"""Freed heap pages go back to the kernel after the model is loaded."""

from __future__ import annotations

from pathlib import Path

from workers.memory import return_freed_memory, trim_heap, trim_heap_every


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_freed_small_objects_leave_the_rss() -> None:
    # Objects of a few kB live in glibc's heap (Python's own allocator takes only those up to
    # 512 bytes, and glibc maps only those past 128 kB on their own); keeping one in a
    # hundred alive keeps the heap's top in use, so only malloc_trim can give the pages back.
    objects = [bytes(4000) for _ in range(100_000)]
    keep = objects[::100]
    del objects
    before = _rss_mb()
    assert return_freed_memory() is True  # glibc, as on this machine and in the image
    after = _rss_mb()
    assert before - after > 200, (before, after)
    assert len(keep) == 1_000


def test_trimming_alone_gives_back_freed_pages_without_collecting() -> None:
    objects = [bytes(4000) for _ in range(100_000)]
    keep = objects[::100]
    del objects
    before = _rss_mb()
    assert trim_heap() is True
    assert before - _rss_mb() > 200
    assert len(keep) == 1_000


def test_trimming_on_a_schedule_runs_at_most_once_per_interval() -> None:
    assert trim_heap_every(0.0) is True
    assert trim_heap_every(3600.0) is False
    assert trim_heap_every(0.0) is True
