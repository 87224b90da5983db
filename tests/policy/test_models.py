"""Models from the registry: language routes, `models:` label maps, per-model thresholds."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from policy import Context, PolicyError, RegisteredModel, load_policy
from policy.sections import DEFAULT_THRESHOLDS, activate
from tests.support.policies import SHIPPED, evaluate, policy_from, rules

BIAS = (
    "toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat",
    "sexual_explicit", "male", "muslim",
)  # fmt: skip
ORIGINAL = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")
KO_OUTPUTS = ("clean", "insult", "race", "religion", "hate")
REGISTRY = {
    "default": RegisteredModel(BIAS, "unbiased"),
    "ko-hate": RegisteredModel(KO_OUTPUTS, None),
    "euro": RegisteredModel(ORIGINAL, "multilingual"),
}
KO_MODEL = """\
  ko-hate:
    activation: softmax
    labels:
      toxicity: {one_minus: clean}
      insult: insult
      identity_attack: {max_of: [race, religion]}
      hate: hate
    thresholds: {toxicity: 0.7, hate: 0.9}
"""
KO = "toxicity:\n  thresholds: {toxicity: 0.5}\nlanguage:\n  routes:\n    ko: ko-hate\n"
KO += "models:\n" + KO_MODEL


def ko_policy(yaml_text: str = KO, **kwargs: Any) -> Any:
    return policy_from(yaml_text, registry=REGISTRY, **kwargs)


# ── routes ────────────────────────────────────────────────────────────────────────────────


def test_routes_add_to_the_default_models_languages() -> None:
    policy = ko_policy()
    assert dict(policy.routes) == {"en": "default", "ko": "ko-hate"}
    assert (policy.route("ko"), policy.route("en"), policy.route(None)) == (
        "ko-hate",
        "default",
        "default",
    )
    assert policy.route("de") is None
    assert evaluate(policy, "안녕하세요", language="ko", model="ko-hate").action == "approve"
    assert rules(evaluate(policy, "Hallo", language="de")) == ["language"]


def test_a_language_routed_off_is_read_by_a_person() -> None:
    policy = policy_from("language:\n  routes:\n    en: off\n    ko: false\n", registry=REGISTRY)
    assert dict(policy.routes) == {}
    assert rules(evaluate(policy, "hello", language="en")) == ["language"]


def test_routes_resolve_from_the_default_models_variant() -> None:
    registry = {"default": RegisteredModel(None, "multilingual-small")}
    assert set(policy_from("", registry=registry).routes) == {
        "en", "fr", "es", "it", "pt", "tr", "ru",
    }  # fmt: skip
    assert dict(policy_from("", registry={"default": RegisteredModel(None, None)}).routes) == {
        "en": "default"
    }


def test_the_shipped_policy_reads_what_its_default_model_reads() -> None:
    shipped = load_policy(SHIPPED, registry=REGISTRY)
    assert dict(shipped.routes) == {"en": "default"}
    assert set(shipped.models) == set(REGISTRY)


def test_the_shipped_files_korean_example_is_a_valid_policy() -> None:
    """The commented-out example in standards-board.yaml, switched on, loads as it says."""
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    start = lines.index("  # routes:")
    routes = [line.replace("# ", "", 1).split("#")[0] for line in lines[start : start + 2]]
    begin = lines.index("# models:")
    models = []
    for line in lines[begin:]:
        if not line.startswith("#"):
            break
        models.append(line[2:])
    text = "language:\n" + "\n".join(routes) + "\n" + "\n".join(models) + "\n"
    policy = policy_from(text, registry=REGISTRY)
    assert policy.route("ko") == "ko-hate"
    assert policy.models["ko-hate"].activation == "softmax"


# ── scores ────────────────────────────────────────────────────────────────────────────────


def test_model_scores_apply_the_activation_then_the_label_map() -> None:
    policy = ko_policy()
    logits = {"clean": 2.0, "insult": 1.0, "race": 0.0, "religion": -1.0, "hate": 0.5}
    total = sum(math.exp(value) for value in logits.values())
    probability = {name: math.exp(value) / total for name, value in logits.items()}
    assert policy.model_scores("ko-hate", logits, logits=True) == {
        "toxicity": round(1 - probability["clean"], 6),
        "insult": round(probability["insult"], 6),
        "identity_attack": round(max(probability["race"], probability["religion"]), 6),
        "hate": round(probability["hate"], 6),
    }
    # Probabilities already (a scorer that applied the activation): only the map applies.
    assert policy.model_scores("ko-hate", {**probability, "clean": 0.25}, logits=False)[
        "toxicity"
    ] == pytest.approx(0.75)


def test_an_output_missing_leaves_its_label_out() -> None:
    scores = ko_policy().model_scores("ko-hate", {"clean": 0.1, "race": 0.9}, logits=False)
    assert scores == {"toxicity": 0.9}


def test_a_detoxify_model_without_settings_gives_its_outputs_as_they_are() -> None:
    policy = ko_policy()
    assert policy.model_scores("default", {"toxicity": 0.1234567}, logits=False) == {
        "toxicity": 0.123457
    }
    assert policy.model_scores("euro", {"toxicity": 0.0}, logits=True) == {"toxicity": 0.5}
    # An id the policy doesn't know: as they are too.
    assert policy.model_scores("nobody", {"insult": 0.2}, logits=False) == {"insult": 0.2}


def test_activations_never_overflow() -> None:
    sigmoid = activate({"a": -1000.0, "b": 1000.0, "c": 0.0}, "sigmoid")
    assert sigmoid == {"a": 0.0, "b": 1.0, "c": 0.5}
    softmax = activate({"a": 1000.0, "b": 1000.0}, "softmax")
    assert softmax == {"a": 0.5, "b": 0.5}
    assert activate({}, "softmax") == {}


# ── thresholds per model ──────────────────────────────────────────────────────────────────


def test_each_model_has_its_own_thresholds() -> None:
    policy = ko_policy()
    assert dict(policy.model_thresholds("ko-hate")) == {
        "toxicity": 0.7,  # written
        "insult": 0.8,  # the shipped value: never the file's toxicity.thresholds
        "identity_attack": 0.6,
        "hate": 0.9,  # a label of the model's own holds only at a threshold written
    }
    assert policy.model_thresholds("default")["toxicity"] == 0.5
    # Older decisions recorded a variant name: an unknown id is held at default's.
    assert policy.model_thresholds("unbiased") == policy.thresholds
    # A Detoxify model with no settings: the shipped thresholds of the labels it has.
    assert dict(policy.model_thresholds("euro")) == {
        label: value for label, value in DEFAULT_THRESHOLDS.items() if label in ORIGINAL
    }


def test_evaluate_picks_the_thresholds_by_the_context_model() -> None:
    policy = ko_policy()
    scores = {"toxicity": 0.6}
    assert evaluate(policy, "x", scores, model="ko-hate").action == "approve"
    assert rules(evaluate(policy, "x", scores, model="default")) == ["toxicity.toxicity"]
    assert rules(evaluate(policy, "x", scores, model="unbiased")) == ["toxicity.toxicity"]
    assert rules(evaluate(policy, "x", {"toxicity": 0.7}, model="ko-hate")) == ["toxicity.toxicity"]


def test_a_label_of_the_models_own_holds_at_its_threshold() -> None:
    decision = evaluate(ko_policy(), "x", {"hate": 0.95, "insult": 0.85}, model="ko-hate")
    assert rules(decision) == ["toxicity.insult", "toxicity.hate"]
    hate = decision.reasons[1]
    assert hate.message == (
        "The model scores this comment 0.95 for 'hate' (comments at 0.90 or above are held)."
    )
    assert hate.evidence == {"label": "hate", "score": 0.95, "threshold": 0.9}


def test_a_models_threshold_can_be_switched_off() -> None:
    text = "models:\n  euro:\n    thresholds: {insult: off, toxicity: 0.9}\n"
    thresholds = policy_from(text, registry=REGISTRY).model_thresholds("euro")
    assert "insult" not in thresholds
    assert thresholds["toxicity"] == 0.9


def test_thresholds_of_a_model_whose_outputs_are_unknown() -> None:
    registry = {**REGISTRY, "mystery": RegisteredModel(None, "unbiased")}
    text = "models:\n  mystery:\n    thresholds: {sexual_explicit: 0.4}\n"
    thresholds = policy_from(text, registry=registry).model_thresholds("mystery")
    assert thresholds == {**DEFAULT_THRESHOLDS, "sexual_explicit": 0.4}


def test_outputs_of_a_checkpoint_not_yet_known_are_not_checked() -> None:
    registry = {"default": RegisteredModel(None, None), "ko": RegisteredModel(None, None)}
    text = "models:\n  ko:\n    activation: sigmoid\n    labels: {toxicity: anything}\n"
    policy = policy_from(text + "language:\n  routes: {ko: ko}\n", registry=registry)
    assert policy.model_scores("ko", {"anything": 0.0}, logits=True) == {"toxicity": 0.5}


def test_default_may_have_a_label_map_and_then_warns_by_it() -> None:
    text = (
        "toxicity:\n  thresholds: {insult: 0.7}\n"
        "models:\n  default:\n    activation: sigmoid\n    labels: {toxicity: toxicity}\n"
    )
    policy = policy_from(text, registry=REGISTRY)
    assert policy.model_scores("default", {"toxicity": 0.5, "insult": 0.9}, logits=False) == {
        "toxicity": 0.5
    }
    assert [warning.split(": ")[1] for warning in policy.warnings] == ["toxicity.thresholds.insult"]
    assert policy.model_thresholds("default")["insult"] == 0.7


# ── replay ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("language", "model", "evaluable"),
    [
        ("ko", "ko-hate", True),
        ("ko", "default", False),  # scored before ko was routed to the Korean model
        ("ko", "unbiased", False),  # a variant name: default scored it
        ("en", "unbiased", True),
        ("en", "ko-hate", False),
        (None, "default", True),
        ("de", "default", True),  # no model reads it: default scores it, the rule holds it
        ("de", "ko-hate", False),
    ],
)
def test_scores_are_evaluable_when_the_same_model_would_score(
    language: str | None, model: str, evaluable: bool
) -> None:
    context = Context(language=language, model=model)
    assert ko_policy().scores_evaluable(context) is evaluable


# ── the registry ──────────────────────────────────────────────────────────────────────────


def test_load_policy_takes_the_registry(tmp_path: Path) -> None:
    policy = policy_from(KO, tmp_path, registry=REGISTRY)
    assert policy.route("ko") == "ko-hate"


def test_legacy_callers_get_a_default_model_alone() -> None:
    policy = policy_from("toxicity:\n  thresholds: {insult: 0.7}\n", model_labels=["toxicity"])
    assert list(policy.models) == ["default"]
    assert dict(policy.routes) == {"en": "default"}
    assert len(policy.warnings) == 1
    # Given a registry, `model_labels` is not read: the registry says what default outputs.
    both = policy_from("", model_labels=["toxicity"], registry=REGISTRY)
    assert set(both.models) == set(REGISTRY)


def test_a_registry_without_default_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no 'default' model"):
        policy_from("", registry={"ko-hate": RegisteredModel(KO_OUTPUTS, None)})


def test_an_empty_models_section_is_allowed() -> None:
    assert dict(policy_from("models:\n", registry=REGISTRY).routes) == {"en": "default"}


# ── mistakes ──────────────────────────────────────────────────────────────────────────────


def mistake(yaml_text: str, line: int, key_path: str, problem: str, name: str) -> Any:
    return pytest.param(yaml_text, line, key_path, problem, id=name)


ROUTE_KO = "language:\n  routes:\n    ko: ko-hate\n"
MODELS = "models:\n  ko-hate:\n"
SPEC = MODELS + "    activation: softmax\n"
MISTAKES = [
    mistake("language:\n  routes:\n    ko: kohate\n", 3, "language.routes.ko",
            "no model has the id 'kohate'; the ids are: default, euro, ko-hate", "route-unknown"),
    mistake(ROUTE_KO, 3, "language.routes.ko",
            "'ko-hate' is a Hugging Face checkpoint: write `models: {ko-hate: ...}`",
            "route-checkpoint-without-settings"),
    mistake("language:\n  routes:\n    ko: ~\n", 3, "language.routes.ko", "must not be empty",
            "route-empty"),
    mistake("language:\n  routes: [ko]\n", 2, "language.routes", "key: value", "routes-list"),
    mistake("models: [ko-hate]\n", 1, "models", "key: value", "models-list"),
    mistake("models:\n  kohate: {}\n", 2, "models.kohate", "no model has the id 'kohate'",
            "models-unknown"),
    mistake(MODELS + "    labels: {toxicity: clean}\n", 3, "models.ko-hate",
            "write its `activation` (sigmoid or softmax", "checkpoint-without-activation"),
    mistake(SPEC, 3, "models.ko-hate", "write its `labels`", "checkpoint-without-labels"),
    mistake(MODELS + "    {}\n", 3, "models.ko-hate", "`activation` and `labels`",
            "checkpoint-without-either"),
    mistake(MODELS + "    activation: relu\n    labels: {insult: insult}\n", 3,
            "models.ko-hate.activation", "'relu' is not an activation", "activation-unknown"),
    mistake("models:\n  euro:\n    activation: softmax\n", 3, "models.euro.activation",
            "probabilities already", "activation-on-detoxify"),
    mistake("models:\n  euro:\n    activaton: sigmoid\n", 3, "models.euro.activaton",
            "did you mean 'activation'", "model-key-unknown"),
    mistake(SPEC + "    labels: {}\n", 4, "models.ko-hate.labels", "at least one label",
            "labels-empty"),
    mistake(SPEC + "    labels: [insult]\n", 4, "models.ko-hate.labels", "key: value",
            "labels-list"),
    mistake(SPEC + "    labels:\n      Insult: insult\n", 5, "models.ko-hate.labels.Insult",
            "'Insult' is not a label name", "label-shape"),
    mistake(SPEC + "    labels:\n      insult: insullt\n", 5, "models.ko-hate.labels.insult",
            "model 'ko-hate' has no output 'insullt'; its outputs are: clean, insult",
            "output-unknown"),
    mistake(SPEC + "    labels:\n      toxicity: {one_minus: cleen}\n", 5,
            "models.ko-hate.labels.toxicity.one_minus", "no output 'cleen'", "one-minus-unknown"),
    mistake(SPEC + "    labels:\n      toxicity: {max_of: [race, sex]}\n", 5,
            "models.ko-hate.labels.toxicity.max_of[1]", "no output 'sex'", "max-of-unknown"),
    mistake(SPEC + "    labels:\n      toxicity: {max_of: []}\n", 5,
            "models.ko-hate.labels.toxicity.max_of", "at least one output", "max-of-empty"),
    mistake(SPEC + "    labels:\n      toxicity: {max_of: race}\n", 5,
            "models.ko-hate.labels.toxicity.max_of", "must be a list", "max-of-not-list"),
    mistake(SPEC + "    labels:\n      toxicity: {}\n", 5, "models.ko-hate.labels.toxicity",
            "write one of: an output of the model, `{one_minus: OUTPUT}`", "source-empty"),
    mistake(SPEC + "    labels:\n      toxicity: {one_minus: clean, max_of: [race]}\n", 5,
            "models.ko-hate.labels.toxicity", "write one of", "source-two-forms"),
    mistake(SPEC + "    labels:\n      toxicity: {min_of: [race]}\n", 5,
            "models.ko-hate.labels.toxicity.min_of", "unknown key 'min_of'", "source-unknown"),
    mistake(SPEC + "    labels:\n      toxicity: [clean]\n", 5,
            "models.ko-hate.labels.toxicity", "key: value", "source-list"),
    mistake(SPEC + "    labels: {insult: insult}\n    thresholds: {toxicity: 0.5}\n", 5,
            "models.ko-hate.thresholds.toxicity",
            "model 'ko-hate' gives no 'toxicity' score; its labels are: insult",
            "threshold-unmapped"),
    mistake(SPEC + "    labels: {insult: insult}\n    thresholds: {insult: 2}\n", 5,
            "models.ko-hate.thresholds.insult", "from 0 to 1", "threshold-range"),
    mistake("models:\n  euro:\n    thresholds: {muslim: 0.5}\n", 3,
            "models.euro.thresholds.muslim", "identity label", "threshold-identity"),
    mistake("models:\n  euro:\n    thresholds: {sexual_explicit: 0.5}\n", 3,
            "models.euro.thresholds.sexual_explicit", "gives no 'sexual_explicit' score",
            "threshold-label-the-model-lacks"),
    mistake("models:\n  default:\n    thresholds: {insult: 0.5}\n", 3,
            "models.default.thresholds", "`toxicity.thresholds`; set them there",
            "threshold-of-default"),
]  # fmt: skip


@pytest.mark.parametrize(("yaml_text", "line", "key_path", "problem"), MISTAKES)
def test_mistakes_give_one_clear_error(
    yaml_text: str, line: int, key_path: str, problem: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from(yaml_text, registry=REGISTRY)
    error = caught.value
    assert (error.line, error.key_path) == (line, key_path)
    assert problem in error.problem
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("variant", "old", "suggested"),
    [
        # The languages written for the default model's variant carry over.
        ("multilingual", "    multilingual: [en, fr, de]\n    unbiased: [en]\n",
         "`routes: {en: default, fr: default, de: default}`"),
        ("unbiased-small", "    unbiased: [en, de]\n", "`routes: {en: default, de: default}`"),
        # Its variant not written: the languages it reads.
        ("multilingual", "    unbiased: [en]\n", "`routes: {en: default, es: default, fr:"),
        (None, "    unbiased: [en, de]\n", "`routes: {en: default}`"),
        ("unbiased", "    unbiased: en\n", "`routes: {en: default}`"),  # not a list
        ("unbiased", "    - en\n", "`routes: {en: default}`"),  # not even a mapping
    ],
)  # fmt: skip
def test_the_old_language_models_form_shows_the_routes_to_write(
    variant: str | None, old: str, suggested: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from(
            "schema: 1\nlanguage:\n  models:\n" + old,
            registry={"default": RegisteredModel(None, variant)},
        )
    error = caught.value
    assert (error.line, error.key_path) == (3, "language.models")
    assert "replace `models:` with `routes:`" in error.problem
    assert suggested in error.problem
