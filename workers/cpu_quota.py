"""How many worker processes the CPUs we may use can keep busy: affinity and the cgroup quota.

A container limited to 2 CPUs (`docker run --cpus 2`, a Kubernetes CPU limit) still sees every
CPU of the node in its affinity: the limit is a CFS quota, time per period, not a CPU set. One
scoring process (~700 MB each) per node CPU would then share 2 CPUs' time between 64 processes.
The quota is read the way the JVM and Go's automaxprocs read it: the process's own cgroup from
/proc/self/cgroup, then every ancestor up to the mount's root, since a parent's limit also
binds (a pod's limit sits one level above its container's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

PROC_SELF_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")

_V1_CPU_CONTROLLER = "cpu"


@dataclass(frozen=True)
class Concurrency:
    """The chosen process count and what it was chosen from (logged at worker start)."""

    processes: int
    affinity: int
    quota: Fraction | None
    """CPUs the cgroup quota allows (2.5 for `250000 100000`); None when there is no quota."""

    @property
    def limited_by(self) -> str:
        if self.quota is not None and math.floor(self.quota) < self.affinity:
            return "cpu quota"
        return "cpu affinity"


def choose_concurrency(
    affinity: int,
    *,
    proc_self_cgroup: Path = PROC_SELF_CGROUP,
    cgroup_root: Path = CGROUP_ROOT,
) -> Concurrency:
    """min(affinity, quota rounded down), at least 1: a quota of half a CPU still runs one."""
    quota = cpu_quota(proc_self_cgroup=proc_self_cgroup, cgroup_root=cgroup_root)
    processes = affinity if quota is None else min(affinity, math.floor(quota))
    return Concurrency(processes=max(1, processes), affinity=affinity, quota=quota)


def cpu_quota(
    *, proc_self_cgroup: Path = PROC_SELF_CGROUP, cgroup_root: Path = CGROUP_ROOT
) -> Fraction | None:
    """The smallest CPU quota on the way from this process's cgroup up to the root, in CPUs;
    None when there is none or nothing can be read (then affinity alone decides)."""
    try:
        lines = proc_self_cgroup.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    unified: str | None = None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            unified = path
        elif _V1_CPU_CONTROLLER in controllers.split(","):
            # cgroup v1 (or the hybrid layout): the cpu controller lives here, not in v2.
            mount = _v1_mount(cgroup_root, controllers)
            return _smallest(mount, path, _read_v1) if mount else None
    if unified is None:
        return None
    return _smallest(cgroup_root, unified, _read_v2)


def _v1_mount(cgroup_root: Path, controllers: str) -> Path | None:
    """`cpu,cpuacct` is mounted under that name, usually with `cpu` linked to it."""
    for name in (controllers, _V1_CPU_CONTROLLER):
        if (cgroup_root / name).is_dir():
            return cgroup_root / name
    return None


def _smallest(
    mount: Path, cgroup_path: str, read: Callable[[Path], Fraction | None]
) -> Fraction | None:
    """Walk from the cgroup's directory up to the mount: a directory that is missing (the
    container sees only its own cgroup, mounted at the root) or unreadable sets no limit."""
    directory = mount.joinpath(*Path(cgroup_path).parts[1:])
    quotas: list[Fraction] = []
    while True:
        quota = read(directory)
        if quota is not None:
            quotas.append(quota)
        if directory == mount or mount not in directory.parents:
            break
        directory = directory.parent
    return min(quotas, default=None)


def _read_v2(directory: Path) -> Fraction | None:
    """`cpu.max`: `max 100000` (no limit) or `200000 100000` (2 CPUs)."""
    try:
        quota, period = (directory / "cpu.max").read_text().split()
        return None if quota == "max" else _ratio(int(quota), int(period))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _read_v1(directory: Path) -> Fraction | None:
    """`cpu.cfs_quota_us` (-1: no limit) over `cpu.cfs_period_us`."""
    try:
        quota = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return None if quota < 0 else _ratio(quota, period)


def _ratio(quota: int, period: int) -> Fraction | None:
    return Fraction(quota, period) if quota > 0 and period > 0 else None
