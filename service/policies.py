"""The policy in force, reloaded when its file (or a term list it names) changes.

A broken new file keeps the old policy in force and logs why, so an editor's typo never
stops moderation. Workers check before each task (`check_every=0`); the API checks at most
once a second and at once on SIGHUP. Celery restarts a worker on SIGHUP, so workers never
rely on it.

A process started later (a Celery child replacing one that died, a uvicorn worker) has no
old policy to keep; it falls back to the last good copy of the file, which every successful
load writes under the var dir.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import structlog

from policy import Policy, PolicyError, RegisteredModel, load_policy, parse_policy
from service.models.registry import registered_models
from service.settings import Settings

log = structlog.get_logger(__name__)

LAST_GOOD_NAME = "policy-last-good.yaml"
# A policy the holder's `before_swap` rejected (a model it routes to didn't load) is tried
# again after this long even if its file is unchanged: the model may have been fixed since.
REJECTED_RETRY_SECONDS = 60.0


def configured_model_labels(settings: Settings) -> tuple[str, ...] | None:
    """The labels MODERATION_MODEL scores, known without loading it; None for a checkpoint
    that is not a published variant (its labels are in the checkpoint itself)."""
    # The variant table imports no torch; it lives with the scorer, the labels' one source.
    from service.model_catalogue import model_labels, variant_of

    variant = variant_of(settings.model)
    return None if variant is None else model_labels(variant)


def policy_holder(
    settings: Settings,
    *,
    check_every: float = 0.0,
    model_labels: Collection[str] | None = None,
    registry: Mapping[str, RegisteredModel] | None = None,
    before_swap: Callable[[Policy], None] | None = None,
) -> PolicyHolder:
    """The holder a long-running process keeps: the models it checks the policy against (by
    default the registry, `registered_models`: MODERATION_MODEL as `default` and those
    MODERATION_MODELS names; given `model_labels` alone, `default` with those labels), and
    the last good copy to fall back to. Raises ConfigurationError for a bad registry."""
    if registry is None and model_labels is None:
        registry = registered_models(settings)
    return PolicyHolder(
        settings.policy,
        before_swap=before_swap,
        check_every=check_every,
        model_labels=configured_model_labels(settings) if model_labels is None else model_labels,
        registry=registry,
        last_good=settings.var_dir / LAST_GOOD_NAME,
    )


def check_policy_file(settings: Settings) -> Policy:
    """Load the policy strictly (no fallback), as a process's start-up check does; raises
    PolicyError (ConfigurationError for a bad MODERATION_MODELS). Routes and label maps are
    checked against the registry: a checkpoint's outputs are its config.json's id2label, read
    without torch. Its warnings are logged and the file becomes the last good copy."""
    loaded = load_policy(settings.policy, registry=registered_models(settings))
    log_warnings(loaded)
    _keep_last_good(settings.var_dir / LAST_GOOD_NAME, settings.policy.read_bytes())
    return loaded


def log_warnings(policy: Policy) -> None:
    for warning in policy.warnings:
        log.warning("policy.warning", warning=warning, version=policy.version)


def is_blank(raw: bytes) -> bool:
    """Nothing but blank lines and comments: an editor's save caught halfway, not a policy."""
    return not any(line.strip() and not line.lstrip().startswith(b"#") for line in raw.splitlines())


