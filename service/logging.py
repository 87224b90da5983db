"""Structured logs: one JSON object a line, fixed event names, no comment text above debug."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # sys.__stderr__: Celery replaces sys.stderr in its children with a logging proxy.
        logger_factory=structlog.PrintLoggerFactory(file=sys.__stderr__),
        cache_logger_on_first_use=True,
    )
    # Libraries that log through the standard library go through the same renderer.
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=processors,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Celery's pool (billiard) logs through "multiprocessing", which it cuts off from the root
    # logger: without a handler of its own, a worker child's death would print as plain text.
    pool = logging.getLogger("multiprocessing")
    pool.handlers[:] = [handler]
    pool.propagate = False
    # Warnings too (Celery's SecurityWarning, deprecations): else they print as plain text.
    logging.captureWarnings(True)
    # uvicorn's access log prints query strings (and so API keys); we log requests ourselves.
    logging.getLogger("uvicorn.access").disabled = True
