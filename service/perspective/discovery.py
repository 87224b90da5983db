"""The `commentanalyzer` v1alpha1 discovery document, served where Google's clients fetch it.

Perspective's published samples build Google's client from a discovery document
(google-api-python-client's `discovery.build(..., discoveryServiceUrl=...)`, Node's
`google.discoverAPI(url)`). Google's copy goes when Perspective goes, so this service serves
its own at both addresses those clients use, generated from the route table and the very
models the routes parse with and render from: a field added to a model is in the document.

The document has no `auth` block: with one, Google's Python client looks for application
credentials even when it was given a key. The routes are public and ignore `key`, which the
clients append to the discovery URL too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from service.http.openapi import Operation, Parameter, Reply, documented, operation_of
from service.http.services import services
from service.perspective.errors import PerspectiveError
from service.perspective.resources import GoogleError
from service.perspective.routes import PREFIX

API = "commentanalyzer"
VERSION = "v1alpha1"
REST_PATH = "/$discovery/rest"
DIRECTORY_PATH = f"/discovery/v1/apis/{API}/{VERSION}/rest"
# Where a path not routed is answered with Google's 404 rather than a problem.
PATHS = ("/$discovery/", "/discovery/")
# Models whose Google name differs from the class name. Google's schemas serve requests and
# replies alike; where ours are two models (the request's stricter one), one schema holds
# the fields of both.
GOOGLE_NAMES: Mapping[str, str] = {
    "PerspectiveComment": "TextEntry",
    "SuggestedScore": "AttributeScores",
    "SummaryScore": "Score",
}
# The parameters every Google API takes; `key` is the one a Perspective client sends.
PARAMETERS: Mapping[str, Mapping[str, Any]] = {
    "key": {
        "type": "string",
        "location": "query",
        "description": "API key: a `cmk_...` key made with `moderation keys create`.",
    },
    "alt": {
        "type": "string",
        "location": "query",
        "default": "json",
        "enum": ["json"],
        "description": "Data format for the response.",
    },
    "fields": {"type": "string", "location": "query", "description": "Accepted, ignored."},
    "prettyPrint": {
        "type": "boolean",
        "location": "query",
        "default": "true",
        "description": "Accepted, ignored.",
    },
    "quotaUser": {"type": "string", "location": "query", "description": "Accepted, ignored."},
    "$.xgafv": {
        "type": "string",
        "location": "query",
        "enum": ["1", "2"],
        "description": "V1 error format. Accepted, ignored.",
    },
}
DOCUMENT = "Google's discovery document (a RestDescription), with Cache-Control: no-store"
NOT_FOUND = "NOT_FOUND: an API or version other than commentanalyzer v1alpha1"
DESCRIPTION = (
    "The `commentanalyzer` v1alpha1 discovery document that Perspective's samples build "
    "Google's client from (`discoveryServiceUrl`), generated from the Perspective routes' "
    "models. `rootUrl` is MODERATION_PUBLIC_URL, else the request's own scheme and host."
)
Mode = Literal["validation", "serialization"]
_SCALARS: Mapping[str, Mapping[str, str]] = {
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "number": {"type": "number", "format": "float"},
    "integer": {"type": "integer", "format": "int32"},
}


def discovery_document(routes: Iterable[BaseRoute], root_url: str) -> dict[str, Any]:
    """The document for the Perspective routes among `routes`, served from `root_url` (an
    address ending with "/")."""
    methods: dict[str, dict[str, Any]] = {}
    models: list[tuple[type[BaseModel], Mode]] = []
    for route in routes:
        if not (isinstance(route, Route) and route.path.startswith(PREFIX + "comments:")):
            continue
        operation = operation_of(route.endpoint)
        if operation is None or operation.body is None:
            continue
        reply = operation.replies[200].model
        assert reply is not None, route.path
        name = route.path.rpartition(":")[2]
        path = route.path.removeprefix("/")
        methods[name] = {
            "id": f"{API}.comments.{name}",
            "path": path,
            "flatPath": path,
            "httpMethod": next(iter(sorted((route.methods or set()) - {"HEAD"}))),
            "description": operation.summary,
            "parameters": {},
            "parameterOrder": [],
            "request": {"$ref": _google_name(operation.body.__name__)},
            "response": {"$ref": _google_name(reply.__name__)},
        }
        models += [(operation.body, "validation"), (reply, "serialization")]
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"{API}:{VERSION}",
        "name": API,
        "version": VERSION,
        "revision": "0",
        "title": "Perspective Comment Analyzer API (self-hosted comment-moderation)",
        "description": "Google Perspective's comments:analyze and comments:suggestscore, "
        "answered from this service's own models.",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "batchPath": "batch",
        "parameters": {name: dict(spec) for name, spec in PARAMETERS.items()},
        "resources": {"comments": {"methods": methods}},
        "schemas": discovery_schemas(models),
    }


def discovery_schemas(models: Sequence[tuple[type[BaseModel], Mode]]) -> dict[str, Any]:
    """Google's schemas of `models` and what they refer to: requests as the routes validate
    them, replies as they are rendered, each under its Google name."""
    unique = list(dict.fromkeys(models))
    _, document = models_json_schema(unique, ref_template="{model}", by_alias=True)
    schemas: dict[str, Any] = {}
    for name, schema in document.get("$defs", {}).items():
        google = _google_name(name)
        if google not in schemas:
            schemas[google] = {"id": google, "type": "object"}
            if "description" in schema:
                schemas[google]["description"] = " ".join(schema["description"].split())
        fields = schemas[google].setdefault("properties", {})
        for field, spec in schema.get("properties", {}).items():
            fields.setdefault(field, _property(spec))
    return dict(sorted(schemas.items()))


@documented(
    Operation(
        "perspectiveDiscovery",
        "Perspective's discovery document, for Google's clients (public; `key` is ignored)",
        {200: Reply(DOCUMENT, media=None)},
        {404: NOT_FOUND},
        parameters=[
            Parameter("version", "query", {"type": "string", "enum": [VERSION]}, required=True)
        ],
        problem_model=GoogleError,
        description=DESCRIPTION,
    )
)
async def discovery_rest(request: Request) -> JSONResponse:
    """GET /$discovery/rest?version=v1alpha1, as Google's APIs serve their own."""
    return _answer(request, request.query_params.get("version", ""))


