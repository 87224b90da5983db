"""Tables. The comment row carries the current status and version; decisions and webhook
events are append-only records written in the same transaction as the change they describe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model below names a __tablename__, so its __table__ is a Table; the base
        # types it as any FromClause, which Core insert() and update() do not accept.
        __table__: ClassVar[Table]


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    article_id: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id"))
    author_id: Mapped[str] = mapped_column(String(255))
    author_name: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The text's revision: 1 as posted, + 1 for each edit by its author. Earlier revisions'
    # texts are in `comment_revisions`; this row holds the current one.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enqueue_count: Mapped[int] = mapped_column(Integer, default=0)
    # Batches that named the comment and were killed while scoring (their child killed, or
    # out of time): from 1, it is sent alone; at workers/killed.py's MAX_KILLS, it is held.
    kill_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    # The highest toxicity label score, set with the automated decision so the hold queue
    # can sort and filter on it with an index.
    max_score: Mapped[float | None] = mapped_column(Float)
    # A moderator's lease on a held comment; ignored once `claimed_until` has passed.
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When readers' reports put the comment in the reported queue; None when it is not there
    # (never reported, or its reports were closed by a moderator's keep or reject).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("uq_comments_author_idempotency", "author_id", "idempotency_key", unique=True),
        Index("ix_comments_status_created", "status", "created_at"),
        Index("ix_comments_article_created", "article_id", "created_at"),
        Index("ix_comments_author_created", "author_id", "created_at"),
        Index("ix_comments_status_max_score", "status", "max_score"),
        Index("ix_comments_reported_at", "reported_at"),
        Index("ix_comments_parent_created", "parent_id", "created_at"),
    )


class Decision(Base):
    """Every automated and human decision, oldest first; never updated."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"))
    # The comment's revision the decision was made on.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    by: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    scores: Mapped[dict[str, float]] = mapped_column(JSONDocument, default=dict)
    policy_version: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(200))
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    moderator_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    # A moderator's coded reason (service/reports/reasons.py), what the author may be told,
    # and the law a restriction for illegal content rests on.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    explanation: Mapped[str | None] = mapped_column(Text)
    legal_ground: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # The database, not the worker, guarantees one automated decision per revision of a
        # comment: a task that runs twice hits this index and stops quietly.
        Index(
            "uq_decisions_one_policy_decision",
            "comment_id",
            "revision",
            unique=True,
            sqlite_where=text("by = 'policy'"),
            postgresql_where=text("by = 'policy'"),
        ),
        Index("ix_decisions_comment_at", "comment_id", "at"),
        Index("ix_decisions_by_at", "by", "at"),
    )


class CommentRevision(Base):
    """Every revision of an edited comment, the first included (an unedited comment has no
    rows here: its one revision is the comment row). `text` is erased with the comment's, on
    deletion and at retention."""

    __tablename__ = "comment_revisions"

    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # An edit's Idempotency-Key, scoped to the comment (and so to its author), and the hash
    # of the edit's body, as on comments.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    body_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index(
            "uq_comment_revisions_comment_idempotency",
            "comment_id",
            "idempotency_key",
            unique=True,
        ),
    )


class Report(Base):
    """A reader's report of a published comment: one per reader and comment, whatever its
    reason. It stays `open` until a moderator keeps the comment (`dismissed`) or rejects it
    (`upheld`); its row is never deleted, so precision by reason and reporter can be measured."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"))
    reporter_id: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    # The notice fields of a report of illegal content (EU DSA Art. 16).
    legal_ground: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    good_faith: Mapped[bool | None] = mapped_column(Boolean)
    # Whether the reporter had enough approved comments of their own, when they reported, to
    # count toward the policy's `reports.hide_after`.
    counts_toward_hide: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        # One report per reader and comment: a repeat answers with this row and counts nothing.
        Index("uq_reports_comment_reporter", "comment_id", "reporter_id", unique=True),
        Index("ix_reports_comment_status", "comment_id", "status"),
        Index("ix_reports_reporter_created", "reporter_id", "created_at"),
        Index("ix_reports_resolved_at", "resolved_at"),
    )


class WebhookEvent(Base):
    """The outbox: written in the decision's transaction, delivered afterwards."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The comment the event is about; None for an author's event (`author.*`).
    comment_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id"))
    # The author an `author.*` event is about (their pseudonym once erased).
    author_id: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_webhook_events_status_next", "status", "next_attempt_at"),)


class HoldReason(Base):
    """The kinds of rule that held a comment, one row each, so the queue can filter on them."""

    __tablename__ = "hold_reasons"

    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_hold_reasons_kind", "kind"),)


class Sanction(Base):
    """A moderator's sanction on an author: a warning (recorded and announced, nothing
    refused), a suspension (new comments, reports and edits refused until `until`) or a ban
    (refused until lifted). Rows are never deleted: lifting one early sets `lifted_at`, and a
    suspension lapses by itself when `until` passes.

    `author_id` is the author's id, or their pseudonym once they are erased; `author_hmac`,
    set on erasure, is HMAC-SHA256(MODERATION_ERASE_KEY, id), so that an erased author's
    active sanctions still refuse them under their old id."""

    __tablename__ = "sanctions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    author_id: Mapped[str] = mapped_column(String(255))
    author_hmac: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    explanation: Mapped[str | None] = mapped_column(Text)
    # A suspension's end; None for warnings and bans.
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A ban's `reject_held`: whether the author's held comments were rejected with it.
    reject_held: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index("ix_sanctions_author_created", "author_id", "created_at"),
        Index("ix_sanctions_author_hmac", "author_hmac"),
    )


