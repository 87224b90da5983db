"""docker-compose.yml and Dockerfile: valid Compose, the issues' shape, only real CLI commands.

No Docker engine runs in CI, so these read the files: the Compose Specification schema (a copy in
tests/data), the structure operations rely on (start order, scaling, one beat), and every
`moderation ...` argv checked against the click group that will receive it.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from tests.support.dockerfile import (
    chain_instructions,
    dockerfile_stages,
    effective,
    image_entrypoint,
    stage_index,
)

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).resolve().parent / "data" / "compose-spec.json"

APP_SERVICES = ("migrate", "api", "worker", "beat")
ROOT_USERS = {"", "root", "0"}
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def argv(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def healthcheck_text(service: dict[str, Any]) -> str:
    return " ".join(argv(service.get("healthcheck", {}).get("test")))


def option_value(args: list[str], flag: str) -> str | None:
    for index, token in enumerate(args):
        if token == flag and index + 1 < len(args):
            return args[index + 1]
        if token.startswith(f"{flag}="):
            return token.split("=", 1)[1]
    return None


def compose_build_targets() -> list[str]:
    services = load_compose()["services"]
    return sorted(
        {svc["build"]["target"] for svc in services.values() if "target" in svc.get("build", {})}
    )


# --- every `moderation ...` the containers run -------------------------------------------------


def moderation_argvs() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for name, service in load_compose()["services"].items():
        if "build" not in service:
            continue
        entrypoint = service.get("entrypoint")
        if entrypoint is None:
            entrypoint = image_entrypoint(service["build"].get("target"))
        full = argv(entrypoint) + argv(service.get("command"))
        if full and full[0] == "moderation":
            found.append((f"compose:{name}", full[1:]))

    stages = dockerfile_stages()
    for index, stage in enumerate(stages):
        label = stage["name"] or str(index)
        for keyword, rest in stage["instructions"]:
            if keyword == "RUN":
                for part in re.split(r"&&|;|\|\|", rest):
                    words = shlex.split(part)
                    if words and words[0] == "moderation":
                        found.append((f"Dockerfile:{label}:RUN", words[1:]))
            elif keyword == "CMD" and effective(stages, index, "ENTRYPOINT") == '["moderation"]':
                found.append((f"Dockerfile:{label}:CMD", json.loads(rest)))
    return found


MODERATION_ARGVS = moderation_argvs()


@pytest.fixture(scope="module")
def cli_main() -> click.Group:
    return importlib.import_module("workers.cli.main").main


def resolve(group: click.Group, args: list[str]) -> tuple[list[str], click.Command, list[str]]:
    ctx = click.Context(group)
    command: click.Command = group
    path: list[str] = []
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"`moderation {' '.join([*path, rest[0]])}` is not a command"
        path.append(rest.pop(0))
        command = sub
    return path, command, rest


def test_moderation_commands_were_found() -> None:
    origins = {origin for origin, _ in MODERATION_ARGVS}
    expected = {f"compose:{name}" for name in APP_SERVICES} | {"Dockerfile:models:RUN"}
    assert expected <= origins


@pytest.mark.parametrize(
    ("origin", "args"), MODERATION_ARGVS, ids=[origin for origin, _ in MODERATION_ARGVS]
)
def test_moderation_command_exists_in_cli(
    cli_main: click.Group, origin: str, args: list[str]
) -> None:
    path, command, rest = resolve(cli_main, args)
    assert not isinstance(command, click.Group), f"{origin}: `{' '.join(args)}` names a group"

    result = CliRunner().invoke(cli_main, [*path, "--help"])
    assert result.exit_code == 0, (origin, result.output, result.exception)

    options = {opt: p for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    positionals: list[str] = []
    tokens = iter(rest)
    for token in tokens:
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0]
            assert name in options, f"{origin}: `moderation {' '.join(path)}` has no {name}"
            param = options[name]
            takes_value = not (isinstance(param, click.Option) and (param.is_flag or param.count))
            if takes_value and "=" not in token:
                next(tokens, None)
        else:
            positionals.append(token)
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if any(p.nargs == -1 for p in arguments):
        return
    assert len(positionals) <= sum(p.nargs for p in arguments), (origin, positionals)


# --- compose: schema --------------------------------------------------------------------------


def compose_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_compose_file_matches_the_compose_specification() -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in compose_validator().iter_errors(load_compose())
    ]
    assert errors == []


def test_schema_rejects_a_broken_compose_file() -> None:
    # `restart: no` unquoted is YAML's false, which Compose refuses: the schema must catch it.
    broken = copy.deepcopy(load_compose())
    broken["services"]["migrate"]["restart"] = False
    assert not compose_validator().is_valid(broken)


# --- compose: structure -----------------------------------------------------------------------


def test_redis_persists_queued_tasks_and_never_evicts() -> None:
    redis = load_compose()["services"]["redis"]
    command = argv(redis["command"])
    assert option_value(command, "--appendonly") == "yes"
    assert option_value(command, "--appendfsync") == "everysec"
    assert option_value(command, "--maxmemory-policy") == "noeviction"
    # noeviction acts only at maxmemory: below the container's limit, or Redis is killed first.
    maxmemory = option_value(command, "--maxmemory")
    assert maxmemory is not None
    assert memory_bytes(maxmemory) < memory_limit(redis)
    assert "redis-cli ping" in healthcheck_text(redis)
    assert any(str(v).endswith(":/data") for v in redis["volumes"])


def test_postgres_has_a_volume_and_a_healthcheck() -> None:
    compose = load_compose()
    postgres = compose["services"]["postgres"]
    assert "pg_isready" in healthcheck_text(postgres)
    named = {str(v).split(":", 1)[0] for v in postgres["volumes"]}
    assert named & set(compose["volumes"])


def test_migrate_runs_once_after_postgres_is_healthy() -> None:
    migrate = load_compose()["services"]["migrate"]
    assert argv(migrate["command"]) == ["migrate"]
    assert migrate["restart"] == "no"
    assert depends_on(migrate)["postgres"] == "service_healthy"


@pytest.mark.parametrize("name", ["api", "worker", "beat"])
def test_processes_wait_for_migrations_and_redis(name: str) -> None:
    deps = depends_on(load_compose()["services"][name])
    assert deps["migrate"] == "service_completed_successfully"
    assert deps["redis"] == "service_healthy"


def test_api_listens_on_all_interfaces_and_checks_readiness_with_python() -> None:
    api = load_compose()["services"]["api"]
    command = argv(api["command"])
    assert command[0] == "api"
    assert option_value(command, "--host") == "0.0.0.0"
    assert option_value(command, "--port") == "8000"
    check = healthcheck_text(api)
    assert "python" in check
    assert "http://127.0.0.1:8000/readyz" in check


def test_worker_can_be_scaled() -> None:
    worker = load_compose()["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker, "a published host port makes `--scale worker=N` collide"
    assert option_value(argv(worker["command"]), "--metrics-port") == "9100"


def test_exactly_one_beat() -> None:
    beat = load_compose()["services"]["beat"]
    assert argv(beat["command"]) == ["beat"]
    assert beat["deploy"]["replicas"] == 1
    assert "scale" not in beat


def test_flower_is_optional() -> None:
    services = load_compose()["services"]
    flower = services["flower"]
    assert "flower" in flower["profiles"]
    assert argv(flower["entrypoint"])[:3] == ["celery", "--app", "workers.celery_app:app"]
    assert "flower" in argv(flower["entrypoint"]) + argv(flower.get("command"))
    for name, service in services.items():
        if "profiles" not in service:
            assert "flower" not in depends_on(service), name


def test_start_order_follows_healthchecks() -> None:
    services = load_compose()["services"]
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            assert condition != "service_started", f"{name} starts before {dependency} is ready"
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], dependency


def test_app_services_share_one_environment() -> None:
    services = load_compose()["services"]
    envs = [services[name]["environment"] for name in (*APP_SERVICES, "flower")]
    assert all(env == envs[0] for env in envs)
    env = envs[0]
    assert env["MODERATION_DATABASE_URL"] == (
        "postgresql+psycopg://moderation:moderation@postgres:5432/moderation"
    )
    assert env["MODERATION_REDIS_URL"] == "redis://redis:6379/0"
    # Any one key source may be the one: none is forced, every one reaches the processes.
    for name in (
        "MODERATION_JWT_PUBLIC_KEY",
        "MODERATION_JWKS_URL",
        "MODERATION_JWT_ISSUER",
        "MODERATION_JWT_AUDIENCE",
    ):
        assert env[name] == f"${{{name}:-}}", name
    assert env["MODERATION_WEBHOOK_URL"] == "${MODERATION_WEBHOOK_URL:-}"
    # Off unless the operator turns it on (the documented Flower command does).
    assert env["MODERATION_WORKER_EVENTS"] == "${MODERATION_WORKER_EVENTS:-false}"


SECRETS = {"jwt_secret": "MODERATION_JWT_SECRET", "webhook_secret": "MODERATION_WEBHOOK_SECRET"}


def test_secrets_are_files_never_variables() -> None:
    """Each secret is a compose secret mounted at /run/secrets/<name> in every service whose
    environment names it (settings read `MODERATION_<NAME>_FILE`), and no variable carries one."""
    compose = load_compose()
    declared = compose["secrets"]
    assert set(declared) == set(SECRETS)
    for name in SECRETS:
        assert declared[name]["file"] == f"./secrets/{name}"
    for service_name, service in compose["services"].items():
        env = service.get("environment", {})
        for secret, variable in SECRETS.items():
            assert variable not in env, (service_name, variable)
            if f"{variable}_FILE" in env:
                assert env[f"{variable}_FILE"] == f"/run/secrets/{secret}"
                assert secret in service["secrets"], (service_name, secret)
    assert (ROOT / ".gitignore").read_text(encoding="utf-8").count("/secrets/") == 1


def memory_bytes(value: str | int) -> int:
    """A compose byte value (`1280m`, `1g`; binary units, as Docker reads them)."""
    match = re.fullmatch(r"(\d+)([bkmg]?)b?", str(value).lower())
    assert match, value
    return int(match[1]) * 1024 ** " kmg".index(match[2] or " ")


def memory_limit(service: dict[str, Any]) -> int:
    return memory_bytes(service["deploy"]["resources"]["limits"]["memory"])


def kubernetes_limits() -> dict[tuple[str, str], int]:
    """Each container's memory limit in the Kubernetes base, by (component, container)."""
    limits: dict[tuple[str, str], int] = {}
    for path in (ROOT / "deploy" / "kubernetes" / "base").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc or doc.get("kind") not in {"Deployment", "Job"}:
                continue
            component = doc["metadata"]["labels"]["app.kubernetes.io/component"]
            spec = doc["spec"]["template"]["spec"]
            for container in [*spec.get("initContainers", []), *spec["containers"]]:
                quantity = container["resources"]["limits"]["memory"]
                assert quantity.endswith("Mi"), quantity
                limits[component, container["name"]] = int(quantity[:-2]) * 1024**2
    return limits


