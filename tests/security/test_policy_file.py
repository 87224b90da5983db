"""The policy file is trusted to decide what is published, never to run code: it is YAML
read with `yaml.SafeLoader`, so a Python tag constructs nothing and is a `PolicyError`.

Each payload would create a marker file if anything ran it: `os.system` through
`object/apply`, or the import of a planted module through `module:` (the one form that runs
code from a tagged scalar, were the loader ever to construct Python objects)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from policy import PolicyError, load_policy

APPLY = "!!python/object/apply:os.system"


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{apply} [{command}]\n", id="the-whole-file"),
        pytest.param("schema: 1\ntoxicity: {apply} [{command}]\n", id="a-section"),
        pytest.param("toxicity: {apply} {{args: [{command}]}}\n", id="a-section-mapping-form"),
        pytest.param(
            "toxicity:\n  thresholds:\n    threat: {apply} [{command}]\n", id="a-threshold-list"
        ),
        pytest.param("? {apply} {command}\n: 1\n", id="a-key"),
        pytest.param("? {module}\n: 1\n", id="a-key-importing"),
        pytest.param("schema: {apply} {command}\n", id="the-schema"),
        pytest.param(
            "toxicity:\n  thresholds:\n    threat: {module}\n",
            id="a-threshold-importing",
        ),
        pytest.param("links:\n  enabled: {module}\n", id="a-switch-importing"),
        pytest.param(
            "terms:\n  lists:\n    - id: planted\n      language: en\n"
            "      severity: banned\n      words: [{apply} {command}]\n",
            id="a-term",
        ),
    ],
)
def test_a_python_tag_in_the_policy_file_runs_nothing(
    template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    # A name of its own each time: a module imported once would not run again.
    planted = f"planted_{uuid.uuid4().hex}"
    (tmp_path / f"{planted}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        template.format(
            apply=APPLY, command=f'"touch {marker}"', module=f"!!python/module:{planted} ''"
        )
    )
    try:
        with pytest.raises(PolicyError) as caught:
            load_policy(policy)
    finally:
        assert not marker.exists(), "the policy file ran code"
    assert caught.value.source == str(policy)
