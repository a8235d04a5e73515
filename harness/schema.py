"""The case model: one 2-D convolution in framework-neutral terms (SPEC section 2).

Pydantic models, frozen and with unknown keys forbidden, so that a case is validated
once and can be shared between adapters without defensive copies. Loose spellings that
users write (`stride: 2`, `padding: [1, 2]`, `data: ones`) are normalised here, once,
into one canonical form that every later module can rely on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

ADAPTER_NAMES: tuple[str, ...] = ("torch", "keras", "jax")
STATUSES: tuple[str, ...] = ("match", "mismatch", "error", "unsupported", "skipped")
KERAS_ALIASES: dict[str, str] = {
    "filters": "out_channels",
    "strides": "stride",
    "dilation_rate": "dilation",
    "use_bias": "bias",
}

AdapterName = Literal["torch", "keras", "jax"]
Status = Literal["match", "mismatch", "error", "unsupported", "skipped"]
DType = Literal["float16", "bfloat16", "float32", "float64"]
DataKind = Literal["normal", "uniform", "integers", "ones", "arange"]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
Layout = Literal["channels_last", "channels_first"]
PadPairs = tuple[tuple[int, int], tuple[int, int]]


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _pair(value: Any) -> tuple[int, int]:
    if _is_count(value):
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(_is_count(v) for v in value):
        return (value[0], value[1])
    raise ValueError(f"expected a non-negative integer or a list [h, w] of two, got {value!r}")


def _padding(value: Any) -> str | PadPairs:
    if value in ("valid", "same", "same_lower"):
        return value
    if isinstance(value, str):
        raise ValueError(
            f"expected valid, same, same_lower, p, [ph, pw] or [[top, bottom], [left, right]],"
            f" got {value!r}"
        )
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, list) for v in value):
        rows, cols = value
        pads = (tuple(_pair(rows)), tuple(_pair(cols))) if len(rows) == len(cols) == 2 else None
    else:
        try:
            h, w = _pair(value)
        except ValueError:
            pads = None
        else:
            pads = ((h, h), (w, w))
    if pads is None:
        raise ValueError(
            f"expected valid, same, same_lower, p, [ph, pw] or [[top, bottom], [left, right]]"
            f" of non-negative integers, got {value!r}"
        )
    return "valid" if pads == ((0, 0), (0, 0)) else pads  # type: ignore[return-value]


def _data(value: Any) -> Any:
    return {"input": value, "weights": value} if isinstance(value, str) else value


Count = Annotated[int, Field(ge=0, strict=True)]
Pair = Annotated[
    tuple[int, int],
    BeforeValidator(_pair),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2,
                 "maxItems": 2},
            ]
        }
    ),
]
Padding = Annotated[
    str | PadPairs,
    BeforeValidator(_padding),
    WithJsonSchema(
        {
            "oneOf": [
                {"enum": ["valid", "same", "same_lower"]},
                {"type": "integer", "minimum": 0},
                {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2,
                 "maxItems": 2},
                {"type": "array", "minItems": 2, "maxItems": 2, "items": {
                    "type": "array", "items": {"type": "integer", "minimum": 0},
                    "minItems": 2, "maxItems": 2}},
            ]
        }
    ),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Frozen):
    """How inputs and weights (and the bias, with the weights) are filled."""

    input: DataKind = "normal"
    weights: DataKind = "normal"


class Tolerance(_Frozen):
    rtol: Annotated[float, Field(ge=0)] = 0.0
    atol: Annotated[float, Field(ge=0)] = 0.0


class Expectation(_Frozen):
    status: Status
    reason: str | None = None


ExpectValue = Annotated[
    Expectation,
    BeforeValidator(lambda v: {"status": v} if isinstance(v, str) else v),
    WithJsonSchema({"oneOf": [
        {"enum": list(STATUSES)},
        {"type": "object", "additionalProperties": False, "required": ["status"],
         "properties": {"status": {"enum": list(STATUSES)}, "reason": {"type": "string"}}},
    ]}),
]


class ExpectMap(_Frozen):
    """`expect:` short form: adapter -> status or {status, reason}."""

    torch: ExpectValue | None = None
    keras: ExpectValue | None = None
    jax: ExpectValue | None = None


class ExpectRule(ExpectMap):
    """One `expect:` rule; it applies when every `when` key equals the case's value."""

    when: dict[str, Any] = Field(default_factory=dict)


class Conv(_Frozen):
    """The convolution itself, after defaults, aliases and matrix values are applied."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    doc: str | None = None
    batch: Count = 1
    in_channels: Count
    input_size: Pair
    out_channels: Count
    kernel_size: Pair
    stride: Pair = (1, 1)
    padding: Padding = "valid"
    padding_mode: PaddingMode = "zeros"
    dilation: Pair = (1, 1)
    groups: Count = 1
    bias: Annotated[bool, Field(strict=True)] = True
    dtype: DType = "float32"
    layout: Layout = "channels_last"
    data: Annotated[DataSpec, BeforeValidator(_data)] = DataSpec()
    seed: Annotated[int, Field(ge=0, strict=True)] | None = None
    adapters: tuple[AdapterName, ...] | None = None
    tolerance: Tolerance | None = None


class Case(Conv):
    """One expanded case, with where it was written and what each adapter should do."""

    file: str = ""
    line: int = 0
    seed: int = 0  # type: ignore[assignment]
    values: dict[str, Any] = {}  # the matrix values that made this expansion
    expect: dict[str, Expectation] = {}


class CaseEntry(Conv):
    """One item of `cases:` as written in a file (the JSON-schema view)."""

    in_channels: Count | None = None  # type: ignore[assignment]
    input_size: Pair | None = None  # type: ignore[assignment]
    out_channels: Count | None = None  # type: ignore[assignment]
    kernel_size: Pair | None = None  # type: ignore[assignment]
    expect: ExpectMap | list[ExpectRule] | None = None
    matrix: dict[str, list[Any]] | None = None
    exclude: list[dict[str, Any]] | None = None


class CaseFile(_Frozen):
    defaults: dict[str, Any] | None = None
    cases: list[CaseEntry]


CONV_FIELDS: tuple[str, ...] = tuple(Conv.model_fields)
ENTRY_FIELDS: tuple[str, ...] = tuple(CaseEntry.model_fields)


def json_schema() -> dict[str, Any]:
    """The case-file JSON schema, with the Keras aliases listed beside their fields."""
    schema = CaseFile.model_json_schema()
    entry = schema["$defs"]["CaseEntry"]
    for alias, field in KERAS_ALIASES.items():
        entry["properties"][alias] = {**entry["properties"][field], "description": f"alias of {field}"}
    schema["$defs"]["CaseEntry"]["required"] = ["id"]
    return schema
