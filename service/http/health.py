"""Readiness: can this API process accept comments, and what around it is degraded."""

from __future__ import annotations

from typing import Any

import redis
from sqlalchemy import text

from service.broker.heartbeats import loaded_workers
from service.http.services import Services


def readiness(svc: Services) -> tuple[int, dict[str, Any]]:
    checks: dict[str, Any] = {
        "database": _database(svc),
        "policy": {"status": "ok", "version": svc.policies.current().version},
        "redis": _redis(svc),
    }
    checks["workers"] = (
        _workers(svc)
        if checks["redis"]["status"] == "ok"
        else {
            "status": "unknown",
            "detail": "worker heartbeats are kept in Redis, which is not answering",
        }
    )
    if checks["database"]["status"] != "ok":
        overall, code = "unavailable", 503
    elif any(check["status"] != "ok" for check in checks.values()):
        overall, code = "degraded", 200
    else:
        overall, code = "ok", 200
    return code, {"status": overall, "checks": checks}


def _database(svc: Services) -> dict[str, Any]:
    try:
        with svc.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return {"status": "down", "detail": f"database not reachable ({type(exc).__name__})"}
    return {"status": "ok"}


def _redis(svc: Services) -> dict[str, Any]:
    if svc.redis is None:
        return {"status": "ok", "detail": "not configured: embedded broker, no Redis features"}
    try:
        svc.redis.ping()
    except redis.RedisError as exc:
        return {"status": "down", "detail": f"Redis not answering ({type(exc).__name__})"}
    return {"status": "ok"}


def _workers(svc: Services) -> dict[str, Any]:
    if svc.redis is None:
        return {"status": "unknown", "detail": "no Redis to read worker heartbeats from"}
    try:
        ready = loaded_workers(svc.redis)
    except redis.RedisError as exc:
        return {"status": "unknown", "detail": f"Redis not answering ({type(exc).__name__})"}
    if not ready:
        return {"status": "down", "alive": 0, "detail": "no worker with a loaded model is alive"}
    return {
        "status": "ok",
        "alive": len(ready),
        "models": sorted({beat.get("model", "") for beat in ready}),
    }
