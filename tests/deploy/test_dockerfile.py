"""The Dockerfile, read as data (no Docker engine runs here): pinned bases, a numeric
unprivileged user, a HEALTHCHECK each served image can answer, OCI labels that agree with
pyproject.toml, and no secret in a layer. tests/test_compose.py checks it against compose."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest

from tests.support.dockerfile import (
    chain_instructions,
    dockerfile_instructions,
    dockerfile_stages,
    effective,
    image_entrypoint,
    stage_args,
    stage_index,
    stage_labels,
)
from tests.support.paths import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
OCI = "org.opencontainers.image."
OCI_LABELS = ("title", "description", "source", "version", "revision", "licenses")
# The images a container runs: the service image (the last stage) and Flower's.
IMAGES = (None, "flower")
USER = "10001:10001"


def test_dockerfile_is_multi_stage_on_pinned_images() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    names: set[str] = set()
    for stage in stages:
        base = stage["base"]
        if base not in names:
            repository, _, tag = base.split("@", 1)[0].rpartition(":")
            assert "@sha256:" in base or (repository and "/" not in tag), f"{base} has no tag"
            assert tag != "latest", base
        if stage["name"]:
            names.add(stage["name"])


@pytest.mark.parametrize("target", IMAGES)
def test_images_run_as_a_numeric_unprivileged_user_the_image_creates(target: str | None) -> None:
    """Numeric, so Kubernetes' runAsNonRoot can check it; the uid and gid groupadd/useradd
    give, so the home directory is the user's."""
    stages = dockerfile_stages()
    index = stage_index(stages, target)
    assert effective(stages, index, "USER") == USER
    uid, gid = USER.split(":")
    runs = " ".join(rest for keyword, rest in chain_instructions(stages, index) if keyword == "RUN")
    assert f"groupadd --system --gid {gid}" in runs
    assert f"useradd --system --uid {uid} --gid" in runs


def healthcheck_url(target: str | None) -> str:
    stages = dockerfile_stages()
    value = effective(stages, stage_index(stages, target), "HEALTHCHECK")
    assert value is not None, f"{target or 'the service image'} has no HEALTHCHECK"
    options, _, command = value.partition("CMD ")
    assert "--timeout=" in options and "--interval=" in options
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"], "the slim image has no curl"
    found = re.search(r"urlopen\('([^']+)', timeout=(\d+)\)", argv[2])
    docker_timeout = re.search(r"--timeout=(\d+)s", options)
    assert found and docker_timeout, value
    assert int(found[2]) < int(docker_timeout[1]), "urlopen gives up before Docker kills it"
    return found[1]


def test_the_service_image_checks_the_apis_liveness() -> None:
    stages = dockerfile_stages()
    cmd = json.loads(effective(stages, stage_index(stages, None), "CMD") or "[]")
    port = cmd[cmd.index("--port") + 1]
    assert healthcheck_url(None) == f"http://127.0.0.1:{port}/healthz"


def test_the_flower_image_checks_flowers_own_healthcheck() -> None:
    stages = dockerfile_stages()
    cmd = json.loads(effective(stages, stage_index(stages, "flower"), "CMD") or "[]")
    assert cmd == ["--port=5555"]
    assert healthcheck_url("flower") == "http://127.0.0.1:5555/healthcheck"


def labels_of(target: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The OCI labels a stage sets (prefix removed) and the ARGs it declares."""
    stage = dockerfile_stages()[stage_index(dockerfile_stages(), target)]
    labels = {k.removeprefix(OCI): v for k, v in stage_labels(stage).items() if k.startswith(OCI)}
    return labels, stage_args(stage)


@pytest.mark.parametrize("target", IMAGES)
def test_images_carry_the_oci_labels(target: str | None) -> None:
    labels, args = labels_of(target)
    assert set(labels) >= set(OCI_LABELS)
    assert labels["licenses"] == PROJECT["license"]
    # Build arguments, so a build names its own version, commit and repository.
    for label, arg in (("version", "VERSION"), ("revision", "REVISION"), ("source", "SOURCE_URL")):
        assert labels[label] == f"${{{arg}}}", label
        assert arg in args, arg
    assert args["VERSION"] == PROJECT["version"]
    assert labels["title"].startswith(PROJECT["name"])


def test_the_service_image_describes_itself_as_the_project_does() -> None:
    labels, _ = labels_of(None)
    assert labels["title"] == PROJECT["name"]
    assert labels["description"] == PROJECT["description"]


@pytest.mark.parametrize("target", IMAGES)
def test_labels_come_after_every_layer(target: str | None) -> None:
    """A new revision changes the labels' ARGs; declared after the last RUN or COPY, they
    invalidate no layer's cache."""
    stage = dockerfile_stages()[stage_index(dockerfile_stages(), target)]
    keywords = [keyword for keyword, _ in stage["instructions"]]
    first_arg = min(
        i
        for i, (keyword, rest) in enumerate(stage["instructions"])
        if keyword == "ARG" and rest.split("=")[0] in {"VERSION", "REVISION", "SOURCE_URL"}
    )
    assert not {"RUN", "COPY", "ADD"} & set(keywords[first_arg:])


def test_flower_is_the_version_the_dev_extra_pins() -> None:
    """One Flower: the one the tests run (pyproject.toml's dev extra, locked) is the image's."""
    stage = dockerfile_stages()[stage_index(dockerfile_stages(), "flower")]
    pins = [dep for dep in PROJECT["optional-dependencies"]["dev"] if dep.startswith("flower")]
    assert pins == [f"flower=={stage_args(stage)['FLOWER_VERSION']}"]
    lock = (REPO / "requirements" / "dev.txt").read_text(encoding="utf-8")
    assert f"\n{pins[0]} \\" in lock


def test_service_image_runs_offline_with_the_moderation_entrypoint() -> None:
    stages = dockerfile_stages()
    index = stage_index(stages, None)
    assert image_entrypoint(None) == ["moderation"]
    assert effective(stages, index, "STOPSIGNAL") == "SIGTERM"
    assert set((effective(stages, index, "EXPOSE") or "").split()) >= {"8000", "9100"}
    instructions = chain_instructions(stages, index)
    env = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    for setting in ("HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "TOKENIZERS_PARALLELISM=false"):
        assert setting in env
    assert ("COPY", "--from=models /models /models") in instructions


def test_no_secrets_are_baked_into_layers() -> None:
    secretish = re.compile(r"SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|(^|_)TOKEN($|_)")
    for keyword, rest in dockerfile_instructions():
        if keyword in {"ARG", "ENV"}:
            for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", rest):
                assert not secretish.search(name.upper()), f"{keyword} {name}"


def test_the_label_parser_reads_quoted_values() -> None:
    stage: dict[str, Any] = {
        "instructions": [("LABEL", 'a.b="it\'s one" c="${X}" d=plain'), ("ARG", "X=1")]
    }
    assert stage_labels(stage) == {"a.b": "it's one", "c": "${X}", "d": "plain"}
    assert stage_args(stage) == {"X": "1"}
