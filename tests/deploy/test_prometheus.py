"""deploy/prometheus and deploy/grafana: promtool checks every rule and runs the alerts' unit
tests; every dashboard expression is one of the checked recording rules; and every metric they
name is one the service exports, read from a real scrape of the API and the workers' registry.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from service.app import create_app
from service.process_metrics import scrape_registry
from tests.support.api import api_settings
from tests.support.ci import unavailable

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
DASHBOARD_RULES = PROMETHEUS / "dashboard.rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "moderation.json"
KUBERNETES = ROOT / "deploy" / "kubernetes" / "base"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))

# The tasks a worker runs: importing them registers every metric a worker exports.
WORKER_MODULES = ("workers.tasks",)
DEFAULT_HELD_SLA = "vector(1800)"

LABEL_LIST_KEYWORDS = ("by", "without", "on", "ignoring", "group_left", "group_right")
PROMQL_KEYWORDS = frozenset(
    (*LABEL_LIST_KEYWORDS, "bool", "offset", "and", "or", "unless", "inf", "nan")
)
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")
_BRACKETS = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
_LABEL_LISTS = re.compile(rf"\b(?:{'|'.join(LABEL_LIST_KEYWORDS)})\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])[A-Za-z_:][\w:]*")

SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        unavailable("promtool (Debian's prometheus package)")
    assert binary is not None
    return subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def rules(path: Path) -> list[dict[str, Any]]:
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def panel_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", ())
        if "expr" in target
    ]


def normalized(expr: str) -> str:
    return " ".join(expr.split())


def metric_names(expr: str) -> set[str]:
    """The series names an expression selects: identifiers left once strings, label matchers,
    ranges and label lists are gone, other than functions (followed by `(`) and keywords."""
    text = _LABEL_LISTS.sub(" ", _BRACKETS.sub(" ", _STRINGS.sub('""', expr)))
    names: set[str] = set()
    for match in _IDENTIFIER.finditer(text):
        follows = text[match.end() :].lstrip()
        if not follows.startswith("(") and match.group() not in PROMQL_KEYWORDS:
            names.add(match.group())
    return names


def series_names(exposition: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        suffixes = SERIES_SUFFIXES.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
        names.update(sample.name for sample in family.samples)
    return names


def kubernetes_bytes(quantity: str) -> int:
    """A memory quantity in the binary units the manifests use (`1280Mi`)."""
    match = re.fullmatch(r"(\d+)([KMGT]i)?", quantity)
    assert match, quantity
    number, unit = match.groups()
    power = "KMGT".index(unit[0]) + 1 if unit else 0
    return int(number) << (10 * power)


def rule_expressions() -> Iterable[str]:
    for path in (ALERTS, DASHBOARD_RULES):
        for rule in rules(path):
            yield str(rule["expr"])


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("sum by (result) (rate(c_total[5m]))", {"c_total"}),
        ('x_total{outcome=~"retry|failed"} unless on (job) y offset 5m > 1e3', {"x_total", "y"}),
        ("histogram_quantile(0.99, sum by (route, le) (rate(h_bucket[5m])))", {"h_bucket"}),
        ("time() - max without (instance, pod) (t) > 300", {"t"}),
        ("a > on () group_left () 0.9 * level:b:max", {"a", "level:b:max"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_promtool_checks_every_rule_file() -> None:
    result = promtool("check", "rules", ALERTS, DASHBOARD_RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_pass_their_unit_tests() -> None:
    assert RULE_TESTS
    result = promtool("test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_held_service_level_is_one_parameter(tmp_path: Path) -> None:
    """A desk with a 10-minute service level changes one line, and the alert follows it."""
    text = ALERTS.read_text(encoding="utf-8")
    assert text.count(DEFAULT_HELD_SLA) == 1
    (tmp_path / "alerts.yml").write_text(
        text.replace(DEFAULT_HELD_SLA, "vector(600)"), encoding="utf-8"
    )
    series = 'moderation_oldest_held_age_seconds{instance="api-a:8000"}'
    age = {"series": series, "values": "0+60x20"}
    check = {"alertname": "ModerationHeldPastSLA"}
    (held,) = (rule for rule in rules(ALERTS) if rule.get("alert") == check["alertname"])
    summary = "A held comment has waited 12m 0s for a moderator"
    annotations = {"summary": summary, "description": held["annotations"]["description"]}
    fired = {"exp_labels": {"severity": "page"}, "exp_annotations": annotations}
    case = {
        "interval": "1m",
        "input_series": [age],
        "alert_rule_test": [
            {**check, "eval_time": "11m", "exp_alerts": []},
            {**check, "eval_time": "12m", "exp_alerts": [fired]},
        ],
    }
    unit = {"rule_files": ["alerts.yml"], "evaluation_interval": "1m", "tests": [case]}
    (tmp_path / "sla.test.yml").write_text(yaml.safe_dump(unit), encoding="utf-8")
    result = promtool("test", "rules", tmp_path / "sla.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_panel_expression_is_a_recording_rule() -> None:
    panels = {normalized(expr) for expr in panel_expressions()}
    recorded = {normalized(str(rule["expr"])) for rule in rules(DASHBOARD_RULES)}
    assert panels, "no panel expressions in the dashboard"
    assert panels - recorded == set(), "panel expressions missing from dashboard.rules.yml"
    assert recorded - panels == set(), "rules in dashboard.rules.yml that no panel shows"


def test_the_dashboard_loads_on_any_prometheus_data_source() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (variable,) = dashboard["templating"]["list"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    graphs = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in graphs:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == f"${{{variable['name']}}}", panel["title"]
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, panel["title"]


def test_every_alert_has_a_summary_and_a_severity() -> None:
    alerts = [rule for rule in rules(ALERTS) if "alert" in rule]
    assert alerts
    for alert in alerts:
        assert alert["labels"]["severity"] in {"page", "ticket"}, alert["alert"]
        assert alert["annotations"]["summary"], alert["alert"]


@pytest.mark.parametrize("process", ["api", "worker"])
def test_the_memory_alert_knows_the_manifests_limits(process: str) -> None:
    (limit,) = (
        rule["expr"]
        for rule in rules(ALERTS)
        if rule.get("record") == "moderation:memory_limit_bytes"
        and rule["labels"]["process"] == process
    )
    manifest = KUBERNETES / f"{process}.yaml"
    (deployment,) = (
        doc
        for doc in yaml.safe_load_all(manifest.read_text(encoding="utf-8"))
        if doc and doc["kind"] == "Deployment"
    )
    (container,) = (
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == process
    )
    memory = container["resources"]["limits"]["memory"]
    assert limit == f"vector({kubernetes_bytes(memory)})", f"{manifest.name} limits {memory}"


@pytest.fixture
def exported_names(database_url: str, redis_server: str, tmp_path: Path) -> set[str]:
    """Every series name the API serves on /metrics and a worker serves on its metrics port
    (the registry `moderation worker --metrics-port` serves, with the worker's tasks loaded)."""
    settings = api_settings(database_url, redis_server, tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    for module in WORKER_MODULES:
        importlib.import_module(module)
    worker = generate_latest(scrape_registry("worker")).decode()
    return series_names(response.text) | series_names(worker)


def test_every_metric_named_is_exported(exported_names: set[str]) -> None:
    every_rule = [rule for path in (ALERTS, DASHBOARD_RULES) for rule in rules(path)]
    recorded = {str(rule["record"]) for rule in every_rule if "record" in rule}
    named = set().union(*map(metric_names, [*rule_expressions(), *panel_expressions()]))
    assert {"moderation_decisions_total", "moderation_workers_alive"} <= named
    assert sorted(named - recorded - exported_names) == [], "metrics that nothing exports"
