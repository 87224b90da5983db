"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

Each documented endpoint carries an `Operation` (the `documented` decorator): its id and
summary, the models of its body, query and replies, and the problems it answers with. The
schemas come from the models (`model_json_schema`), so a limit written once in a model's
`Field` is the limit the route checks and the limit the document states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute, Route

from service.version import package_version

TITLE = "comment-moderation"
DESCRIPTION = "Self-hosted comment moderation for news sites."
REF = "#/components/schemas/{model}"
SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "perspectiveKey": {"type": "apiKey", "in": "query", "name": "key"},
    "perspectiveKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Goog-Api-Key"},
}
BEARER: tuple[dict[str, list[str]], ...] = ({"bearer": []},)

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

# The usual wording of each problem status; an operation names its own codes where they differ.
PROBLEMS: dict[int, str] = {
    400: "Malformed request (malformed_json)",
    401: "Missing, invalid or expired token (invalid_token)",
    403: "The token lacks the moderator role (forbidden)",
    404: "No such resource, or not yours (not_found)",
    413: "Body over the limit (body_too_large)",
    415: "Not application/json (unsupported_media_type)",
    503: "The database is not answering (unavailable); see Retry-After",
}


def problems(*statuses: int, **worded: str) -> dict[int, str]:
    """The problem replies of an operation: `problems(401, 404, s409="Conflict (...)")`."""
    out = {status: PROBLEMS[status] for status in statuses}
    out.update({int(key.removeprefix("s")): value for key, value in worded.items()})
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Reply:
    """A response that is not a problem: its description and what its body is."""

    description: str
    model: type[BaseModel] | None = None
    media: str | None = "application/json"
    schema: Mapping[str, Any] | None = None
    """A schema for a body no model describes (a text/plain string)."""
    alternatives: Sequence[type[BaseModel]] = ()
    """Models the body may be instead of `model`: documented as `anyOf`."""


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # "header" or "query"
    schema: Mapping[str, Any]
    description: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Operation:
    id: str
    summary: str
    replies: Mapping[int, Reply]
    problems: Mapping[int, str] = field(default_factory=dict)
    """Status: description naming its codes, e.g. {404: "No such comment (not_found)"}."""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    parameters: Sequence[Parameter] = ()
    security: Sequence[Mapping[str, list[str]]] = ()
    problem_model: str | type[BaseModel] = "Problem"
    """A component's name, or a model (then documented with the replies)."""
    description: str | None = None
    body_description: str | None = None


def documented(operation: Operation) -> Callable[[Endpoint], Endpoint]:
    """Attach `operation` to an endpoint, for `openapi_document`."""

    def attach(endpoint: Endpoint) -> Endpoint:
        endpoint.openapi_operation = operation  # type: ignore[attr-defined]
        return endpoint

    return attach


def operation_of(endpoint: Callable[..., Any]) -> Operation | None:
    found: Operation | None = getattr(endpoint, "openapi_operation", None)
    return found


def openapi_document(
    routes: Sequence[BaseRoute], *, extra_models: Sequence[type[BaseModel]] = ()
) -> dict[str, Any]:
    """The document for every documented route, in route-table order."""
    operations = [
        (route.path, method.lower(), op)
        for route in routes
        if isinstance(route, Route) and (op := operation_of(route.endpoint)) is not None
        for method in sorted((route.methods or {"GET"}) - {"HEAD"})
    ]
    models = _models(operations, extra_models)
    schemas = _schemas(models)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in operations:
        paths.setdefault(path, {})[method] = _operation(path, op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": package_version(), "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": schemas["components"], "securitySchemes": SECURITY_SCHEMES},
    }


Mode = Literal["validation", "serialization"]


def _models(
    operations: Sequence[tuple[str, str, Operation]], extra: Sequence[type[BaseModel]]
) -> list[tuple[type[BaseModel], Mode]]:
    """Request bodies as they are validated, replies as they are rendered."""
    found: dict[tuple[type[BaseModel], Mode], None] = {
        (model, "serialization"): None for model in extra
    }
    for _, _, op in operations:
        if op.body is not None:
            found[(op.body, "validation")] = None
        if not isinstance(op.problem_model, str):
            found[(op.problem_model, "serialization")] = None
        for reply in op.replies.values():
            if reply.model is not None:
                found[(reply.model, "serialization")] = None
            for model in reply.alternatives:
                found[(model, "serialization")] = None
    return list(found)


