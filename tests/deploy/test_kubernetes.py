"""deploy/kubernetes: the kustomize base and the example overlay render, every object is valid
against the Kubernetes schemas (KEDA's ScaledObject against its CRD), and the manifests keep
the promises docs/kubernetes.md makes: probes, one beat, the migration Job named after the tag,
the policy mounted as a directory, secrets only from a Secret, memory from the measured peaks,
non-root and read-only pods, /metrics kept in the cluster, no Flower.

No cluster runs here: `kubectl kustomize` (Debian's kubectl, kustomize v5) renders each
kustomization once per module, and the checks read the rendered objects.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.support.ci import unavailable
from tests.support.paths import REPO
from tests.support.probe import worker_probe_command
from workers.cli.main import main as moderation_cli

KUSTOMIZE = REPO / "deploy" / "kubernetes"
KUSTOMIZATIONS = ("base", "overlays/example")
KEDA_CRD = REPO / "tests" / "data" / "keda" / "keda.sh_scaledobjects.yaml"
# The oldest Kubernetes the manifests are written for, and the newest schemas the package has.
KUBERNETES_VERSIONS = ("1.29", kubernetes_validate.latest_version())
SECRET_NAME = "moderation-secrets"
POLICY_CONFIGMAP = "moderation-policy"
# docs/performance.md's "Memory per worker container": the Celery parent beside its children.
CELERY_PARENT_MB = 150
# The exec probe's interpreter while it runs (`celery inspect ping`, docs/operating.md "Probes").
PROBE_MB = 100
MIB = 1024 * 1024
MB = 1000 * 1000


def render(kustomization: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        unavailable("kubectl (Debian's kubectl package)")
    result = subprocess.run(
        [kubectl, "kustomize", str(KUSTOMIZE / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


# --- reading the rendered objects --------------------------------------------------------------


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def workloads(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Deployments and Jobs by name: everything that runs a pod."""
    return {**of_kind(objects, "Deployment"), **of_kind(objects, "Job")}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def component(workload: dict[str, Any]) -> str:
    label: str = workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
    return label


