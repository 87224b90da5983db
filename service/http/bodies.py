"""Request and reply bodies as pydantic models; a request's faults as one 422 problem.

Replies (`Resource`) are built by our code from stored rows and rendered as they are.
Requests (`StrictModel`) are parsed:

Every model is strict (`"1"` is not an integer, `1` is not a boolean) and forbids unknown
fields. A `ValidationError` becomes a `FieldError` in the contract's codes and order, whatever
order pydantic found the faults in:
1. a fault a validator marks as the headline (`headline=True`, e.g. the text is too long),
   whose figures also go to the top level of the problem;
2. unknown fields, by name;
3. the model's fields, in the order they are declared.
Each field says in its `Rules` (an `Annotated` metadata item) what its faults are called and
how they read; a constraint the JSON Schema states (a pattern, a length, a range, an enum)
fails with the field's `invalid` code, so the document and the check share one constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, ErrorDetails, PydanticCustomError, core_schema

from service.errors import FieldError

NOT_AN_OBJECT = {"field": "", "code": "invalid_type", "detail": "The body must be a JSON object."}
# pydantic's error types that mean "the value has the wrong JSON type".
_TYPE_ERRORS = frozenset(
    {
        "string_type",
        "int_type",
        "float_type",
        "bool_type",
        "dict_type",
        "list_type",
        "model_type",
        "model_attributes_type",
        "none_required",
        "int_from_float",
        "is_instance_of",
        "union_tag_invalid",
    }
)

Model = TypeVar("Model", bound="StrictModel")


@dataclass(frozen=True)
class Rules:
    """How a field's faults are named in problems: `required` (absent, or null where null
    isn't allowed, unless `null_is` says a null is the wrong type), `invalid_type` (another JSON
    type) and `invalid` (a constraint fails: `invalid_code` names it)."""

    required: str | None = None
    invalid_type: str | None = None
    invalid: str | None = None
    invalid_code: str = "invalid_type"
    null_is: Literal["required", "invalid_type"] = "required"
    """What a null for a required field is: left out (`required`), or the wrong type."""


def fault(code: str, detail: str, *, headline: bool = False, **figures: int) -> ValueError:
    """An error for a validator to raise: the problem's field code and detail, and figures."""
    # The detail also rides in the context as it is: pydantic fills `{name}` in a message
    # from the context, and a detail may quote the client's text.
    context = {"headline": headline, "figures": figures, "detail": detail}
    return PydanticCustomError(code, detail, context)


DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
"""An RFC 3339 moment in UTC with milliseconds, as `isoformat` writes it."""


class Resource(BaseModel):
    """A reply body: built from stored rows by our code, so not validated again."""

    model_config = ConfigDict(frozen=True)


Built = TypeVar("Built", bound=Resource)


class Extension(Resource):
    """A reply that is another resource (`extends`) and more, documented as the contract
    writes such a thing: `allOf: [the other resource, an object of the added fields]`.
    It declares every field of `extends` too, in the order its JSON has them."""

    extends: ClassVar[type[Resource]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        missing = set(cls.extends.model_fields) - set(cls.model_fields)
        if missing:
            raise TypeError(f"{cls.__name__} lacks {sorted(missing)} of {cls.extends.__name__}")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler.resolve_ref_schema(handler(schema))
        # A list of the base resource: the way to get a reference to its component.
        base = handler(core_schema.list_schema(cls.extends.__pydantic_core_schema__))["items"]
        added = [name for name in json_schema["properties"] if name not in cls.extends.model_fields]
        part: dict[str, Any] = {"type": "object"}
        required = [name for name in json_schema.get("required", ()) if name in added]
        if required:
            part["required"] = required
        part["properties"] = {name: json_schema["properties"][name] for name in added}
        for key in ("type", "properties", "required", "additionalProperties"):
            json_schema.pop(key, None)
        json_schema["allOf"] = [base, part]
        return json_schema


def build(resource: type[Built], **values: Any) -> Built:
    """A reply from values our code read from its own rows: not validated again (that costs
    on every comment), but rendered, and documented, by the same model."""
    # pydantic's mypy plugin types model_construct on a type variable as the bound class.
    return cast("Built", resource.model_construct(**values))


class FieldProblem(Resource):
    field: str
    code: str
    detail: str


class Problem(Resource):
    """application/problem+json (RFC 9457): `code` is machine-readable; figures such as
    `limit` and `length` may ride along at the top level."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] = Field(default_factory=list)


class StrictModel(BaseModel):
    """A request body or query: strict, closed, immutable once parsed."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    not_an_object: ClassVar[dict[str, str]] = NOT_AN_OBJECT

    @classmethod
    def parse(cls: type[Model], data: Any) -> Model:
        """The model, or a FieldError (422) in the contract's codes and order."""
        if not isinstance(data, Mapping):
            raise FieldError([dict(cls.not_an_object)])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise field_errors(cls, exc.errors(include_url=False), data) from None


def field_errors(
    model: type[StrictModel], errors: list[ErrorDetails], data: Mapping[str, Any]
) -> FieldError:
    names = list(model.model_fields)
    ranked: list[tuple[tuple[int, int, str], dict[str, Any]]] = []
    figures: dict[str, int] = {}
    for error in errors:
        field = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            problem = {
                "field": field,
                "code": "unknown_field",
                "detail": f"Unknown field {field!r}.",
            }
            ranked.append(((1, 0, field), problem))
            continue
        problem, headline, found = _describe(model, field, error, data)
        if headline and not figures:
            figures = found
        rank = (0, 0, "") if headline else (2, names.index(field) if field in names else 0, "")
        ranked.append((rank, problem))
    ranked.sort(key=lambda item: item[0])
    return FieldError([problem for _, problem in ranked], **figures)


def _describe(
    model: type[StrictModel], field: str, error: ErrorDetails, data: Mapping[str, Any]
) -> tuple[dict[str, Any], bool, dict[str, int]]:
    rules = _rules(model, field)
    kind = error["type"]
    context = error.get("ctx") or {}
    if "headline" in context:  # raised by a validator with `fault`
        extra = dict(context["figures"])
        detail = str(context.get("detail", error["msg"]))
        return _problem(field, kind, detail, extra), bool(context["headline"]), extra
    info = model.model_fields.get(field)
    null = data.get(field, ...) is None and (
        kind in _TYPE_ERRORS or (info is not None and info.is_required())
    )
    if null and rules.null_is == "invalid_type":
        return (
            _problem(field, "invalid_type", rules.invalid_type or f"{field} is not null."),
            False,
            {},
        )
    if (kind == "missing" or null) and rules.required is not None:
        return _problem(field, "required", rules.required), False, {}
    if kind in _TYPE_ERRORS or kind == "missing":
        detail = rules.invalid_type or f"{field} has the wrong type."
        return _problem(field, "invalid_type", detail), False, {}
    detail = rules.invalid or rules.invalid_type or f"{field} is not valid."
    return _problem(field, rules.invalid_code, detail), False, {}


def _problem(field: str, code: str, detail: str, extra: Mapping[str, int] = {}) -> dict[str, Any]:
    return {"field": field, "code": code, "detail": detail, **extra}


def _rules(model: type[StrictModel], field: str) -> Rules:
    info = model.model_fields.get(field)
    if info is not None:
        for item in info.metadata:
            if isinstance(item, Rules):
                return item
    return Rules(required=f"{field} is required.")