def _schemas(models: Sequence[tuple[type[BaseModel], Mode]]) -> dict[str, Any]:
    refs, document = models_json_schema(list(models), ref_template=REF)
    components = _named(document.get("$defs", {}))
    return {
        "components": components,
        "refs": {model: refs[(model, mode)] for model, mode in models},
    }


def _named(defs: Mapping[str, Any]) -> dict[str, Any]:
    """Schemas under their contract names: a model's `title`, not its Python class name."""
    renames = {name: schema.get("title", name) for name, schema in defs.items()}

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: rename(value) for key, value in node.items()}
            ref = out.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF.format(model="")):
                name = ref.rpartition("/")[2]
                out["$ref"] = REF.format(model=renames.get(name, name))
            return out
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    return {renames[name]: _untitled(rename(schema)) for name, schema in defs.items()}


def _untitled(node: Any) -> Any:
    """Without pydantic's generated titles: the component's key and the property's name
    already say them. (A property called `title` is a key in `properties`, kept.)"""
    if isinstance(node, dict):
        return {
            key: _untitled(value)
            for key, value in node.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_untitled(item) for item in node]
    return node


def _reference(model: type[BaseModel], schemas: Mapping[str, Any]) -> dict[str, Any]:
    ref = dict(schemas["refs"][model])
    name = model.model_config.get("title") or model.__name__
    ref["$ref"] = REF.format(model=name)
    return ref


def _operation(path: str, op: Operation, schemas: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.security:
        out["security"] = [dict(item) for item in op.security]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_names(path)
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    parameters += [_parameter(parameter) for parameter in op.parameters]
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        body: dict[str, Any] = {"required": True}
        if op.body_description:
            body["description"] = op.body_description
        body["content"] = {"application/json": {"schema": _reference(op.body, schemas)}}
        out["requestBody"] = body
    responses: dict[str, Any] = {}
    for status, reply in op.replies.items():
        responses[str(status)] = _reply(reply, schemas)
    name = op.problem_model
    if not isinstance(name, str):
        name = name.model_config.get("title") or name.__name__
    problem = {"schema": {"$ref": REF.format(model=name)}}
    media = "application/problem+json" if name == "Problem" else "application/json"
    for status, description in op.problems.items():
        responses[str(status)] = {"description": description, "content": {media: problem}}
    out["responses"] = responses
    return out


def _reply(reply: Reply, schemas: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.media is None:
        return out
    if reply.model is not None and reply.alternatives:
        models = [reply.model, *reply.alternatives]
        anyof = [_reference(model, schemas) for model in models]
        out["content"] = {reply.media: {"schema": {"anyOf": anyof}}}
    elif reply.model is not None:
        out["content"] = {reply.media: {"schema": _reference(reply.model, schemas)}}
    elif reply.schema is not None:
        out["content"] = {reply.media: {"schema": dict(reply.schema)}}
    else:
        out["content"] = {reply.media: {}}
    return out


def _parameter(parameter: Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": parameter.name,
        "in": parameter.where,
        "required": parameter.required,
    }
    if parameter.description:
        out["description"] = parameter.description
    out["schema"] = dict(parameter.schema)
    return out


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        # A default the parameter takes when absent is part of the contract; None is not.
        prop = {
            key: value
            for key, value in _never_null(_untitled(prop)).items()
            if key != "default" or value is not None
        }
        description = prop.pop("description", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if description:
            parameter["description"] = description
        parameter["schema"] = prop
        out.append(parameter)
    return out


def _never_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent, never null: an optional `X | None` field documents as X."""
    alternatives = prop.get("anyOf")
    null = {"type": "null"}
    if not (isinstance(alternatives, list) and len(alternatives) == 2 and null in alternatives):
        return prop
    other = next(alternative for alternative in alternatives if alternative != null)
    return {**other, **{key: value for key, value in prop.items() if key != "anyOf"}}


def _path_names(path: str) -> list[str]:
    names = []
    for part in path.split("{")[1:]:
        names.append(part.split("}")[0].split(":")[0])
    return names