def by_component(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {component(w): w for w in workloads(objects).values()}


def settings_env(objects: list[dict[str, Any]]) -> dict[str, str]:
    """The settings ConfigMap every pod reads (its name carries kustomize's hash suffix)."""
    (api,) = [w for w in workloads(objects).values() if component(w) == "api"]
    names = {
        source["configMapRef"]["name"]
        for container in containers(api)
        for source in container["envFrom"]
        if "configMapRef" in source
    }
    (name,) = names
    data: dict[str, str] = of_kind(objects, "ConfigMap")[name]["data"]
    return data


def memory_bytes(quantity: str) -> int:
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|K|M|G)?", quantity)
    assert match, quantity
    factor = {None: 1, "Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB, "K": 1000, "M": MB, "G": 1000 * MB}
    return int(match[1]) * factor[match[2]]


def option_value(args: list[str], flag: str) -> str | None:
    for index, token in enumerate(args):
        if token == flag and index + 1 < len(args):
            return args[index + 1]
    return None


def peak_rss_mb(variant: str) -> int:
    """The largest peak RSS docs/performance.md gives for a worker child holding VARIANT: the
    per-process table's peak column and both kernels' peaks in the AVX2 table."""
    peaks: list[int] = []
    for line in (REPO / "docs" / "performance.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if re.fullmatch(rf"`{re.escape(variant)}`( \(default\))?", cells[0]):
            peaks.append(int(re.sub(r"\D", "", cells[-1])))
        elif re.fullmatch(rf"{re.escape(variant)} \([\w-]+\)", cells[0]):
            peaks.extend(int(cell.split("/")[1]) for cell in cells[1:])
    assert peaks, f"docs/performance.md gives no peak RSS for {variant}"
    return max(peaks)


# --- schemas -----------------------------------------------------------------------------------


def closed(schema: Any) -> Any:
    """The CRD's schema with unknown fields refused: the API server would silently prune a
    misspelt field (`cooldownPriod`), so the test refuses it instead."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: closed(value) for key, value in schema.items()}
    if (
        "properties" in copy
        and "additionalProperties" not in copy
        and not copy.get("x-kubernetes-preserve-unknown-fields")
    ):
        copy["additionalProperties"] = False
    return copy


def keda_schema() -> dict[str, Any]:
    crd = yaml.safe_load(KEDA_CRD.read_text(encoding="utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema: dict[str, Any] = closed(version["schema"]["openAPIV3Schema"])
    return schema


def test_every_object_is_valid_kubernetes(objects: list[dict[str, Any]]) -> None:
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "PodDisruptionBudget", "Job", "NetworkPolicy"} <= kinds
    keda = keda_schema()
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["apiVersion"] == "keda.sh/v1alpha1":
            assert obj["kind"] == "ScaledObject", name
            jsonschema.Draft7Validator(keda).validate(obj)
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name} is not valid Kubernetes {version}: {exc.message}")


def test_the_keda_schema_refuses_a_broken_scaled_object(objects: list[dict[str, Any]]) -> None:
    """The vendored schema bites: a misspelt field and a trigger without metadata fail."""
    (scaled,) = of_kind(objects, "ScaledObject").values()
    validator = jsonschema.Draft7Validator(keda_schema())
    misspelt = {**scaled, "spec": {**scaled["spec"], "cooldownPriod": 300}}
    no_type = {**scaled, "spec": {**scaled["spec"], "triggers": [{"metadata": {}}]}}
    for broken in (misspelt, no_type):
        assert not validator.is_valid(broken)


# --- what runs ---------------------------------------------------------------------------------


def test_every_argv_is_a_real_moderation_command(objects: list[dict[str, Any]]) -> None:
    """The image's entrypoint is `moderation`, so each container's args go to the click group."""
    for workload in workloads(objects).values():
        for container in containers(workload):
            assert "command" not in container, container["name"]
            args = [str(arg) for arg in container["args"]]
            context = moderation_cli.make_context("moderation", list(args))
            name, command, rest = moderation_cli.resolve_command(context, args)
            assert isinstance(command, click.Command), args
            command.make_context(f"moderation {name}", rest, parent=context)


def test_one_image_and_the_migration_job_is_named_after_its_tag(
    objects: list[dict[str, Any]],
) -> None:
    images = {c["image"] for w in workloads(objects).values() for c in containers(w)}
    (image,) = images
    tag = image.rsplit(":", 1)[1]
    (job,) = of_kind(objects, "Job").values()
    assert job["metadata"]["name"] == f"moderation-migrate-{tag}"
    assert [c["args"] for c in containers(job)] == [["migrate"]]
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_every_long_running_pod_waits_for_the_schema_at_head(
    objects: list[dict[str, Any]],
) -> None:
    for name, deployment in of_kind(objects, "Deployment").items():
        (init,) = pod_spec(deployment)["initContainers"]
        args = init["args"]
        assert args[:2] == ["migrate", "--check"], name
        assert int(option_value(args, "--wait") or 0) > 0, name
        assert init["image"] == pod_spec(deployment)["containers"][0]["image"], name


def test_the_api_has_probes_a_service_and_a_disruption_budget(
    objects: list[dict[str, Any]],
) -> None:
    api = by_component(objects)["api"]
    (container,) = pod_spec(api)["containers"]
    port = option_value(container["args"], "--port")
    (declared,) = container["ports"]
    assert str(declared["containerPort"]) == port
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in (declared["name"], declared["containerPort"])
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    selector = api["spec"]["selector"]["matchLabels"]
    (service,) = of_kind(objects, "Service").values()
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == selector
    (budget,) = of_kind(objects, "PodDisruptionBudget").values()
    assert budget["spec"]["selector"]["matchLabels"] == selector
    assert 1 <= budget["spec"]["minAvailable"] < api["spec"]["replicas"]


def test_workers_analyze_workers_and_exactly_one_beat(objects: list[dict[str, Any]]) -> None:
    pods = by_component(objects)
    worker_args = pod_spec(pods["worker"])["containers"][0]["args"]
    assert option_value(worker_args, "--queues") is None  # every queue, `feedback` included
    analyze_args = pod_spec(pods["worker-analyze"])["containers"][0]["args"]
    assert option_value(analyze_args, "--queues") == "analyze"
    for name in ("worker", "worker-analyze"):
        (container,) = pod_spec(pods[name])["containers"]
        assert container["livenessProbe"]["httpGet"]["port"] == "metrics"
    beat = pods["beat"]
    assert pod_spec(beat)["containers"][0]["args"] == ["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    scaled = [
        o["spec"]["scaleTargetRef"]["name"]
        for o in objects
        if "scaleTargetRef" in o.get("spec", {})
    ]
    assert scaled == [pods["worker"]["metadata"]["name"]]


def test_workers_start_and_are_ready_by_celery_inspect_ping(
    objects: list[dict[str, Any]],
) -> None:
    """The compose healthcheck's command (tested against a real worker in tests/e2e), run by a
    shell for $HOSTNAME, the pod's name and so its Celery node's. Liveness stays the metrics
    port: a Redis outage would fail the ping in every pod at once."""
    probe = ["sh", "-c", worker_probe_command()]
    words = shlex.split(worker_probe_command())
    celery_timeout = float(words[words.index("--timeout") + 1])
    for name in ("worker", "worker-analyze"):
        (container,) = pod_spec(by_component(objects)[name])["containers"]
        assert "hostname" not in pod_spec(by_component(objects)[name])
        for kind in ("startupProbe", "readinessProbe"):
            assert container[kind]["exec"]["command"] == probe, (name, kind)
            # Celery's own --timeout ends it before the kubelet would.
            assert container[kind]["timeoutSeconds"] > celery_timeout, (name, kind)
        assert container["livenessProbe"]["httpGet"]["path"] == "/metrics"


def test_workers_scale_on_the_comment_backlog(objects: list[dict[str, Any]]) -> None:
    (scaled,) = of_kind(objects, "ScaledObject").values()
    spec = scaled["spec"]
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "prometheus"
    query = trigger["metadata"]["query"]
    # Comments, not messages; one figure however many API pods report it.
    assert re.fullmatch(r"max\(moderation_queued_comments\)", query), query
    assert int(trigger["metadata"]["threshold"]) > 0
    assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]


# --- policy and secrets ------------------------------------------------------------------------


def test_the_policy_is_a_configmap_mounted_as_a_directory(objects: list[dict[str, Any]]) -> None:
    policy = of_kind(objects, "ConfigMap")[POLICY_CONFIGMAP]
    path = Path(settings_env(objects)["MODERATION_POLICY"])
    assert path.name in policy["data"]
    assert policy["data"][path.name] == (REPO / "policy" / "standards-board.yaml").read_text(
        encoding="utf-8"
    )
    for component_name in ("api", "worker", "worker-analyze"):
        workload = by_component(objects)[component_name]
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        (container,) = pod_spec(workload)["containers"]
        (mount,) = [
            m
            for m in container["volumeMounts"]
            if volumes[m["name"]].get("configMap", {}).get("name") == POLICY_CONFIGMAP
        ]
        assert Path(mount["mountPath"]) == path.parent, component_name
        assert mount.get("readOnly") is True


def test_no_volume_is_mounted_by_subpath(objects: list[dict[str, Any]]) -> None:
    """A subPath mount never sees a ConfigMap's update, so the policy would never reload."""
    for workload in workloads(objects).values():
        for container in containers(workload):
            for mount in container.get("volumeMounts", []):
                assert "subPath" not in mount and "subPathExpr" not in mount, mount


def test_secrets_come_from_a_secret_only(objects: list[dict[str, Any]]) -> None:
    assert not of_kind(objects, "Secret"), "the repository holds no secret: create it"
    secret_like = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|DATABASE_URL|REDIS_URL|BROKER_URL")
    assert not [key for key in settings_env(objects) if secret_like.search(key)]
    for workload in workloads(objects).values():
        for container in containers(workload):
            sources = container["envFrom"]
            assert {"secretRef": {"name": SECRET_NAME}} in sources, container["name"]
            assert not [e for e in container.get("env", []) if "value" in e]


# --- resources and security --------------------------------------------------------------------


def test_memory_is_reserved_and_limited_from_the_measured_peaks(
    objects: list[dict[str, Any]],
) -> None:
    for workload in workloads(objects).values():
        for container in containers(workload):
            resources = container["resources"]
            assert resources["requests"]["memory"] == resources["limits"]["memory"]
            assert "cpu" in resources["requests"]
    variant = settings_env(objects)["MODERATION_MODEL"]
    child_peak = peak_rss_mb(variant)
    for name in ("worker", "worker-analyze"):
        (container,) = pod_spec(by_component(objects)[name])["containers"]
        concurrency = int(option_value(container["args"], "--concurrency") or 0)
        assert concurrency >= 1, "a worker pod's process count must be fixed to size it"
        needed = (concurrency * child_peak + CELERY_PARENT_MB + PROBE_MB) * MB
        limit = memory_bytes(container["resources"]["limits"]["memory"])
        assert needed <= limit <= needed * 1.5, (name, limit / MB, needed / MB)


def test_pods_run_as_the_image_user_on_a_read_only_root(objects: list[dict[str, Any]]) -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    created = re.search(r"--uid (\d+)", dockerfile)
    assert created, "the Dockerfile creates no user with a numeric uid"
    uid = int(created[1])
    var_dir = settings_env(objects)["MODERATION_VAR_DIR"]
    for name, workload in workloads(objects).items():
        spec = pod_spec(workload)
        assert spec["automountServiceAccountToken"] is False, name
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] == uid, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
            mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
            for path in ("/tmp", var_dir):
                assert "emptyDir" in mounts[path], (container["name"], path)
            for mount in container["volumeMounts"]:
                if "emptyDir" not in volumes[mount["name"]]:
                    assert mount.get("readOnly") is True, mount


# --- network -----------------------------------------------------------------------------------


def selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def test_network_policies_keep_every_port_in_the_cluster(objects: list[dict[str, Any]]) -> None:
    policies = of_kind(objects, "NetworkPolicy").values()
    for name, workload in workloads(objects).items():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        governing = [p for p in policies if selects(p, labels)]
        assert governing, f"{name}: no NetworkPolicy selects its pods"
        allowed = set()
        for policy in governing:
            assert "Ingress" in policy["spec"]["policyTypes"]
            for rule in policy["spec"].get("ingress", []):
                # Peers are pods of the cluster only: no ipBlock lets the outside in.
                assert rule["from"] and all("ipBlock" not in peer for peer in rule["from"])
                allowed |= {port["port"] for port in rule["ports"]}
        declared = {p["containerPort"] for c in containers(workload) for p in c.get("ports", [])}
        assert allowed == declared, name
    for service in of_kind(objects, "Service").values():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"


def routes(path: str, rule: dict[str, Any]) -> bool:
    """Whether an Ingress path rule sends PATH to its backend (Prefix matches by path element)."""
    if rule["pathType"] == "Exact":
        return bool(path == rule["path"])
    prefix = rule["path"].rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def test_an_ingress_routes_no_internal_path(objects: list[dict[str, Any]]) -> None:
    (api,) = of_kind(objects, "Service").values()
    for ingress in of_kind(objects, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] == api["metadata"]["name"]
                for internal in ("/metrics", "/healthz", "/readyz"):
                    assert not routes(internal, path), (internal, path)


def test_flower_is_not_deployed(objects: list[dict[str, Any]]) -> None:
    for workload in workloads(objects).values():
        for container in containers(workload):
            assert "flower" not in container["image"]
            assert "flower" not in " ".join(container.get("command", []) + container["args"])
            assert 5555 not in {p["containerPort"] for p in container.get("ports", [])}