class AuthorNote(Base):
    """A moderator's note on an author: append-only, never updated."""

    __tablename__ = "author_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author_id: Mapped[str] = mapped_column(String(255))
    moderator_id: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_author_notes_author_at", "author_id", "at"),)


class AuthorRef(Base):
    """The audit names authors by `ref`, a random key, never by their id: erasing an author
    replaces `author_id` here with their pseudonym, and no audit row is rewritten."""

    __tablename__ = "author_refs"

    author_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ref: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_author_refs_ref", "ref", unique=True),)


class Erasure(Base):
    """An erased author: `author_hmac` is HMAC-SHA256(MODERATION_ERASE_KEY, their old id),
    so a second erase of that id answers `already_erased`; `pseudonym` is what replaced it."""

    __tablename__ = "erasures"

    author_hmac: Mapped[str] = mapped_column(String(64), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    erased_by: Mapped[str] = mapped_column(String(255))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModerationAudit(Base):
    """Every moderator action, never updated (a database trigger refuses UPDATE)."""

    __tablename__ = "moderation_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    moderator_id: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    comment_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    # The author the action concerns, by their `author_refs.ref` (never their id).
    author_ref: Mapped[str | None] = mapped_column(String(255))
    previous_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str | None] = mapped_column(String(16))
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_moderation_audit_comment_id", "comment_id"),
        Index("ix_moderation_audit_author_ref", "author_ref"),
        Index("ix_moderation_audit_at", "at"),
    )


class ArticleFlags(Base):
    """Per-article moderation settings, set by moderators; absent means the defaults."""

    __tablename__ = "article_settings"

    article_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    premoderated: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthorFlags(Base):
    """Authors the policy treats specially: always held, or trusted."""

    __tablename__ = "author_settings"

    author_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    always_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShadowDecision(Base):
    """What the shadow policy would have decided, next to the real decision; never acted on."""

    __tablename__ = "shadow_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"))
    policy_version: Mapped[str] = mapped_column(String(64))
    # The comment's revision the shadow policy decided: compared with the real decision of
    # the same revision.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    action: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(
            "uq_shadow_decisions_comment_policy_revision",
            "comment_id",
            "policy_version",
            "revision",
            unique=True,
        ),
        Index("ix_shadow_decisions_at", "at"),
    )


class AuditSample(Base):
    """An auto-approved comment drawn for the audit sample (it stays published), and the
    moderator's label once given: the only unbiased view of what the policy lets through."""

    __tablename__ = "audit_samples"

    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    # The sampling rate in force when drawn: each labelled sample stands for 1/rate approvals.
    rate: Mapped[float] = mapped_column(Float)
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    label: Mapped[str | None] = mapped_column(String(16))
    labelled_by: Mapped[str | None] = mapped_column(String(255))
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_audit_samples_label_sampled", "label", "sampled_at"),)


class PerspectiveKey(Base):
    """A server-to-server key for the Perspective-compatible API. Only its SHA-256 is kept:
    the key itself is printed once, when made. Revoking sets `revoked_at`; rows stay, so
    feedback keeps naming the key it came with."""

    __tablename__ = "perspective_keys"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    qps: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_perspective_keys_key_hash", "key_hash", unique=True),)


class PerspectiveFeedback(Base):
    """A labelled example sent to `comments:suggestscore`, one row per attribute. The text is
    kept on purpose, until retention erases it: a client sends it as feedback, to tune
    thresholds with. `scores` is the model's summary of that text (every label), filled in by
    the `score_feedback` task: only a scored row can be placed on a threshold, and it stays
    one after its text is gone. `enqueued_at` and `enqueue_count` say when and how often its
    scoring task was sent, as for a comment: the sweeper sends it again while the row is
    unscored and still has its text (workers/sweeper.py)."""

    __tablename__ = "perspective_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_name: Mapped[str] = mapped_column(ForeignKey("perspective_keys.name"))
    attribute: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    community_id: Mapped[str | None] = mapped_column(Text)
    client_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scores: Mapped[dict[str, float] | None] = mapped_column(JSONDocument)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enqueue_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_perspective_feedback_created_at", "created_at"),)


# A feedback row still owed its model scores: none yet, and a text to score, which retention
# may have erased first. The sweeper reads only these rows, by this partial index.
FEEDBACK_UNSCORED = and_(
    PerspectiveFeedback.scores.is_(None), PerspectiveFeedback.text.is_not(None)
)
Index(
    "ix_perspective_feedback_unscored",
    PerspectiveFeedback.enqueued_at,
    sqlite_where=FEEDBACK_UNSCORED,
    postgresql_where=FEEDBACK_UNSCORED,
)
