from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from policy import Policy, PolicyError, load_policy, parse_policy
from policy.sections import ReportsSettings
from tests.support.policies import SHIPPED, evaluate, policy_from

ORIGINAL_LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")


def error_for(yaml_text: str, tmp_path: Path) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        policy_from(yaml_text, tmp_path)
    return caught.value


LISTS = "terms:\n  lists:\n"
ONE_LIST = LISTS + "    - id: a\n      language: en\n      severity: banned\n"
TOXICITY = "toxicity:\n  thresholds:\n"


def mistake(yaml_text: str, line: int, key_path: str | None, problem: str, name: str) -> Any:
    return pytest.param(yaml_text, line, key_path, problem, id=name)


# Each mistake: the file, the line (1-based) and the key path it is reported at.
MISTAKES = [
    mistake("toxicty:\n  thresholds: {}\n", 1, "toxicty", "did you mean 'toxicity'",
            "unknown-section"),
    mistake("toxicity:\n  treshold: {}\n", 2, "toxicity.treshold",
            "did you mean 'thresholds'", "unknown-key"),
    mistake("links:\n  allow: []\n", 2, "links.allow",
            "expected one of: allow_domains, enabled", "unknown-key-no-hint"),
    mistake(TOXICITY + "    insult: 1.5\n", 3, "toxicity.thresholds.insult",
            "from 0 to 1, got '1.5'", "threshold-above-1"),
    mistake(TOXICITY + "    insult: -0.1\n", 3, "toxicity.thresholds.insult", "from 0 to 1",
            "threshold-below-0"),
    mistake(TOXICITY + "    insult: high\n", 3, "toxicity.thresholds.insult", "got 'high'",
            "threshold-text"),
    mistake(TOXICITY + "    insult: true\n", 3, "toxicity.thresholds.insult", "from 0 to 1",
            "threshold-true"),
    mistake(TOXICITY + "    insult: [0.5]\n", 3, "toxicity.thresholds.insult", "single value",
            "threshold-list"),
    mistake(TOXICITY + "    toxic: 0.8\n", 3, "toxicity.thresholds.toxic",
            "no Detoxify model has a label 'toxic'", "unknown-label"),
    mistake(TOXICITY + "    muslim: 0.8\n", 3, "toxicity.thresholds.muslim", "identity label",
            "identity-label"),
    mistake("toxicity:\n  thresholds: [0.5]\n", 2, "toxicity.thresholds", "key: value",
            "thresholds-not-mapping"),
    mistake("toxicity:\n  identity_evidence_min: 2\n", 2, "toxicity.identity_evidence_min",
            "from 0 to 1", "evidence-min"),
    mistake("toxicity:\n  enabled: maybe\n", 2, "toxicity.enabled",
            "true or false, got 'maybe'", "enabled-not-bool"),
    mistake(TOXICITY + "    insult: 0.5\n    insult: 0.6\n", 4, "toxicity.thresholds.insult",
            "appears twice", "duplicate-key"),
    mistake("? [a, b]\n: 1\n", 1, None, "plain names", "complex-key"),
    mistake("schema: 2\n", 1, "schema", "reads schema 1, got '2'", "schema"),
    mistake("schema: true\n", 1, "schema", "reads schema 1, got 'true'", "schema-true"),
    mistake("schema: 1.0\n", 1, "schema", "reads schema 1, got '1.0'", "schema-float"),
    mistake("schema: '1'\n", 1, "schema", "reads schema 1, got '1'", "schema-text"),
    mistake("- a\n- b\n", 1, None, "key: value", "top-level-list"),
    mistake("repeat:\n  window_seconds: 5\n", 2, "repeat.window_seconds",
            "from 10 to 31622400, got '5'", "window-too-short"),
    mistake("repeat:\n  window_seconds: 100000000000\n", 2, "repeat.window_seconds",
            "from 10 to 31622400, got '100000000000'", "window-too-long"),
    mistake("repeat:\n  window_seconds: 31622401\n", 2, "repeat.window_seconds",
            "to 31622400", "window-a-second-too-long"),
    mistake("flood:\n  window_seconds: 100000000000\n", 2, "flood.window_seconds",
            "from 10 to 31622400", "flood-window-too-long"),
    mistake("flood:\n  window_seconds: 5\n", 2, "flood.window_seconds", "from 10 to",
            "flood-window-too-short"),
    mistake("repeat:\n  min_chars: 2.5\n", 2, "repeat.min_chars", "whole number",
            "min-chars-float"),
    mistake("flood:\n  hold_after: 0\n", 2, "flood.hold_after", "from 1", "hold-after-zero"),
    mistake("flood:\n  hold_after: 10\n  hard_limit: 10\n", 3, "flood.hard_limit",
            "must be more than hold_after (10)", "hard-limit-low"),
    mistake("flood:\n  hold_after: 20\n", 2, "flood.hold_after", "hard_limit (15) must be more",
            "hold-after-above-default-limit"),
    mistake("flood:\n  hard_limit: none\n", 2, "flood.hard_limit", "whole number",
            "hard-limit-text"),
    mistake("personal_info:\n  detect: [email, passport]\n", 2, "personal_info.detect[1]",
            "'passport' is not one of", "pi-kind"),
    mistake("personal_info:\n  detect: [email, email]\n", 2, "personal_info.detect[1]",
            "listed twice", "pi-twice"),
    mistake("personal_info:\n  detect: email\n", 2, "personal_info.detect", "must be a list",
            "pi-not-list"),
    mistake("links:\n  allow_domains:\n    - https://ournews.com/\n", 3,
            "links.allow_domains[0]", "is not a domain", "domain-url"),
    mistake("links:\n  allow_domains: ['']\n", 2, "links.allow_domains[0]", "must not be empty",
            "domain-empty"),
    mistake("links:\n  allow_domains: [~]\n", 2, "links.allow_domains[0]", "must not be empty",
            "domain-null"),
    mistake("language:\n  routes:\n    en: default\n    english: default\n", 4,
            "language.routes.english", "'english' is not a language code", "language-code"),
    mistake("language:\n  routes:\n    zz: default\n", 3,
            "language.routes.zz", "'zz' is not a language code", "language-zz"),
    mistake("language:\n  routes:\n    eng: default\n", 3,
            "language.routes.eng", "'eng' is not a language code", "language-eng"),
    mistake(LISTS + "    - {id: a, language: zz, severity: banned, words: [x]}\n", 3,
            "terms.lists[0].language", "'zz' is not a language code", "list-language-zz"),
    mistake("language:\n  routes:\n    en: Big Model\n", 3, "language.routes.en",
            "no model has the id 'Big Model'; the ids are: default", "model-name"),
    mistake("language:\n  models:\n    multilingual: [en, fr]\n", 2, "language.models",
            "replace `models:` with `routes:`", "language-models-old-form"),
    mistake("author:\n  trusted_skip: [toxicity]\n", 2, "author.trusted_skip[0]",
            "'toxicity' is not one of", "trusted-skip-toxicity"),
    mistake("author:\n  trusted_skip_toxicity: [insult, threat]\n", 2,
            "author.trusted_skip_toxicity[1]", "'threat' is not one of", "trusted-skip-threat"),
    mistake("article:\n  premoderated: true\n", 2, "article.premoderated",
            "expected one of: enabled", "article-key"),
    mistake(LISTS + "    - language: en\n      severity: banned\n      words: [x]\n", 3,
            "terms.lists[0]", "needs 'id'", "list-no-id"),
    mistake(LISTS + "    - {id: Bad Id, language: en, severity: banned, words: [x]}\n", 3,
            "terms.lists[0].id", "can't be a list id", "list-id-shape"),
    mistake(LISTS + "    - {id: links, language: en, severity: banned, words: [x]}\n", 3,
            "terms.lists[0].id", "another rule", "list-id-taken"),
    mistake(LISTS + "    - {id: a, language: en, severity: banned, words: [x]}\n"
            "    - {id: a, language: en, severity: banned, words: [y]}\n", 4,
            "terms.lists[1].id", "used by another list", "list-id-twice"),
    mistake(LISTS + "    - {id: a, language: en, severity: bad, words: [x]}\n", 3,
            "terms.lists[0].severity", "banned, suspect, got 'bad'", "severity"),
    mistake(LISTS + "    - {id: a, language: en, severity: banned}\n", 3, "terms.lists[0]",
            "exactly one of", "list-no-source"),
    mistake(ONE_LIST + "      words: [x]\n      builtin: en-banned\n", 3, "terms.lists[0]",
            "exactly one of", "list-two-sources"),
    mistake(ONE_LIST + "      words:\n        - ok\n        - $h1t\n", 8,
            "terms.lists[0].words[1]", "can't be matched", "bad-word"),
    mistake(ONE_LIST + "      words: [x]\n      exceptions: ['!']\n", 7,
            "terms.lists[0].exceptions[0]", "can't be matched", "bad-exception"),
    mistake(ONE_LIST + "      patterns:\n        - 'buy (followers'\n", 7,
            "terms.lists[0].patterns[0]", "invalid pattern", "bad-pattern"),
    mistake(ONE_LIST + "      patterns: ['a*']\n", 6, "terms.lists[0].patterns[0]",
            "matches empty text", "empty-pattern"),
    mistake(ONE_LIST + "      builtin: fr-banned\n", 6, "terms.lists[0].builtin",
            "no shipped list 'fr-banned'; shipped lists: en-banned, en-suspect, ko-banned, "
            "ko-suspect", "unknown-builtin"),
    mistake(ONE_LIST + "      file: missing.txt\n", 6, "terms.lists[0].file", "can't read",
            "missing-file"),
    mistake(LISTS.replace("lists:\n", "lists: {id: a}\n"), 2, "terms.lists", "must be a list",
            "lists-not-list"),
    mistake(LISTS + "    - {id: a, language: EN, severity: banned, words: [x]}\n", 3,
            "terms.lists[0].language", "not a language code", "list-language"),
    mistake(TOXICITY + "    insult: 0.5\n  - oops\n", 4, None, "not valid YAML", "yaml-syntax"),
    mistake("a: [unclosed\n", 2, None, "not valid YAML", "yaml-unclosed"),
    mistake(TOXICITY + "    insult: !!python/name:os.system ''\n", 3, "toxicity.thresholds.insult",
            "has a tag this file can't use", "python-tag"),
    mistake("reports:\n  review_after: 0\n", 2, "reports.review_after", "from 1",
            "reports-review-after-zero"),
    mistake("reports:\n  hide_after: 0\n", 2, "reports.hide_after", "from 1, got '0'",
            "reports-hide-after-zero"),
    mistake("reports:\n  hide_after: true\n", 2, "reports.hide_after", "whole number",
            "reports-hide-after-true"),
    mistake("reports:\n  review_after: 3\n  hide_after: 2\n", 3, "reports.hide_after",
            "hide_after (2) must be at least review_after (3)", "reports-hide-before-review"),
    mistake("reports:\n  min_reporter_approved: -1\n", 2, "reports.min_reporter_approved",
            "from 0", "reports-min-approved-negative"),
    mistake("reports:\n  flood: {limit: 0}\n", 2, "reports.flood.limit", "from 1",
            "reports-flood-limit-zero"),
    mistake("reports:\n  flood: {window_seconds: 5}\n", 2, "reports.flood.window_seconds",
            "from 10 to", "reports-flood-window"),
    mistake("reports:\n  flood: {hard_limit: 5}\n", 2, "reports.flood.hard_limit",
            "expected one of: window_seconds, limit", "reports-flood-key"),
    mistake("reports:\n  flood: 20\n", 2, "reports.flood", "key: value",
            "reports-flood-not-mapping"),
    mistake("reports:\n  hide_afer: 3\n", 2, "reports.hide_afer", "did you mean 'hide_after'",
            "reports-key"),
]  # fmt: skip


