"""What `moderation policy check` prints of the models and the routes to them."""

from __future__ import annotations

from policy import RegisteredModel, parse_policy
from workers.cli.policy_summary import summarize

REGISTRY = {
    "default": RegisteredModel(("toxicity", "insult"), "original"),
    "ko-hate": RegisteredModel(("clean", "insult", "race", "religion"), None),
    "spare": RegisteredModel(None, None),
}
POLICY = """\
language:
  routes:
    ko: ko-hate
    en: off
models:
  ko-hate:
    activation: softmax
    labels:
      toxicity: {one_minus: clean}
      insult: insult
      identity_attack: {max_of: [race, religion]}
    thresholds: {insult: off, identity_attack: off, toxicity: 0.7}
  spare:
    activation: sigmoid
    labels: {hate: hate}
"""


def test_routes_and_every_model_are_listed() -> None:
    policy = parse_policy(POLICY.encode(), source="p.yaml", registry=REGISTRY)
    lines = summarize(policy, model="original", model_labels=("toxicity",), registry=REGISTRY)
    assert "language: on; routes: ko → ko-hate; other languages are held for a person" in lines
    models = lines[lines.index("models:") + 1 : lines.index("models:") + 4]
    assert models == [
        "  default: Detoxify original; reads no language; sigmoid; labels as output; "
        "thresholds toxicity.thresholds",
        "  ko-hate: Hugging Face checkpoint; reads ko; softmax; labels toxicity ← 1 - clean, "
        "insult ← insult, identity_attack ← max(race, religion); thresholds toxicity 0.70",
        "  spare: Hugging Face checkpoint; reads no language; sigmoid; labels hate ← hate; "
        "thresholds none",
    ]


def test_without_the_registry_the_models_are_listed_by_id() -> None:
    policy = parse_policy(b"language:\n  routes: {en: off}\n", source="p.yaml")
    lines = summarize(policy, model="custom", model_labels=None)
    assert "language: on; routes: none; other languages are held for a person" in lines
    first = lines[lines.index("models:") + 1]
    assert first.startswith("  default: unknown; reads no language; sigmoid; labels as output;")
    custom = {"default": RegisteredModel(None, None)}
    lines = summarize(policy, model="custom", model_labels=None, registry=custom)
    assert lines[lines.index("models:") + 1].startswith("  default: a checkpoint of its own;")
