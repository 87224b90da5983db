"""One typed settings object for every process, read from `MODERATION_*` variables, the env
file MODERATION_ENV_FILE names (default `./.env`) and `MODERATION_<NAME>_FILE` secrets
(`service.settings_sources`).

Built once at start-up (`Settings()`) and passed down; tests build their own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from policy.messages import DEFAULT_LOCALE, LOCALES
from service.errors import ConfigurationError
from service.events import event_names
from service.settings_sources import EnvFileSource, EnvironmentSource, env_file_path

DEFAULT_VAR_DIR = Path("var")
DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policy" / "standards-board.yaml"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MODERATION_", extra="ignore", protected_namespaces=(), populate_by_name=True
    )

    var_dir: Path = Field(DEFAULT_VAR_DIR, description="Where the embedded defaults keep files.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite at var/moderation.db."
    )
    redis_url: str | None = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis for the broker, counters and pub/sub; empty = none (dev only).",
    )
    broker_url: str | None = Field(
        None, description="Celery broker; default: REDIS_URL (dev falls back to filesystem://)."
    )

    jwt_secret: SecretStr | None = Field(
        None,
        description="HS256 secret of API tokens, at least 32 bytes (one of three key sources).",
    )
    jwt_public_key: str | None = Field(
        None, description="PEM public key of the site's identity provider (RS256/ES256)."
    )
    jwks_url: str | None = Field(
        None, description="JWKS endpoint of the site's identity provider (RS256/ES256)."
    )
    jwt_issuer: str | None = Field(None, description="The `iss` tokens must carry, when set.")
    jwt_audience: str | None = Field(None, description="The `aud` tokens must carry, when set.")
    jwt_leeway_seconds: int = Field(30, description="Clock leeway on `exp`, `nbf` and `iat`.")
    jwks_cache_seconds: float = Field(300.0, gt=0, description="How long JWKS keys are fresh.")
    jwks_refresh_seconds: float = Field(
        30.0, gt=0, description="At most one JWKS fetch per this many seconds, whatever kids come."
    )
    jwks_timeout_seconds: float = Field(3.0, gt=0, description="Timeout of one JWKS fetch.")

    model: str = Field(
        "unbiased",
        description="The default model: original, unbiased, multilingual, original-small, "
        "unbiased-small, or a checkpoint path.",
    )
    model_config_dir: str | None = Field(
        None,
        alias="MODERATION_MODEL_CONFIG",
        description="A local transformers config/tokenizer directory: the model loads offline.",
    )
    quantize: Literal["int8", "none"] = Field(
        "int8", description="int8 scores on quantized weights; none keeps fp32."
    )
    int8_kernel: Literal["auto", "rowwise", "per_tensor"] = Field(
        "auto",
        description="Which int8 kernel scores on CPU: rowwise (oneDNN's exact int8, batches of "
        "8; needs AVX-512 VNNI, AVX-VNNI or AMX), per_tensor (torch.ao's dynamic int8, one "
        "comment a pass, any CPU) or auto (rowwise where this CPU runs it exactly).",
    )
    device: str = Field("cpu", description="Where the model runs: cpu, cuda, cuda:N or mps.")
    max_tokens: int = Field(
        256,
        ge=16,
        le=512,
        description="Tokens read per text; a text is padded only to its own length, so the "
        "cap costs nothing below it (CJK or emoji can reach 250 tokens in 250 characters).",
    )
    worker_niceness: int = Field(
        10,
        ge=0,
        le=19,
        description="The scheduling niceness of the processes that score: on a host shared "
        "with the API, accepting a comment goes before scoring one, so a spike's backlog "
        "never slows the answers readers wait for.",
    )
    worker_events: bool = Field(
        False,
        description="Workers send Celery's task events and event heartbeats, what Flower and "
        "`celery events` show; off by default for their CPU cost (docs/operating.md).",
    )
    model_base_url: str | None = Field(
        None,
        description="Where Detoxify checkpoints download from, for `moderation models fetch` "
        "and for workers given a variant name (default: Detoxify's GitHub releases).",
    )
    model_hf_base_url: str | None = Field(
        None,
        description="Where `moderation models fetch` gets transformers config/tokenizer files "
        "and `hf:ORG/NAME` checkpoints (default: the Hugging Face hub).",
    )
    models: str | None = Field(
        None,
        description="The model registry: a JSON object from model id to a published Detoxify "
        "variant name or a Hugging Face checkpoint directory relative to MODERATION_MODELS_DIR, "
        'e.g. {"ko-hate": "ko-hate"}; the id `default` is MODERATION_MODEL\'s.',
    )
    models_dir: Path = Field(
        Path("models"),
        description="Where the registry's Hugging Face checkpoint directories live; a "
        "directory outside it is refused.",
    )

    policy: Path = Field(DEFAULT_POLICY, description="The standards-board policy file.")
    shadow_policy: Path | None = Field(
        None,
        description="A second policy file the worker evaluates on live traffic and records "
        "next to the real decision, never acting on it (`moderation policy shadow-report`).",
    )
    audit_sample: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="The share of auto-approved comments (still published) sent to the "
        "moderators' audit sample queue, so the policy's misses can be measured.",
    )

    webhook_url: str | None = Field(None, description="Where webhook events are delivered.")
    webhook_secret: SecretStr | None = Field(
        None, description="The Standard Webhooks signing secret (whsec_...), required with the URL."
    )
    webhook_events: str | None = Field(
        None,
        description="Which events are written to the outbox and sent, comma-separated "
        "(comment.decided, comment.reported, comment.reviewed, report.resolved, "
        "comment.edited, comment.deleted, author.warned, author.suspended, author.banned, "
        "author.sanction_lifted, author.erased); default all.",
    )
    webhook_max_attempts: int = Field(
        8, ge=1, description="Delivery attempts before an event is marked failed."
    )
    webhook_backoff_seconds: float = Field(
        5.0, gt=0, description="The first retry's delay; it doubles each attempt (at most 1 h)."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of one delivery attempt."
    )

    sweep_grace_seconds: float = Field(
        60.0,
        ge=0,
        description="A comment pending this long is sent again (the wait doubles per re-send).",
    )
    sweep_interval_seconds: float = Field(15.0, gt=0, description="How often beat sweeps.")
    outbox_interval_seconds: float = Field(
        5.0, gt=0, description="How often beat relays the webhook outbox."
    )

    retention_days: int = Field(90, ge=1, description="Erase decided comments' text after this.")
    retention_interval_seconds: float = Field(
        3600.0, gt=0, description="How often beat runs the retention purge."
    )

    erase_key: SecretStr | None = Field(
        None,
        description="The key (32+ bytes) of the HMAC that keeps an erased author's sanctions "
        "in force and remembers the erasure; erasing answers 503 erase_key_missing without it.",
    )

    require_reason_code: bool = Field(
        False,
        description="A moderator's reject must carry a reason_code (422 reason_code_required).",
    )

    public_url: str | None = Field(
        None,
        description="The service's address as clients reach it (https://host/), written as "
        "rootUrl in the Perspective discovery document; default: each request's own "
        "scheme and host.",
    )
    max_body_bytes: int = Field(
        64 * 1024, description="The largest request body (413 body_too_large above)."
    )
    analyze_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        description="How long `comments:analyze` waits for a worker's scores before 503.",
    )
    idempotency_window_seconds: int = Field(
        24 * 3600, description="How long an Idempotency-Key replays the original comment."
    )
    edit_window_seconds: int = Field(
        900,
        ge=0,
        description="How long after posting its author may edit a comment; 0 turns edits off.",
    )
    default_locale: str = Field(
        DEFAULT_LOCALE,
        description="The language of the reason messages the worker stores and webhooks "
        f"carry, and of API answers to a request whose Accept-Language names none of "
        f"{', '.join(LOCALES)}.",
    )
    log_level: LogLevel = Field(
        "INFO",
        description="The least severe log lines written: DEBUG, INFO, WARNING, ERROR or "
        "CRITICAL (any case).",
    )
    log_json: bool = Field(True, description="Log lines as JSON objects; false: for people.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then the env file, each with its `_FILE` secrets."""
        return (
            init_settings,
            EnvironmentSource(settings_cls),
            EnvFileSource(settings_cls, env_file_path(os.environ)),
        )

    @field_validator(
        "database_url",
        "redis_url",
        "broker_url",
        "jwt_secret",
        "jwt_public_key",
        "jwks_url",
        "jwt_issuer",
        "jwt_audience",
        "model_config_dir",
        "model_base_url",
        "model_hf_base_url",
        "models",
        "webhook_url",
        "webhook_secret",
        "webhook_events",
        "shadow_policy",
        "erase_key",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("jwt_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("MODERATION_JWT_SECRET must be at least 32 bytes (RFC 7518 3.2)")
        return value

    @field_validator("erase_key")
    @classmethod
    def _erase_key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("MODERATION_ERASE_KEY must be at least 32 bytes")
        return value

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        # A typo fails here, in the command that starts, not in each worker child's torch.
        if not re.fullmatch(r"cpu|cuda|cuda:[0-9]+|mps", value):
            raise ValueError(f"MODERATION_DEVICE must be cpu, cuda, cuda:N or mps, not {value!r}")
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        """Blank is none; otherwise an http(s) address, ending with "/" as a rootUrl must."""
        if value == "" or value is None:
            return None
        if not (isinstance(value, str) and re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value)):
            raise ValueError(f"MODERATION_PUBLIC_URL must be an http(s) URL, not {value!r}")
        return value.rstrip("/") + "/"

    @field_validator("default_locale")
    @classmethod
    def _shipped_locale(cls, value: str) -> str:
        if value.lower() not in LOCALES:
            raise ValueError(
                f"MODERATION_DEFAULT_LOCALE must be one of {', '.join(LOCALES)} (the languages "
                f"reason messages are catalogued in), not {value!r}"
            )
        return value.lower()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'moderation.db').resolve()}"

    @property
    def announced_events(self) -> frozenset[str]:
        """The webhook events written to the outbox: none without a webhook URL, else those
        MODERATION_WEBHOOK_EVENTS names (all by default). A name no event has is a
        ConfigurationError (`service.startup.check_webhook` stops the process with it)."""
        if self.webhook_url is None:
            return frozenset()
        return event_names(self.webhook_events)

    def announces(self, event_type: str) -> bool:
        return event_type in self.announced_events

    @property
    def effective_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        if self.redis_url:
            return self.redis_url
        raise ConfigurationError("no broker: set MODERATION_REDIS_URL or MODERATION_BROKER_URL")

    @property
    def jwt_key_source(self) -> str | None:
        """The variable naming the one JWT key source, or None when none is set.

        Two or more is a configuration error: whichever one won would be a guess, and the
        tokens signed for the other would all be 401s.
        """
        named = [
            name
            for name, value in (
                ("MODERATION_JWT_SECRET", self.jwt_secret),
                ("MODERATION_JWT_PUBLIC_KEY", self.jwt_public_key),
                ("MODERATION_JWKS_URL", self.jwks_url),
            )
            if value is not None
        ]
        if len(named) > 1:
            raise ConfigurationError(
                f"more than one JWT key source is set ({', '.join(named)}): set exactly one"
            )
        return named[0] if named else None