@documented(
    Operation(
        "perspectiveDiscoveryDirectory",
        "Perspective's discovery document at the discovery directory's address",
        {200: Reply(DOCUMENT, media=None)},
        description=DESCRIPTION + " Another API or version under /discovery/ is Google's 404.",
    )
)
async def discovery_directory(request: Request) -> JSONResponse:
    """GET /discovery/v1/apis/commentanalyzer/v1alpha1/rest, the directory's address."""
    return _answer(request, VERSION)


def unknown_api() -> PerspectiveError:
    """Google's 404 for an API or version not served here (the app's 404 under PATHS too)."""
    return PerspectiveError(404, "NOT_FOUND", "Requested entity was not found.")


def _answer(request: Request, version: str) -> JSONResponse:
    if version != VERSION:
        raise unknown_api()
    root = services(request).settings.public_url or str(request.base_url)
    document = discovery_document(request.app.routes, root)
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


def _google_name(name: str) -> str:
    return GOOGLE_NAMES.get(name, name)


def _property(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema property as a discovery schema: `$ref`s by Google name, numbers as
    floats, maps as `additionalProperties`, enums as strings."""
    out: dict[str, Any]
    if "$ref" in spec:
        out = {"$ref": _google_name(spec["$ref"])}
    elif "const" in spec or "enum" in spec:
        out = {"type": "string", "enum": list(spec.get("enum", [spec.get("const")]))}
    elif spec.get("type") == "array":
        out = {"type": "array", "items": _property(spec["items"])}
    elif spec.get("type") == "object":
        values = spec.get("additionalProperties")
        out = {
            "type": "object",
            "additionalProperties": _property(values) if values else {"type": "any"},
        }
    else:
        out = dict(_SCALARS[spec["type"]])
    if "description" in spec:
        out["description"] = " ".join(spec["description"].split())
    return out