@pytest.mark.parametrize(("yaml_text", "line", "key_path", "problem"), MISTAKES)
def test_mistakes_give_one_clear_error(
    tmp_path: Path, yaml_text: str, line: int, key_path: str | None, problem: str
) -> None:
    error = error_for(yaml_text, tmp_path)
    source = str(tmp_path / "policy.yaml")
    assert (error.source, error.line, error.key_path) == (source, line, key_path)
    assert problem in error.problem
    where = f"{source}, line {line}: " + (f"{key_path}: " if key_path else "")
    assert str(error) == where + error.problem


def test_not_yaml_at_all(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"toxicity: \x07\n")
    with pytest.raises(PolicyError, match="not valid YAML") as caught:
        load_policy(path)
    assert caught.value.line is None
    assert str(caught.value).startswith(f"{path}: not valid YAML")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="can't read the policy file") as caught:
        load_policy(tmp_path / "nope.yaml")
    assert caught.value.key_path is None


def test_term_file_mistakes_point_into_the_term_file(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_text("# ours\nfine\n\nf.u.c.k  # oops\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        policy_from(
            "terms:\n  lists:\n    - {id: a, language: en, severity: banned, file: words.txt}\n",
            tmp_path,
        )
    assert (caught.value.source, caught.value.line) == (str(tmp_path / "words.txt"), 4)


def test_term_file_must_be_utf8(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(PolicyError, match="UTF-8") as caught:
        policy_from(
            "terms:\n  lists:\n    - {id: a, language: en, severity: banned, file: words.txt}\n",
            tmp_path,
        )
    assert caught.value.source == str(tmp_path / "words.txt")


def test_term_files_next_to_the_policy(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_text("zorkmid\n!zorkmid museum\n", encoding="utf-8")
    policy = policy_from(
        "terms:\n  lists:\n"
        "    - {id: ours, language: en, severity: suspect, file: words.txt,"
        " exceptions: [zorkmid shop]}\n",
        tmp_path,
    )
    assert policy.term_files == (tmp_path / "words.txt",)
    assert [reason.rule for reason in evaluate(policy, "a zorkmid").reasons] == ["ours"]
    assert evaluate(policy, "the zorkmid museum").action == "approve"
    assert evaluate(policy, "the zorkmid shop").action == "approve"


def test_version_is_the_content_hash() -> None:
    raw = b"toxicity:\n  thresholds: {insult: 0.7}\nterms: {lists: []}\n"
    policy = parse_policy(raw, source="x.yaml")
    assert policy.version == "sha256:" + hashlib.sha256(raw).hexdigest()[:16]
    assert parse_policy(raw + b"# a comment\n", source="x.yaml").version != policy.version


def test_version_covers_term_lists(tmp_path: Path) -> None:
    yaml_text = "terms:\n  lists:\n    - {id: a, language: en, severity: banned, file: w.txt}\n"
    (tmp_path / "w.txt").write_text("zork\n", encoding="utf-8")
    first = policy_from(yaml_text, tmp_path).version
    (tmp_path / "w.txt").write_text("zork\nzorkmid\n", encoding="utf-8")
    assert policy_from(yaml_text, tmp_path).version != first


def test_warnings_for_labels_the_model_lacks() -> None:
    policy = load_policy(SHIPPED, model_labels=ORIGINAL_LABELS)
    (warning,) = policy.warnings
    line = (
        SHIPPED.read_text(encoding="utf-8")
        .splitlines()
        .index(
            next(
                text
                for text in SHIPPED.read_text(encoding="utf-8").splitlines()
                if "sexual_explicit: 0.6" in text
            )
        )
    )
    assert warning == (
        f"{SHIPPED}, line {line + 1}: toxicity.thresholds.sexual_explicit: the configured model "
        "has no 'sexual_explicit' label, so this threshold never applies"
    )
    assert load_policy(SHIPPED).warnings == ()
    assert load_policy(SHIPPED, model_labels=(*ORIGINAL_LABELS, "sexual_explicit")).warnings == ()


def test_only_thresholds_written_in_the_file_warn() -> None:
    policy = policy_from("toxicity:\n  thresholds: {insult: 0.7}\n", model_labels=["toxicity"])
    assert [warning.split(": ")[1] for warning in policy.warnings] == ["toxicity.thresholds.insult"]


def test_a_file_with_only_thresholds_behaves_like_the_shipped_one(shipped: Policy) -> None:
    minimal = policy_from("toxicity:\n  thresholds:\n    toxicity: 0.8\n")
    for section in (
        "toxicity", "links", "personal_info", "repeat", "flood", "language", "author", "article",
        "reports",
    ):  # fmt: skip
        assert getattr(minimal, section) == getattr(shipped, section), section
    assert [
        (tl.id, tl.language, tl.severity, tl.entries, tl.exceptions) for tl in minimal.terms.lists
    ] == [
        (tl.id, tl.language, tl.severity, tl.entries, tl.exceptions) for tl in shipped.terms.lists
    ]


@pytest.mark.parametrize("yaml_text", ["", "# nothing but a comment\n", "toxicity:\n", "terms:\n"])
def test_empty_files_and_sections_take_defaults(yaml_text: str, shipped: Policy) -> None:
    policy = policy_from(yaml_text)
    assert policy.thresholds == shipped.thresholds
    assert len(policy.terms.lists) == 4


def test_norwegian_is_a_language_not_false() -> None:
    policy = policy_from("language:\n  routes:\n    no: default\n    sv: default\n")
    assert policy.covered_languages("default") == {"en", "no", "sv"}
    assert policy.route("no") == "default"


@pytest.mark.parametrize("code", ["en", "ko", "sw", "eo", "no", "yue"])
def test_language_codes_are_accepted(code: str) -> None:
    policy = policy_from(f"language:\n  routes:\n    {code}: default\n")
    assert policy.route(code) == "default"


@pytest.mark.parametrize("seconds", [10, 86_400, 366 * 86_400])
def test_windows_up_to_a_year_and_a_day(seconds: int) -> None:
    policy = policy_from(
        f"repeat:\n  window_seconds: {seconds}\nflood:\n  window_seconds: {seconds}\n"
    )
    assert (policy.repeat_window_seconds, policy.flood_window_seconds) == (seconds, seconds)


def test_schema_1_is_accepted() -> None:
    assert policy_from("schema: 1\n").thresholds == policy_from("").thresholds


def test_reports_defaults_are_the_shipped_ones(shipped: Policy) -> None:
    assert shipped.reports == ReportsSettings()
    assert policy_from("").reports == ReportsSettings()
    assert ReportsSettings().hide_after is None


def test_reports_section() -> None:
    policy = policy_from(
        "reports:\n  enabled: false\n  review_after: 2\n  hide_after: 5\n"
        "  min_reporter_approved: 0\n  flood: {window_seconds: 60, limit: 3}\n"
    )
    assert policy.reports == ReportsSettings(
        enabled=False,
        review_after=2,
        hide_after=5,
        min_reporter_approved=0,
        flood_window_seconds=60,
        flood_limit=3,
    )


@pytest.mark.parametrize("off", ["null", "false", "~"])
def test_reports_hide_after_and_flood_limit_can_be_off(off: str) -> None:
    policy = policy_from(f"reports:\n  hide_after: {off}\n  flood:\n    limit: {off}\n")
    assert (policy.reports.hide_after, policy.reports.flood_limit) == (None, None)


def test_reports_hide_after_may_equal_review_after() -> None:
    policy = policy_from("reports: {review_after: 3, hide_after: 3}\n")
    assert (policy.reports.review_after, policy.reports.hide_after) == (3, 3)


def test_reports_review_after_above_the_hide_after_is_refused_at_its_line(tmp_path: Path) -> None:
    error = error_for("reports:\n  hide_after: 2\n  review_after: 4\n", tmp_path)
    assert (error.line, error.key_path) == (2, "reports.hide_after")


def test_hard_limit_can_be_removed() -> None:
    assert policy_from("flood:\n  hard_limit: null\n").flood_hard_limit is None
    assert policy_from("flood:\n  hard_limit: 40\n").flood_hard_limit == 40


def test_inline_words_and_patterns() -> None:
    policy = policy_from(
        "terms:\n  lists:\n"
        "    - id: local\n      language: en\n      severity: suspect\n"
        "      words: [zork, zork]\n      patterns: ['buy\\s+followers']\n"
        "    - {id: only-patterns, language: en, severity: banned, patterns: ['\\bxx\\d+']}\n"
    )
    local, _ = policy.terms.lists
    assert local.entries == ("zork",)
    reasons = evaluate(policy, "zork, buy followers, xx12").reasons
    assert [(r.rule, r.evidence["terms"]) for r in reasons] == [
        ("local", ["zork", "buy\\s+followers"]),
        ("only-patterns", ["\\bxx\\d+"]),
    ]


def test_policy_error_without_a_line() -> None:
    error = PolicyError("broken", source="x.yaml")
    assert str(error) == "x.yaml: broken"
    assert PolicyError("p", source="x.yaml", key_path="a.b").args == ("x.yaml: a.b: p",)


def test_an_empty_list_may_be_left_blank() -> None:
    policy = policy_from("links:\n  allow_domains:\nauthor:\n  trusted_skip:\n")
    assert policy.links.allow_domains == ()
    assert policy.author.trusted_skip == frozenset()
