"""A case's program in one framework: written once as text, run by the worker, printed by repro and port.

An adapter writes its framework call as Python source (`Adapter.source`): `run(x, w, b)` calls the
framework on NumPy operands in the neutral layouts and returns the framework's own result,
`numpy(y)` turns that into NumPy N C spatial..., `parameter_count(x, w, b)` counts what the call
holds, optionally `arithmetic()` names the path the last call took (SciPy's `fft`), and, where the
framework differentiates, `gradients(x, w, b, g)` returns its own dL/dx,
dL/dw, dL/db of L = sum(run(x, w, b) * g). For `separable`, `w` is the pair (depthwise, pointwise)
and the gradients add `dpw`, the pointwise kernel's. `wrap` adds the only code the harness puts around a
call, here and nowhere else: `convolution(x, w, b)` flips the kernel for a true convolution and
cuts transposed crops; `convolution_gradients` sends the cotangent back through both.

The worker executes that text once per distinct program (`compiled`, its helpers compiled once per
process) and calls `convolution` and `convolution_gradients` themselves, so the code in a repro
bundle is the code that ran.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import CodeType, MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .artifacts import memoised
from .errors import Unsupported

if TYPE_CHECKING:  # the program reads a case and its operands; it makes neither
    from ..model import geometry
    from ..model.data import Tensors
    from ..model.schema import Conv


@dataclass(frozen=True)
class Plan:
    """How a case is realised in one framework."""

    realization: str  # native | emulated
    padding: Any  # the framework call's own padding argument
    pre_pad: geometry.Pads | None = None  # conv, convolve: the framework's pad op first
    crop: geometry.Pads | None = None  # conv_transpose: cut (low, high) from the full output after
    output_padding: tuple[int, ...] | None = None  # conv_transpose: the call's (emulated: extended for the crops)
    flip: bool = False  # convolve as the framework's conv on spatially flipped weights


class Writer(Protocol):
    """What a realisation needs of its adapter (base.Adapter is one)."""

    def program(self, conv: Conv, plan: Plan) -> str: ...

    def placed(self, result: Any) -> str | None: ...

    def dtype_name(self, result: Any) -> str: ...

    def fingerprint(self) -> str: ...


FLIP = "np.flip({0}, axis=tuple(range(2, {0}.ndim))).copy()"  # a copy: torch refuses negative strides
DW = "grads['dw']"


def wrap(conv: Conv, plan: Plan, source: str, differentiates: bool) -> str:
    """The adapter's source with `convolution` (and `convolution_gradients`) around its `run`."""
    weights = {"conv_transpose": "(in, out/groups, *kernel)",
               "separable": "(depthwise (in*m, 1, *kernel), pointwise (out, in*m, 1, ...))"}.get(
                   conv.op, "(out, in/groups, *kernel)")
    lines = ["", "", "def convolution(x, w, b):",
             f'    """x: N C spatial..., w: {weights}, b: (out,) or None; returns N C spatial... as float64."""']
    if plan.flip:
        lines.append(f"    w = {FLIP.format('w')}  # a true convolution as the framework's correlation")
    lines.append("    y = np.asarray(numpy(run(x, w, b)), dtype=np.float64)")
    if plan.crop is not None:
        index = ", ".join(f"{low}:y.shape[{2 + a}] - {high}" for a, (low, high) in enumerate(plan.crop))
        lines.append(f"    y = y[:, :, {index}]  # the crops of the full transposed output")
    lines.append("    return y")
    if differentiates:
        lines += ["", "", "def convolution_gradients(x, w, b, g):",
                  '    """dL/dx, dL/dw, dL/db of L = sum(convolution(x, w, b) * g), as float64."""']
        if plan.flip:
            lines.append(f"    w = {FLIP.format('w')}")
        if plan.crop is not None:
            lines.append(f"    g = np.pad(g, {[(0, 0), (0, 0), *plan.crop]})  # zeros where the crops cut")
        lines.append("    grads = gradients(x, w, b, g)")
        if plan.flip:
            lines.append(f"    grads['dw'] = {FLIP.format(DW)}  # back through the flip")
        lines.append("    return {name: np.asarray(value, dtype=np.float64) for name, value in grads.items()}")
    return source + "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Compiled:
    """A program's namespace and the last framework result its `run` returned (for its dtype and device)."""

    namespace: MappingProxyType[str, Any]
    last: list[Any]


