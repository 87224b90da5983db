"""The Dockerfile read as data, for the tests that check it without a Docker engine: its
instructions, its stages, and what a stage inherits through `FROM <earlier stage>`."""

from __future__ import annotations

import json
import shlex
from typing import Any

from tests.support.paths import REPO

DOCKERFILE = REPO / "Dockerfile"

Stage = dict[str, Any]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def dockerfile_stages() -> list[Stage]:
    stages: list[Stage] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append({"base": words[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, rest))
    return stages


def stage_chain(stages: list[Stage], index: int) -> list[Stage]:
    """The stage and the earlier stages it is built FROM, outermost (external image) first."""
    chain = [stages[index]]
    names = {stage["name"]: stage for stage in stages[:index] if stage["name"]}
    while chain[0]["base"] in names:
        parent = names[chain[0]["base"]]
        chain.insert(0, parent)
        names = {s["name"]: s for s in stages[: stages.index(parent)] if s["name"]}
    return chain


def effective(stages: list[Stage], index: int, keyword: str) -> str | None:
    """The last value of KEYWORD in force for a stage, inherited through FROM <stage>."""
    value = None
    for stage in stage_chain(stages, index):
        for found, rest in stage["instructions"]:
            if found == keyword:
                value = rest
    return value


def chain_instructions(stages: list[Stage], index: int) -> list[tuple[str, str]]:
    return [pair for stage in stage_chain(stages, index) for pair in stage["instructions"]]


def stage_index(stages: list[Stage], name: str | None) -> int:
    """The stage called NAME; None is the last stage, what a plain `docker build .` makes."""
    if name is None:
        return len(stages) - 1
    return next(i for i, stage in enumerate(stages) if stage["name"] == name)


def image_entrypoint(target: str | None) -> list[str]:
    stages = dockerfile_stages()
    value = effective(stages, stage_index(stages, target), "ENTRYPOINT")
    return json.loads(value) if value else []


def stage_args(stage: Stage) -> dict[str, str]:
    """The stage's own `ARG NAME=default` declarations (an ARG without one maps to "")."""
    declared: dict[str, str] = {}
    for keyword, rest in stage["instructions"]:
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            declared[name] = default
    return declared


def stage_labels(stage: Stage) -> dict[str, str]:
    """The stage's own LABEL key="value" pairs, quotes removed, ${ARG} left as written."""
    labels: dict[str, str] = {}
    for keyword, rest in stage["instructions"]:
        if keyword == "LABEL":
            lexer = shlex.shlex(rest, posix=True)
            lexer.whitespace_split = True
            for pair in lexer:
                key, _, value = pair.partition("=")
                labels[key] = value
    return labels
