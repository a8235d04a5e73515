"""Where a case's operands come from: a seeded kind, or the user's own arrays (explicit data).

`data:` names a kind for every operand (`data: integers`), or one per operand
(`{input: arange, weights: normal}`), or arrays: an inline list (nested, numbers) or a key of an
`.npz` file beside the case file (`{input: x.npz:x, weights: x.npz:w, bias: x.npz:b}`). The bias
and separable's pointwise kernel are filled like the weights unless `bias:` or `pointwise:` names
its own source. Kinds:

normal    standard normal, from the case's seed
uniform   uniform on [-1, 1), from the seed
integers  uniform integers -4 ... 4, from the seed
ones      every element 1
arange    1, 2, 3, ... in C order over the operand's own shape (input N C spatial..., weights
          (out, in/groups, *k) or (in, out/groups, *k), pointwise (out, in*m, 1, ...), bias (out,)):
          the seed documents' 1..9 input

Drawn in the order input, weights, pointwise (separable only), bias from one generator, so the same seed gives the same
arrays on every machine; an explicit operand draws nothing. Shapes, files and keys are checked
where the case file is read (cases/casefile.py), with the line.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from ..problems import VALUE_CUTOFF, did_you_mean, shown

KINDS: tuple[str, ...] = ("normal", "uniform", "integers", "ones", "arange")
DataKind = Literal["normal", "uniform", "integers", "ones", "arange"]
NPZ_KEY = re.compile(r"(?P<path>.+\.npz):(?P<key>[^:/\\]+)")


def is_kind(source: Any) -> bool:
    return isinstance(source, str) and source in KINDS


def _numbers(value: Any) -> Any:
    """A nested list of numbers as nested tuples (hashable, like every case field), or ValueError."""
    if isinstance(value, list):
        return tuple(_numbers(v) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise ValueError(f"an inline array holds numbers and lists only, got {shown(value)}")


def _source(value: Any) -> Any:
    if isinstance(value, str):
        if value in KINDS or NPZ_KEY.fullmatch(value):
            return value
        raise ValueError(f"expected one of {', '.join(KINDS)}, FILE.npz:KEY or an inline list, got {shown(value)}"
                         + did_you_mean(value, KINDS, VALUE_CUTOFF))
    if isinstance(value, list):
        return _numbers(value)
    raise ValueError(f"expected one of {', '.join(KINDS)}, FILE.npz:KEY or an inline list, got {shown(value)}")


_SOURCE_SCHEMA = {"oneOf": [{"enum": list(KINDS)}, {"type": "string", "pattern": NPZ_KEY.pattern},
                            {"type": "array"}]}
Source = Annotated[Any, BeforeValidator(_source), WithJsonSchema(_SOURCE_SCHEMA)]


class DataSpec(BaseModel):
    """How each operand is filled (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Source = "normal"
    weights: Source = "normal"
    pointwise: Source | None = None  # separable's 1x1 kernel; None: filled like the weights
    bias: Source | None = None  # None: filled like the weights


def data_spec(value: Any) -> Any:
    """`data: integers` means every operand."""
    return {"input": value, "weights": value} if isinstance(value, str) else value