def test_every_service_has_a_memory_limit() -> None:
    for name, service in load_compose()["services"].items():
        assert memory_limit(service) > 0, name


@pytest.mark.parametrize("name", ["migrate", "api", "worker", "worker-analyze", "beat"])
def test_memory_limits_are_the_kubernetes_ones(name: str) -> None:
    """One set of measured figures: a container of the stack is limited as its pod is, and runs
    as many scoring processes as the pod (the limit is sized for them)."""
    service = load_compose()["services"][name]
    limits = kubernetes_limits()
    assert memory_limit(service) == limits[name, name]
    if name.startswith("worker"):
        assert option_value(argv(service["command"]), "--concurrency") == "1"
        manifest = ROOT / "deploy" / "kubernetes" / "base" / f"{name}.yaml"
        deployment = next(yaml.safe_load_all(manifest.read_text(encoding="utf-8")))
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert option_value(container["args"], "--concurrency") == "1"


PROBE_APP = "workers.celery_app:app"


def worker_probe(service: dict[str, Any]) -> str:
    kind, command = service["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    return str(command)


@pytest.mark.parametrize("name", ["worker", "worker-analyze"])
def test_workers_are_checked_by_pinging_their_own_celery_node(name: str) -> None:
    command = shlex.split(worker_probe(load_compose()["services"][name]))
    assert command[:5] == ["celery", "--app", PROBE_APP, "inspect", "ping"]
    # `$$` is compose's escape: the container's shell sees $HOSTNAME, its own node name.
    assert option_value(command, "--destination") == "celery@$$HOSTNAME"
    assert option_value(command, "--timeout")


@pytest.mark.parametrize("name", ["migrate", "beat"])
def test_services_without_http_turn_the_image_healthcheck_off(name: str) -> None:
    assert load_compose()["services"][name]["healthcheck"] == {"disable": True}


def test_model_paths_point_into_the_baked_variant() -> None:
    env = load_compose()["services"]["worker"]["environment"]
    stages = dockerfile_stages()
    models = stages[stage_index(stages, "models")]
    assert ("ARG", "MODERATION_VARIANT=unbiased") in models["instructions"]
    assert env["MODERATION_MODEL"] == "unbiased"
    assert env["MODERATION_MODEL_CONFIG"] == "/models/unbiased/config"


def test_third_party_images_are_pinned() -> None:
    for name, service in load_compose()["services"].items():
        if "build" in service:
            continue
        repository, _, tag = service["image"].rpartition(":")
        assert repository and "/" not in tag and tag != "latest", (name, service["image"])


# --- the images compose builds -----------------------------------------------------------------


@pytest.mark.parametrize("target", [None, *compose_build_targets()])
def test_images_run_as_the_unprivileged_numeric_user(target: str | None) -> None:
    stages = dockerfile_stages()
    index = stage_index(stages, target)
    user = effective(stages, index, "USER")
    assert user is not None
    assert user.split(":", 1)[0] not in ROOT_USERS
    assert user == "10001:10001"
    runs = " ".join(rest for keyword, rest in chain_instructions(stages, index) if keyword == "RUN")
    assert "--uid 10001" in runs
    assert "--gid 10001" in runs


def test_torch_comes_from_the_cpu_wheel_index_by_default() -> None:
    stages = dockerfile_stages()
    builder = stages[stage_index(stages, "builder")]
    assert ("ARG", f"TORCH_INDEX_URL={CPU_TORCH_INDEX}") in builder["instructions"]
    assert any(
        keyword == "RUN" and '--index-url "$TORCH_INDEX_URL"' in rest
        for keyword, rest in builder["instructions"]
    )
    # Compose passes the argument explicitly, so its own default must be the CPU index too.
    for name, service in load_compose()["services"].items():
        if "build" in service:
            args = service["build"]["args"]
            assert args["TORCH_INDEX_URL"] == f"${{TORCH_INDEX_URL:-{CPU_TORCH_INDEX}}}", name


def test_compose_build_targets_are_dockerfile_stages() -> None:
    names = {stage["name"] for stage in dockerfile_stages()}
    assert set(compose_build_targets()) <= names
    flower = dockerfile_stages()[stage_index(dockerfile_stages(), "flower")]
    assert any(k == "RUN" and "flower==" in rest for k, rest in flower["instructions"])
