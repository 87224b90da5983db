"""The ASGI entry point uvicorn imports in each of its worker processes."""

from __future__ import annotations

from service.app import create_app
from service.logging import configure_logging
from service.process_metrics import sample_resident_memory
from service.settings import Settings

settings = Settings()
configure_logging(settings.log_level, json=settings.log_json)
app = create_app(settings)
sample_resident_memory("api")
