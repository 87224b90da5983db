"""Seeded history for the insights page: a month of comments decided by the shipped policy and
judged by moderators, an audit sample, a shadow policy, and readers' reports with their
outcomes. Shared by the insights page's browser tests and the accessibility tests."""

from __future__ import annotations

import random
from datetime import timedelta

import policy
from service.db.tables import utcnow
from service.http.auth import Principal
from service.moderation.review import review_comment
from service.moderation.schemas import Review
from service.settings import DEFAULT_POLICY
from service.store.reports import add_report, close_open_reports
from service.store.tuning import add_shadow_decisions, lock_audit_sample_or_none
from service.tuning.sampling import judge_sample
from tests.support.browser import Site
from tests.support.comments import stored_comment
from tests.support.tuning_history import record_policy_decision

MODERATOR = Principal("mod-1", roles=frozenset({"moderator"}))
DAYS = 30
TEXTS = (
    "The council should publish the full budget before the vote.",
    "This is the worst take I have read all year, honestly.",
    "Great reporting, thank you for following up on this.",
    "People like you are the reason this country is a mess.",
    "Source for the figures in paragraph three, please?",
    "Typical of this paper to leave out the other side.",
)


def clamp(value: float) -> float:
    return round(min(max(value, 0.001), 0.999), 3)


def seed_month(site: Site, *, days: int = DAYS) -> dict[str, int]:
    """`days` of comments (a month by default) decided by the shipped policy, judged by
    moderators who are slower at weekends; a tenth of approvals sampled and labelled; a shadow
    policy on the last week."""
    rng = random.Random(2026)
    current = policy.load_policy(DEFAULT_POLICY)
    now = utcnow()
    counts = {"comments": 0, "held": 0}
    for day in range(days, 0, -1):
        for n in range(rng.randint(9, 16)):
            at = now - timedelta(days=day) + timedelta(hours=rng.uniform(7, 23))
            harmful = rng.random() < 0.3
            scores = {
                "toxicity": clamp((0.7 if harmful else 0.28) + rng.gauss(0, 0.18)),
                "insult": clamp((0.62 if harmful else 0.22) + rng.gauss(0, 0.2)),
                "threat": clamp((0.25 if harmful else 0.03) + rng.gauss(0, 0.12)),
                "obscene": clamp((0.45 if harmful else 0.12) + rng.gauss(0, 0.18)),
            }
            text = TEXTS[(day + n) % len(TEXTS)]
            if rng.random() < 0.06:
                text += " More at http://deals.example/x"
            context = policy.Context(
                author={"approved": 3, "rejected": 0, "held": 0},
                article={"premoderated": False},
                flood_count=1,
                language="en",
            )
            decision = current.evaluate(
                policy.Comment(text=text, author_id=f"reader-{n}", article_id="news-1"),
                scores,
                context,
            )
            with site.db.session() as session:
                comment_id = stored_comment(
                    session, text=text, author_id=f"reader-{n}", article_id="news-1", now=at
                ).id
            record_policy_decision(
                site.db,
                comment_id=comment_id,
                decision=decision,
                scores=scores,
                context=context,
                policy_version=current.version,
                now=at,
                audit_sample_rate=0.1,
            )
            counts["comments"] += 1
            if day <= 7:
                with site.db.session() as session:
                    add_shadow_decisions(
                        session,
                        policy_version="sha256:shadow-candidate",
                        decisions=[
                            (
                                comment_id,
                                1,
                                "hold" if scores["insult"] >= 0.6 else decision.action,
                                [],
                            )
                        ],
                        now=at,
                    )
            if decision.action == "hold":
                counts["held"] += 1
                weekend = (now - timedelta(days=day)).weekday() >= 5
                delay = timedelta(hours=rng.uniform(8, 40) if weekend else rng.uniform(0.2, 6))
                waiting = day <= 2 and rng.random() < 0.6
                if not waiting and at + delay < now:
                    review_comment(
                        site.db,
                        moderator=MODERATOR,
                        review=Review(
                            comment_id,
                            # moderators let some through the model scores high (quotes, irony)
                            "reject" if harmful and rng.random() < 0.85 else "approve",
                            2,
                            None,
                            False,
                        ),
                        events=frozenset(),
                        now=at + delay,
                    )
            else:
                with site.db.session() as session:
                    sampled = lock_audit_sample_or_none(session, comment_id=comment_id)
                if sampled is not None and day > 2:
                    judge_sample(
                        site.db,
                        moderator=MODERATOR,
                        comment_id=comment_id,
                        label="not_fine" if harmful else "fine",
                        override=False,
                        now=at + timedelta(hours=2),
                    )
    return counts


# (reporters and their reasons, outcome) of three reported comments
REPORTED = (
    ([("reader-7", "spam"), ("reader-8", "spam"), ("reader-9", "offensive")], "upheld"),
    ([("reader-7", "spam"), ("reader-8", "harassment")], "dismissed"),
    ([("reader-7", "hate_speech")], None),
)


def seed_reports(site: Site) -> None:
    """Published comments reported by readers; a moderator upheld or dismissed the reports
    of the first two, the third's are still open."""
    now = utcnow()
    for index, (reports, outcome) in enumerate(REPORTED):
        with site.db.session() as session:
            comment_id = stored_comment(
                session,
                text=TEXTS[index],
                author_id=f"author-{index}",
                article_id="news-1",
                now=now - timedelta(days=3),
            ).id
            for reporter, reason in reports:
                add_report(
                    session,
                    now=now - timedelta(days=2),
                    comment_id=comment_id,
                    reporter_id=reporter,
                    reason=reason,
                    counts_toward_hide=True,
                )
            if outcome is not None:
                close_open_reports(
                    session,
                    comment_id=comment_id,
                    outcome=outcome,
                    moderator_id="mod-1",
                    now=now - timedelta(days=1),
                )
