"""The hostile-input suite: apps built with the settings each attack needs, keys of every
kind the verifier accepts, and a real JWKS endpoint on 127.0.0.1 that counts its visitors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient

from service.app import create_app
from tests.support.api import API_REDIS_DB, Api, ApiFactory, api_settings
from tests.support.forge import JwksServer, KeyPair, public_pem


@pytest.fixture
def make_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[ApiFactory]:
    """Builds an app with settings overrides (another key source, issuer, audience...)."""
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    clients: list[TestClient] = []

    def build(**overrides: object) -> Api:
        if {"jwt_public_key", "jwks_url"} & overrides.keys():
            overrides.setdefault("jwt_secret", None)
        settings = api_settings(database_url, redis_server, tmp_path, **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Api(client, settings)

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: ApiFactory) -> Api:
    return make_api()


@pytest.fixture(scope="session")
def rsa_key() -> KeyPair:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(private, public_pem(private), "RS256")


@pytest.fixture(scope="session")
def other_rsa_key() -> KeyPair:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(private, public_pem(private), "RS256")


@pytest.fixture(scope="session")
def ec_key() -> KeyPair:
    private = ec.generate_private_key(ec.SECP256R1())
    return KeyPair(private, public_pem(private), "ES256")


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server_state: dict[str, JwksServer] = {}
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state = server_state["jwks"]
            with state.lock:
                state.hits += 1
            if state.delay_seconds:
                release.wait(state.delay_seconds)
            body = state.raw if state.raw is not None else json.dumps(state.document).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client hanging up on an oversized or slow answer is the point of the test

    httpd = Server(("127.0.0.1", 0), Handler)
    server_state["jwks"] = JwksServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/jwks")
    thread = threading.Thread(target=httpd.serve_forever, name="jwks", daemon=True)
    thread.start()
    try:
        yield server_state["jwks"]
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