class PolicyHolder:
    """`before_swap(policy)`, when set, runs before a policy is put in force (the first one
    included) and rejects it by raising: the worker loads the models it routes to there
    (workers/models.py). A rejected reload keeps the policy in force, like a broken file; a
    rejected first policy falls back to the last good copy, if that is accepted."""

    def __init__(
        self,
        path: Path,
        *,
        before_swap: Callable[[Policy], None] | None = None,
        check_every: float = 0.0,
        model_labels: Collection[str] | None = None,
        registry: Mapping[str, RegisteredModel] | None = None,
        last_good: Path | None = None,
    ) -> None:
        self.path = path
        self._check_every = check_every
        self._model_labels = model_labels
        self._registry = registry
        self._last_good = last_good
        self.before_swap = before_swap
        self._retry_at: float | None = None
        self._lock = threading.Lock()
        self._policy = self._first_load()
        log_warnings(self._policy)
        try:
            self._digest = self._fingerprint(self._policy)
        except OSError:
            self._digest = ""  # running on the last good copy: any file that appears is new
        self._checked_at = time.monotonic()

    def current(self) -> Policy:
        now = time.monotonic()
        if now - self._checked_at >= self._check_every:
            self._checked_at = now
            self.reload_if_changed()
        return self._policy

    def reload_if_changed(self) -> None:
        try:
            digest = self._fingerprint(self._policy)
        except OSError as exc:
            log.error("policy.unreadable", path=str(self.path), error=exc.strerror)
            return
        if digest == self._digest and not self._retry_due():
            return
        with self._lock:
            if digest == self._digest and not self._retry_due():
                return
            self._retry_at = None
            try:
                raw = self.path.read_bytes()
                policy = self._parse(raw, allow_blank=False)
                self._accept(policy)
            except PolicyError as exc:
                log.error(
                    "policy.reload_rejected",
                    error=str(exc),
                    version_in_force=self._policy.version,
                )
            except OSError as exc:
                log.error("policy.unreadable", path=str(self.path), error=exc.strerror)
                return
            else:
                log.info("policy.reloaded", version=policy.version, previous=self._policy.version)
                log_warnings(policy)
                self._policy = policy
                digest = self._fingerprint(policy)
                self._keep(raw)
            self._digest = digest

    def _first_load(self) -> Policy:
        last_good = self._last_good_raw()
        try:
            raw = self.path.read_bytes()
            # A process started while an editor's save is halfway must not run on defaults.
            policy = self._parse(raw, allow_blank=last_good in (None, raw))
            self._accept(policy)
        except (PolicyError, OSError) as exc:
            fallback = None
            if last_good is not None:
                with contextlib.suppress(PolicyError):
                    parsed = self._parse(last_good, allow_blank=True)
                    self._accept(parsed)
                    fallback = parsed
            if fallback is None:
                if isinstance(exc, OSError):
                    raise PolicyError(
                        f"can't read the policy file ({exc.strerror})", source=str(self.path)
                    ) from exc
                raise
            log.warning(
                "policy.last_good_used",
                path=str(self.path),
                error=exc.strerror if isinstance(exc, OSError) else str(exc),
                version=fallback.version,
            )
            return fallback
        self._keep(raw)
        return policy

    def _accept(self, policy: Policy) -> None:
        """`before_swap`'s verdict; a rejection is a PolicyError naming its reason."""
        if self.before_swap is None:
            return
        try:
            self.before_swap(policy)
        except Exception as exc:
            self._retry_at = time.monotonic() + REJECTED_RETRY_SECONDS
            raise PolicyError(str(exc), source=str(self.path)) from exc

    def _retry_due(self) -> bool:
        return self._retry_at is not None and time.monotonic() >= self._retry_at

    def _parse(self, raw: bytes, *, allow_blank: bool) -> Policy:
        if not allow_blank and is_blank(raw):
            raise PolicyError(
                "the file is empty; an empty policy would put every default in force, so it "
                "is only read at start-up (write `schema: 1` for the defaults)",
                source=str(self.path),
            )
        return parse_policy(
            raw,
            source=str(self.path),
            base_dir=self.path.parent,
            model_labels=self._model_labels,
            registry=self._registry,
        )

    def _last_good_raw(self) -> bytes | None:
        if self._last_good is None:
            return None
        try:
            return self._last_good.read_bytes()
        except OSError:
            return None

    def _keep(self, raw: bytes) -> None:
        if self._last_good is not None:
            _keep_last_good(self._last_good, raw)

    def _fingerprint(self, policy: Policy) -> str:
        digest = hashlib.sha256(self.path.read_bytes())
        for term_file in policy.term_files:
            digest.update(term_file.read_bytes())
        return digest.hexdigest()


def _keep_last_good(path: Path, raw: bytes) -> None:
    """Written whole or not at all: several processes may write it at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_bytes(raw)
        os.replace(partial, path)
    except OSError as exc:
        log.warning("policy.last_good_unsaved", path=str(path), error=exc.strerror)
