"""How the project is installed: torch from its one pin, every other package from hashed locks.

These read files only (no pip, no network). requirements/torch.txt is the one place torch's
version is written, and both `make install` and the Dockerfile install torch from it; the locks
(requirements/main.txt for the image, requirements/dev.txt for `make install`) pin every other
package with hashes, leave torch out, and hold all that pyproject.toml's dependencies reach
(read through the installed packages' metadata, since the locks are installed with --no-deps).
"""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.support.dockerfile import dockerfile_stages, stage_index

ROOT = Path(__file__).resolve().parents[1]
TORCH_PIN = "requirements/torch.txt"
MAIN_LOCK = "requirements/main.txt"
DEV_LOCK = "requirements/dev.txt"
# Files that name how to build or install: none may carry torch's version but its pin.
INSTALL_FILES = ("pyproject.toml", "Makefile", "Dockerfile", ".ci/run", "docker-compose.yml")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")
# torch's CUDA build brings these; the CPU build must be what the locks were resolved against.
CUDA_ONLY = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(path: Path) -> list[str]:
    """A requirements file's lines with continuations joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        if (pending + line).strip():
            lines.append((pending + line).strip())
        pending = ""
    assert not pending, f"{path.name} ends in a continuation"
    return lines


def read_lock(relative: str) -> dict[str, str]:
    """{canonical name: version} of a lock, asserting each line is `name==version --hash=...`."""
    pins: dict[str, str] = {}
    for line in logical_lines(ROOT / relative):
        requirement, *options = line.split()
        match = PIN.match(requirement)
        assert match, f"{relative}: {requirement!r} is not pinned with =="
        assert options, f"{relative}: {requirement} has no --hash"
        for option in options:
            assert HASH.match(option), f"{relative}: {requirement}: {option!r} is not a sha256 hash"
        name = canonical(match["name"])
        assert name not in pins, f"{relative}: {name} twice"
        pins[name] = match["version"]
    return pins


def torch_version() -> str:
    lines = logical_lines(ROOT / TORCH_PIN)
    assert len(lines) == 1, f"{TORCH_PIN} should pin torch alone: {lines}"
    match = PIN.match(lines[0])
    assert match and canonical(match["name"]) == "torch", lines[0]
    return match["version"]


def pyproject_requirements() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(text) for text in project["dependencies"]]
    dev = [Requirement(text) for text in project["optional-dependencies"]["dev"]]
    return runtime, dev


def reachable(requirements: list[Requirement]) -> dict[str, str]:
    """{name: the package it was reached from} for every package these requirements reach here,
    extras included, stopping at torch (installed from its pin, with its own dependencies)."""
    found: dict[str, str] = {}
    queue = [(req, "pyproject.toml") for req in requirements]
    expanded: set[tuple[str, frozenset[str]]] = set()
    while queue:
        req, parent = queue.pop()
        name = canonical(req.name)
        found.setdefault(name, parent)
        key = (name, frozenset(req.extras))
        if name == "torch" or key in expanded:
            continue
        expanded.add(key)
        try:
            requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} is not installed here: run `make install`")
        for text in requires:
            child = Requirement(text)
            extras = {"", *req.extras}
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                queue.append((child, name))
    return found


# --- the pin ------------------------------------------------------------------------------------


def test_torch_is_pinned_exactly_in_its_own_file() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", torch_version())


@pytest.mark.parametrize("relative", [*INSTALL_FILES, ".dockerignore", MAIN_LOCK, DEV_LOCK])
def test_torch_version_is_written_only_in_its_pin(relative: str) -> None:
    text = (ROOT / relative).read_text(encoding="utf-8")
    if relative in (MAIN_LOCK, DEV_LOCK):
        # Another package may share the version number: the locks must only not name torch.
        assert "torch" not in read_lock(relative)
        return
    version = re.escape(torch_version())
    assert not re.search(rf"(?<![\w.]){version}(?![\w.])", text), (
        f"{relative} names torch's version"
    )
    assert not re.search(r"\btorch\s*==", text), f"{relative} pins torch itself"


# --- the locks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("relative", [MAIN_LOCK, DEV_LOCK])
def test_lock_pins_every_package_with_hashes_and_without_torch(relative: str) -> None:
    pins = read_lock(relative)
    assert len(pins) > 20
    assert "torch" not in pins
    assert not [name for name in pins if CUDA_ONLY.match(name)], "locked against a CUDA torch"
    assert "make lock" in (ROOT / relative).read_text(encoding="utf-8"), "says how to regenerate"


def test_dev_lock_holds_the_runtime_lock_at_the_same_versions() -> None:
    main, dev = read_lock(MAIN_LOCK), read_lock(DEV_LOCK)
    assert {name: dev.get(name) for name in main} == main


def test_locks_hold_every_dependency_pyproject_names() -> None:
    runtime, dev = pyproject_requirements()
    main_lock, dev_lock = read_lock(MAIN_LOCK), read_lock(DEV_LOCK)
    runtime_names = {canonical(req.name) for req in runtime}
    dev_names = {canonical(req.name) for req in dev}
    assert "torch" in runtime_names
    assert runtime_names - {"torch"} - main_lock.keys() == set()
    assert (runtime_names | dev_names) - {"torch"} - dev_lock.keys() == set()


@pytest.mark.parametrize(("relative", "with_dev"), [(MAIN_LOCK, False), (DEV_LOCK, True)])
def test_locks_hold_all_that_pyproject_reaches(relative: str, with_dev: bool) -> None:
    """Extras and dependencies of dependencies too: the locks are installed with --no-deps."""
    runtime, dev = pyproject_requirements()
    pins = read_lock(relative)
    missing = {
        name: parent
        for name, parent in reachable([*runtime, *(dev if with_dev else [])]).items()
        if name != "torch" and name not in pins
    }
    assert missing == {}, f"{relative} lacks these (name: reached from); run `make lock`"


# --- the Makefile -------------------------------------------------------------------------------


def makefile() -> dict[str, tuple[list[str], list[str]]]:
    """{target: (prerequisites, recipe lines)}, with the Makefile's variables expanded."""
    variables: dict[str, str] = {}
    raw_rules: list[tuple[str, str, list[str]]] = []
    recipe: list[str] | None = None
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith("\t"):
            if recipe is not None:
                recipe.append(line.strip())
            continue
        recipe = None
        assignment = re.match(r"^(\w+)\s*(\?=|:=|=)\s*(.*)$", line)
        if assignment:
            variables.setdefault(assignment[1], assignment[3].strip())
            continue
        rule = re.match(r"^([^\s#:=][^:=]*):(?!=)(.*)$", line)
        if rule:
            recipe = []
            raw_rules.append((rule[1].strip(), rule[2].split("##", 1)[0], recipe))

    def expand(value: str) -> str:
        for _ in range(10):
            value = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m[1], m[0]), value)
        return value

    return {
        expand(target): (expand(prerequisites).split(), [expand(line) for line in lines])
        for target, prerequisites, lines in raw_rules
    }