@dataclass(frozen=True)
class Output:
    """A framework's result as float64 N C spatial..., with the dtype the framework returned and the
    arithmetic path it says it took (`fft`), where its program tells (`arithmetic()`)."""

    values: np.ndarray
    dtype: str
    arithmetic: str | None = None


@functools.lru_cache(maxsize=1024)
def _code(chunk: str) -> CodeType:
    return compile(chunk, "<program>", "exec")


def _chunks(text: str) -> list[CodeType]:
    """The text's top-level statements, compiled in pieces split where PEP 8 puts two blank lines:
    most of a program (its helpers) is the same for every case, so each piece compiles once per
    process (compiling a whole program costs about a millisecond, more than a small pair). Run in
    order in one namespace, the pieces are the text; a piece that is not whole Python on its own
    (two blank lines inside a function) sends the text back to be compiled whole."""
    try:
        return [_code(chunk) for chunk in text.split("\n\n\n")]
    except SyntaxError:
        return [compile(text, "<program>", "exec")]


@functools.lru_cache(maxsize=64)
def compiled(text: str, fingerprint: str = "") -> Compiled:
    """Execute a program once; the same text (a configuration, not a case) reuses its objects (a
    module, a layer, a jitted function). `run` is wrapped to remember its result; a route's `convert`
    to answer repeated operands with the artifact it made (artifacts.py, keyed by `fingerprint` too)."""
    namespace: dict[str, Any] = {"__name__": "harness_program"}
    for code in _chunks(text):
        exec(code, namespace)
    if "convert" in namespace:
        namespace["convert"] = memoised(namespace["convert"], text, fingerprint, namespace["STAGES"])
    last: list[Any] = []
    run = namespace["run"]

    def remembered(*args: Any) -> Any:
        last[:] = [run(*args)]
        return last[0]

    namespace["run"] = remembered
    return Compiled(MappingProxyType(namespace), last)


class Realised:
    """A case's program in one adapter, callable on any operands of the case's shapes (the probe's too)."""

    def __init__(self, adapter: Writer, conv: Conv, plan: Plan) -> None:
        self.adapter, self.plan = adapter, plan
        self.program = compiled(adapter.program(conv, plan), adapter.fingerprint())
        self.param_count: int | None = None
        self.placed: str | None = None  # the device the last result was on, where the framework says

    def __call__(self, tensors: Tensors) -> Output:
        namespace = self.program.namespace
        values = namespace["convolution"](tensors.input, tensors.kernels, tensors.bias)
        result = self.program.last[0]
        self.placed = self.adapter.placed(result)
        self.param_count = int(namespace["parameter_count"](tensors.input, tensors.kernels, tensors.bias))
        arithmetic = namespace.get("arithmetic")
        return Output(values, self.adapter.dtype_name(result), arithmetic() if arithmetic else None)

    def stage(self) -> str | None:
        """A route's stage the last call reached (its program's `stage()`), None for a framework."""
        stage = self.program.namespace.get("stage")
        return stage() if stage else None

    def gradients(self, tensors: Tensors, cotangent: np.ndarray) -> dict[str, np.ndarray]:
        """The framework's own gradients, in the neutral layouts."""
        function = self.program.namespace.get("convolution_gradients")
        if function is None:
            raise Unsupported("has no automatic differentiation: no gradient to compare")
        return dict(function(tensors.input, tensors.kernels, tensors.bias, cotangent))
