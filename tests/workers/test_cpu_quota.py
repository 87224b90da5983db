"""The worker's default concurrency under a container's CPU quota, on fake cgroup trees: what
/proc/self/cgroup says and what the cgroup filesystem holds, as cgroup v2 and v1 lay them out."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from workers.cpu_quota import Concurrency, choose_concurrency

V2_SELF = "0::/kubepods/pod-1/container-1\n"
V1_SELF = (
    "12:memory:/kubepods/pod-1/container-1\n"
    "4:cpu,cpuacct:/kubepods/pod-1/container-1\n"
    "1:name=systemd:/kubepods/pod-1/container-1\n"
    "0::/\n"
)
V2_LEAF = "kubepods/pod-1/container-1"
V1_LEAF = "cpu,cpuacct/kubepods/pod-1/container-1"


def v1(quota: int, period: int = 100_000) -> dict[str, str]:
    return {"cpu.cfs_quota_us": f"{quota}\n", "cpu.cfs_period_us": f"{period}\n"}


def build(tmp_path: Path, proc_self_cgroup: str | None, files: dict[str, str]) -> Concurrency:
    """A fake /proc/self/cgroup and /sys/fs/cgroup; choose for a process on 8 CPUs."""
    root = tmp_path / "sys-fs-cgroup"
    root.mkdir()
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if text == "<directory>":  # a path that exists but can't be read as a file
            path.mkdir()
        else:
            path.write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    if proc_self_cgroup is not None:
        proc.write_text(proc_self_cgroup)
    return choose_concurrency(8, proc_self_cgroup=proc, cgroup_root=root)


@pytest.mark.parametrize(
    ("proc_self_cgroup", "files", "processes", "quota"),
    [
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "200000 100000\n"}, 2, Fraction(2)),
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "max 100000\n"}, 8, None),
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "250000 100000\n"}, 2, Fraction(5, 2)),
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "50000 100000\n"}, 1, Fraction(1, 2)),
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "1600000 100000\n"}, 8, Fraction(16)),
        (
            V2_SELF,
            {
                f"{V2_LEAF}/cpu.max": "max 100000\n",
                "kubepods/pod-1/cpu.max": "300000 100000\n",
                "kubepods/cpu.max": "max 100000\n",
            },
            3,
            Fraction(3),
        ),
        (
            V2_SELF,
            {f"{V2_LEAF}/cpu.max": "400000 100000\n", "kubepods/pod-1/cpu.max": "600000 100000\n"},
            4,
            Fraction(4),
        ),
        # A container with its own cgroup namespace sees `0::/` and its limit at the root;
        # one without sees its host path, which its own mount doesn't have: the root again.
        ("0::/\n", {"cpu.max": "100000 100000\n"}, 1, Fraction(1)),
        (V2_SELF, {"cpu.max": "100000 100000\n"}, 1, Fraction(1)),
        (V2_SELF, {}, 8, None),
        (V1_SELF, {f"{V1_LEAF}/" + name: text for name, text in v1(200_000).items()}, 2, 2),
        (V1_SELF, {f"{V1_LEAF}/" + name: text for name, text in v1(-1).items()}, 8, None),
        (
            V1_SELF,
            {
                **{f"{V1_LEAF}/" + name: text for name, text in v1(-1).items()},
                **{"cpu,cpuacct/kubepods/pod-1/" + name: t for name, t in v1(150_000).items()},
            },
            1,
            Fraction(3, 2),
        ),
        # The hybrid layout: v1 holds the cpu controller, v2 (`0::`) holds none.
        (
            "3:cpu:/\n2:cpuacct:/\n0::/\n",
            {"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "20000\n"},
            2,
            Fraction(5, 2),
        ),
    ],
    ids=[
        "v2-two-cpus",
        "v2-no-limit",
        "v2-fraction-rounds-down",
        "v2-below-one-cpu-still-one",
        "v2-quota-above-affinity",
        "v2-parent-limits",
        "v2-smallest-of-child-and-parent",
        "v2-namespaced-root",
        "v2-host-path-not-mounted",
        "v2-no-cpu-max-files",
        "v1-two-cpus",
        "v1-no-limit",
        "v1-parent-limits",
        "v1-hybrid-cpu-controller",
    ],
)
def test_concurrency_is_affinity_capped_by_the_quota(
    tmp_path: Path,
    proc_self_cgroup: str,
    files: dict[str, str],
    processes: int,
    quota: Fraction | None,
) -> None:
    chosen = build(tmp_path, proc_self_cgroup, files)
    assert (chosen.processes, chosen.quota) == (processes, quota)
    assert chosen.limited_by == ("cpu quota" if processes < 8 else "cpu affinity")


@pytest.mark.parametrize(
    ("proc_self_cgroup", "files"),
    [
        (None, {}),
        ("not a cgroup file\n", {}),
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "<directory>"}),
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "two cpus\n"}),
        (V2_SELF, {f"{V2_LEAF}/cpu.max": "200000 0\n"}),
        (V1_SELF, {f"{V1_LEAF}/cpu.cfs_quota_us": "200000\n"}),
        (V1_SELF, {f"{V1_LEAF}/cpu.cfs_quota_us": "200000\n", f"{V1_LEAF}/cpu.cfs_period_us": ""}),
        ("4:cpu,cpuacct:/kubepods\n", {}),
    ],
    ids=[
        "no-proc-file",
        "garbled-proc-file",
        "cpu-max-unreadable",
        "cpu-max-garbled",
        "zero-period",
        "v1-period-missing",
        "v1-period-empty",
        "v1-controller-not-mounted",
    ],
)
def test_what_cannot_be_read_leaves_affinity_alone(
    tmp_path: Path, proc_self_cgroup: str | None, files: dict[str, str]
) -> None:
    chosen = build(tmp_path, proc_self_cgroup, files)
    assert chosen == Concurrency(processes=8, affinity=8, quota=None)
    assert chosen.limited_by == "cpu affinity"


def test_an_unreadable_level_still_lets_its_parent_limit(tmp_path: Path) -> None:
    files = {f"{V2_LEAF}/cpu.max": "<directory>", "kubepods/cpu.max": "200000 100000\n"}
    assert build(tmp_path, V2_SELF, files).processes == 2
