"""The case model: one convolution in framework-neutral terms (docs/cases.md).

Pydantic models, frozen and with unknown keys forbidden, so that a case is validated
once and can be shared between adapters without defensive copies. Loose spellings that
users write (`stride: 2`, `padding: [1, 2]`, `data: ones`) are normalised here, once,
into one canonical form: every per-axis field is a tuple with one value per spatial axis,
and padding is a word or a tuple of (low, high) pairs. The rank comes from `input_size`,
so fields are declared in the order their validators need (input_size before the
per-axis fields, op before the fields whose rules depend on it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
)

from ..problems import VALUE_CUTOFF, did_you_mean, shown
from .datasource import DataSpec, data_spec
from .expectation import Expectation

OPS: tuple[str, ...] = ("conv", "conv_transpose", "convolve", "separable")
PADDING_WORDS: tuple[str, ...] = ("valid", "same", "same_lower", "full", "causal")
KERAS_ALIASES: dict[str, str] = {
    "filters": "out_channels",
    "strides": "stride",
    "dilation_rate": "dilation",
    "use_bias": "bias",
}

Op = Literal["conv", "conv_transpose", "convolve", "separable"]
DType = Literal["float16", "bfloat16", "float32", "float64"]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
Layout = Literal["channels_last", "channels_first"]
Precision = Literal["highest", "default"]
Pads = tuple[tuple[int, int], ...]
AXIS_NAMES = {1: "[L]", 2: "[H, W]", 3: "[D, H, W]"}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rank(info: ValidationInfo) -> int | None:
    size = info.data.get("input_size")
    return len(size) if size is not None else None


def _input_size(value: Any) -> tuple[int, ...]:
    if _is_count(value):
        return (value, value)  # a bare integer stays a square 2-D input
    if isinstance(value, list) and 1 <= len(value) <= 3 and all(_is_count(v) for v in value):
        return tuple(value)
    raise ValueError(f"expected one non-negative integer (a square 2-D input) or a list [L], [H, W] or [D, H, W],"
                     f" got {shown(value)}")


def _per_axis(value: Any, info: ValidationInfo) -> tuple[int, ...]:
    """An int (every axis) or one value per spatial axis of the case's rank."""
    rank = _rank(info)
    if _is_count(value):
        return (value,) * (rank or 1)
    if isinstance(value, list) and all(_is_count(v) for v in value) and value:
        if rank is not None and len(value) != rank:
            raise ValueError(f"this case is {rank}-D (input_size has {rank} values): write one non-negative integer"
                             f" or a list of {rank}, got {shown(value)}")
        return tuple(value)
    raise ValueError(f"expected a non-negative integer or a list with one per spatial axis ([L], [H, W] or"
                     f" [D, H, W]), got {shown(value)}")


def _padding(value: Any, info: ValidationInfo) -> str | Pads:
    rank = _rank(info) or 2
    forms = {1: "p, [p] or [[left, right]]", 2: "p, [ph, pw] or [[top, bottom], [left, right]]",
             3: "p, [pd, ph, pw] or [[front, back], [top, bottom], [left, right]]"}[rank]
    words = ", ".join(PADDING_WORDS)
    if value in PADDING_WORDS:
        if info.data.get("op") == "conv_transpose" and value in ("full", "causal"):
            raise ValueError(f"'{value}' pads a forward convolution; conv_transpose takes valid, same, same_lower"
                             " or explicit crops")
        return str(value)
    pads: Pads | None = None
    if _is_count(value):
        pads = ((value, value),) * rank
    elif isinstance(value, list) and len(value) == rank:
        if all(_is_count(v) for v in value):
            pads = tuple((v, v) for v in value)
        elif all(isinstance(v, list) and len(v) == 2 and all(_is_count(p) for p in v) for v in value):
            pads = tuple((v[0], v[1]) for v in value)
    if pads is None:
        hint = did_you_mean(value, PADDING_WORDS, VALUE_CUTOFF) if isinstance(value, str) else ""
        raise ValueError(f"expected {words}, or for this {rank}-D case {forms} of non-negative integers,"
                         f" got {shown(value)}{hint}")
    return "valid" if all(p == (0, 0) for p in pads) else pads


def _output_padding(value: Any, info: ValidationInfo) -> tuple[int, ...] | None:
    if value is None:  # absent: each framework's own default (Keras None, torch and ONNX 0, JAX none)
        return None
    axes = _per_axis(value, info)
    if any(axes) and info.data.get("op", "conv") != "conv_transpose":
        raise ValueError("output_padding applies to op: conv_transpose only")
    return axes


def _output_size(value: Any, info: ValidationInfo) -> tuple[int, ...] | None:
    if value is None:
        return None
    axes = _per_axis(value, info)
    if info.data.get("op", "conv") != "conv_transpose":
        raise ValueError("output_size applies to op: conv_transpose only")
    if info.data.get("output_padding") is not None:
        raise ValueError("give output_padding or output_size, not both (output_size picks the output_padding)")
    return axes


def _groups(value: Any, info: ValidationInfo) -> Any:
    if value != 1 and info.data.get("op") == "separable":
        raise ValueError("separable has no groups: its depthwise part groups by input channel, its 1x1 part not"
                         " at all (Keras' SeparableConv has no groups argument)")
    return value