def pip_installs(commands: list[str]) -> list[list[str]]:
    """The arguments after `pip install` of each pip install in these shell commands."""
    installs = []
    for command in commands:
        for segment in re.split(r"&&|\|\||;|\bthen\b|\belse\b", command):
            words = shlex.split(segment)
            for i in range(len(words) - 1):
                if words[i].endswith("pip") and words[i + 1] == "install":
                    installs.append(words[i + 2 :])
    return installs


def test_make_install_installs_torch_then_the_dev_lock_then_the_project() -> None:
    rules = makefile()
    (stamp,) = rules["install"][0]
    prerequisites, recipe = rules[stamp]
    assert {"pyproject.toml", TORCH_PIN, MAIN_LOCK, DEV_LOCK} <= set(prerequisites)
    installs = [args for args in pip_installs(recipe) if args != ["--quiet", "--upgrade", "pip"]]
    assert len(installs) == 3, installs
    torch, lock, project = ([a for a in args if a != "--quiet"] for args in installs)
    assert torch == ["-r", TORCH_PIN]
    assert set(lock) == {"--require-hashes", "--no-deps", "-r", DEV_LOCK}
    assert lock[lock.index("-r") + 1] == DEV_LOCK
    assert project == ["--no-deps", "-e", "."]
    assert any(line.endswith("pip check") for line in recipe)


def test_make_lock_regenerates_both_locks_without_torch() -> None:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^lock:.*## \S", text, re.MULTILINE), "`make help` lists `make lock`"
    recipe = " ".join(makefile()["lock"][1])
    for expected in ("--generate-hashes", "--unsafe-package torch", f"-c {TORCH_PIN}"):
        assert expected in recipe
    assert f"--output-file {MAIN_LOCK}" in recipe and f"--output-file {DEV_LOCK}" in recipe


# --- the Dockerfile -----------------------------------------------------------------------------


def builder_stage() -> list[tuple[str, str]]:
    """The builder stage's (INSTRUCTION, arguments), continuations joined, comments dropped."""
    stages = dockerfile_stages()
    instructions: list[tuple[str, str]] = stages[stage_index(stages, "builder")]["instructions"]
    return instructions


def test_image_installs_torch_then_the_runtime_lock_then_the_project() -> None:
    instructions = builder_stage()
    order: list[str] = []
    copied: set[str] = set()
    for keyword, rest in instructions:
        if keyword == "COPY":
            copied.update(rest.split()[:-1])
            continue
        if keyword != "RUN":
            continue
        for args in pip_installs([rest]):
            if "-r" in args and args[args.index("-r") + 1] == TORCH_PIN:
                assert TORCH_PIN in copied
                assert set(args) <= {"-r", TORCH_PIN, "--index-url", "$TORCH_INDEX_URL"}, args
                order.append("torch")
            elif "-r" in args and args[args.index("-r") + 1] == MAIN_LOCK:
                assert MAIN_LOCK in copied
                assert {"--require-hashes", "--no-deps"} <= set(args), args
                order.append("lock")
            else:
                assert args == ["--no-deps", "."], f"an unlocked install in the image: {args}"
                order.append("project")
    # torch twice: from TORCH_INDEX_URL, or from pip's default index when that is empty.
    assert order == ["torch", "torch", "lock", "project"], order


def test_build_context_lets_the_pin_and_the_lock_in() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for relative in (TORCH_PIN, MAIN_LOCK):
        assert f"!{relative}" in lines or "!requirements" in lines, relative