def _init(value: bool, info: ValidationInfo) -> bool:
    d = info.data
    if value and 0 in (d.get("in_channels"), d.get("out_channels"), *d.get("kernel_size", ())):
        raise ValueError("init measures a layer's parameters: in_channels, out_channels and kernel_size of at least 1")
    if value and d.get("op") == "separable":
        raise ValueError("init measures one kernel: op conv, convolve or conv_transpose (separable has two)")
    if value and d.get("dtype") in ("float16", "bfloat16"):  # half-precision draws have too few distinct values
        raise ValueError(f"init measures float32 or float64 parameters, not {d['dtype']}")
    return value


def _depth_multiplier(value: Any, info: ValidationInfo) -> Any:
    if value != 1 and info.data.get("op") != "separable":
        raise ValueError("depth_multiplier applies to op: separable only (a depthwise conv is groups: in_channels"
                         " with out_channels = depth_multiplier * in_channels)")
    return value


def _padding_mode(value: Any, info: ValidationInfo) -> Any:
    if value != "zeros" and info.data.get("op") == "conv_transpose":
        raise ValueError("conv_transpose crops its output; padding_mode applies to conv and convolve only")
    return value


_INT_OR_LIST = {"oneOf": [{"type": "integer", "minimum": 0},
                          {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1,
                           "maxItems": 3}]}
_PAIR = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2}
Count = Annotated[int, Field(ge=0, strict=True)]
InputSize = Annotated[tuple[int, ...], BeforeValidator(_input_size), WithJsonSchema(_INT_OR_LIST)]
PerAxis = Annotated[tuple[int, ...], BeforeValidator(_per_axis), WithJsonSchema(_INT_OR_LIST)]
OutputPadding = Annotated[tuple[int, ...] | None, BeforeValidator(_output_padding), WithJsonSchema(_INT_OR_LIST)]
OutputSize = Annotated[tuple[int, ...] | None, BeforeValidator(_output_size), WithJsonSchema(_INT_OR_LIST)]
Padding = Annotated[
    str | Pads,
    BeforeValidator(_padding),
    WithJsonSchema({"oneOf": [
        {"enum": list(PADDING_WORDS)},
        _INT_OR_LIST,
        {"type": "array", "minItems": 1, "maxItems": 3, "items": _PAIR},
    ]}),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tolerance(_Frozen):
    rtol: Annotated[float, Field(ge=0)] = 0.0
    atol: Annotated[float, Field(ge=0)] = 0.0


class Conv(_Frozen):
    """The convolution itself, after defaults, aliases and matrix values are applied."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    doc: str | None = None
    op: Op = "conv"
    # `batch: none` (or null): unbatched inputs, C x spatial... with no batch axis
    batch: Annotated[Count | None, BeforeValidator(lambda v: None if v is None or v == "none" else v),
                     WithJsonSchema({"oneOf": [{"type": "integer", "minimum": 0}, {"enum": ["none"]}]})] = 1
    in_channels: Count
    input_size: InputSize
    out_channels: Count
    kernel_size: PerAxis
    stride: PerAxis = Field(default=1, validate_default=True)  # defaults broadcast to the rank
    dilation: PerAxis = Field(default=1, validate_default=True)
    padding: Padding = "valid"
    output_padding: OutputPadding = None  # conv_transpose: None (absent) differs from 0 under 'same' (docs/cases.md)
    output_size: OutputSize = None  # conv_transpose: the output length per axis; picks output_padding when read
    padding_mode: Annotated[PaddingMode, BeforeValidator(_padding_mode)] = "zeros"
    groups: Annotated[Count, BeforeValidator(_groups)] = 1
    depth_multiplier: Annotated[int, Field(ge=1, strict=True), BeforeValidator(_depth_multiplier)] = 1  # separable
    bias: Annotated[bool, Field(strict=True)] = True
    dtype: DType = "float32"
    layout: Layout = "channels_last"
    precision: Precision = "highest"  # highest: TF32 and similar shortcuts off; default: as each framework ships
    grad: Annotated[bool, Field(strict=True)] = False  # also compare dL/dx, dL/dw, dL/db
    init: Annotated[bool, Field(strict=True), AfterValidator(_init)] = False  # also measure the default initialisers
    data: Annotated[DataSpec, BeforeValidator(data_spec)] = DataSpec()
    seed: Annotated[int, Field(ge=0, strict=True)] | None = None
    adapters: tuple[str, ...] | None = None  # names checked where case files are read
    tolerance: Tolerance | None = None

    @property
    def rank(self) -> int:
        return len(self.input_size)

    @property
    def passes(self) -> tuple[str, ...]:  # forward, then backward for `grad: true`, then init for `init: true`
        return ("forward",) + (("backward",) if self.grad else ()) + (("init",) if self.init else ())

    @property
    def batch_size(self) -> int:
        """The batch the arrays have: an unbatched case (`batch: none`) is computed as a batch of one."""
        return 1 if self.batch is None else self.batch

    @property
    def output_padding_axes(self) -> tuple[int, ...]:
        """output_padding per axis, zeros where it is absent (what it adds to a full transposed output)."""
        return self.output_padding if self.output_padding is not None else (0,) * self.rank


class Case(Conv):
    """One expanded case, with where it was written and what each adapter should do."""

    file: str = ""
    line: int = 0
    seed: int = 0
    values: dict[str, Any] = {}  # the matrix values that made this expansion
    expect: dict[str, Expectation] = {}


CONV_FIELDS: tuple[str, ...] = tuple(Conv.model_fields)
ENTRY_ONLY: tuple[str, ...] = ("expect", "matrix", "exclude")
REQUIRED: tuple[str, ...] = tuple(n for n, f in Conv.model_fields.items() if f.is_required())
