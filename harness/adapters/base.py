"""What every adapter shares: the interface, the realisation plan, layouts, error capture.

An adapter turns a case into a call of its framework on the case's own arrays. Rules:
- the framework is imported in `setup()`, never at module top, so collection and
  `validate` stay framework-free and a missing framework only skips its own rows;
- deciding *how* a case is realised is shared here: an adapter says which ops, ranks,
  dtypes and padding forms it takes natively; other paddings go through its own pad op
  (`emulated`), a convolve without a native true convolution runs its conv on flipped
  weights (`emulated`), and transposed crops it cannot take are cut from the full output;
- `Unsupported` means the adapter knows the framework cannot express the case and
  nothing was called; any other exception is the framework's own refusal (`error`).
"""

from __future__ import annotations

import importlib.util
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from .. import geometry, ops
from ..data import Tensors
from ..schema import OPS, Conv

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TRAILERS = (
    re.compile(r"^Exception encountered when calling [\w.]+\(\)\.\s*"),  # Keras' wrapper around a layer's error
    re.compile(r"\{\{function_node [^}]*\}\}\s*"),  # TensorFlow's internal function name
    re.compile(r"\s*Arguments received by .*", re.DOTALL),  # Keras: a dump of the call's arguments
    re.compile(r"\s+at loc\(.*", re.DOTALL),  # JAX/XLA: the harness's own call sites, machine-specific
    re.compile(r"\s*\[Op:\w+\](\s*name:\s*\S*)?\s*$"),  # TensorFlow eager: the op name trailer
)
MAX_MESSAGE = 600
ALL_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


class Unsupported(Exception):
    """The framework cannot express this case; the message says why."""


@dataclass(frozen=True)
class Plan:
    """How a case is realised in one framework."""

    realization: str  # native | emulated
    padding: Any  # the framework call's own padding argument
    pre_pad: geometry.Pads | None = None  # conv, convolve: the framework's pad op first
    crop: geometry.Pads | None = None  # conv_transpose: cut (low, high) from the full output after
    output_padding: tuple[int, ...] | None = None  # conv_transpose emulated: extends the full output first
    flip: bool = False  # convolve as the framework's conv on spatially flipped weights


@dataclass(frozen=True)
class Output:
    """A framework's result as float64 N C spatial..., with the dtype the framework returned."""

    values: np.ndarray
    dtype: str


class Realisation(ABC):
    """A case realised in one framework, callable on any operands of the case's shapes."""

    placed: str | None = None  # the device the last result was on, where the framework says (device_text)

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    @property
    @abstractmethod
    def param_count(self) -> int: ...

    @abstractmethod
    def run(self, tensors: Tensors) -> tuple[np.ndarray, str]:
        """The framework's output as N C spatial... (any float type) and its dtype name."""

    def __call__(self, tensors: Tensors) -> Output:
        if self.plan.flip:
            tensors = replace(tensors, weights=flip_kernel(tensors.weights))
        values, dtype = self.run(tensors)
        values = np.asarray(values).astype(np.float64)
        if self.plan.crop is not None:
            values = crop(values, self.plan.crop)
        return Output(values, dtype)

    def backward(self, tensors: Tensors, cotangent: np.ndarray) -> dict[str, np.ndarray]:
        """The framework's own gradients of sum(y * cotangent) w.r.t. input, weights and bias, as
        float64 in the neutral layouts (input N C spatial..., weights as `ops.weight_shape`)."""
        raise Unsupported("has no automatic differentiation: no gradient to compare")

    def gradients(self, tensors: Tensors, cotangent: np.ndarray) -> dict[str, np.ndarray]:
        """`backward` on the call the framework really made: the cotangent goes back through the
        crop (zeros where the crop cut) and dw through the kernel flip, both exact."""
        if self.plan.flip:
            tensors = replace(tensors, weights=flip_kernel(tensors.weights))
        if self.plan.crop is not None:
            cotangent = np.pad(cotangent, [(0, 0), (0, 0), *self.plan.crop])
        grads = self.backward(tensors, cotangent)
        if self.plan.flip and "dw" in grads:
            grads["dw"] = flip_kernel(grads["dw"])
        return {name: np.asarray(value).astype(np.float64) for name, value in grads.items()}


class ArrayRealisation(Realisation):
    """A realisation with no framework object holding the weights: its parameter count is the
    size of the arrays its last call passed (jax, functional calls, SciPy, an ONNX graph)."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self.sizes: int | None = None

    @property
    def param_count(self) -> int:
        if self.sizes is None:
            raise RuntimeError(f"{type(self).__name__} counts the arrays it passed; call it first")
        return self.sizes

    def count(self, *arrays: np.ndarray | None) -> None:
        self.sizes = sum(a.size for a in arrays if a is not None)


class Adapter(ABC):
    """One framework. Subclasses set the class attributes and implement the abstract methods."""

    requires: ClassVar[tuple[str, ...]]  # importable top-level modules, checked without importing
    ops: ClassVar[frozenset[str]] = frozenset(OPS)
    ranks: ClassVar[frozenset[int]] = frozenset({1, 2, 3})
    dtypes: ClassVar[frozenset[str]] = ALL_DTYPES
    native_convolve: ClassVar[bool] = False  # a true convolution of its own (SciPy)
    valid_padding: ClassVar[Any]  # the conv argument that means "no padding"
    pad_modes: ClassVar[dict[str, str]]  # case padding_mode -> the pad op's mode name

    def __init__(self, name: str) -> None:
        self.name = name
        self._ready = False

    @classmethod
    def available(cls) -> bool:
        return all(importlib.util.find_spec(module) is not None for module in cls.requires)

    @property
    def ready(self) -> bool:
        return self._ready

    def ensure_setup(self) -> None:
        if not self._ready:
            self.setup()
            self._ready = True

    @abstractmethod
    def setup(self) -> None:
        """Import the framework and switch off reduced-precision shortcuts (TF32)."""

    @abstractmethod
    def version(self) -> str:
        """Like `torch 2.13.0+cpu`."""

    @abstractmethod
    def precision_flags(self) -> dict[str, str]:
        """The precision switches in force, for the report's environment block."""

    @abstractmethod
    def native_padding(self, conv: Conv) -> Any | None:
        """conv/convolve: the call's padding argument if the framework takes this padding directly."""

    def native_crop(self, conv: Conv) -> Any | None:
        """conv_transpose: the call's padding argument if it takes these crops directly."""
        return None

    def device_name(self) -> str:
        """Where this adapter's work runs (the device column)."""
        return "cpu"

    def tf32_by_default(self) -> bool:
        """Whether the framework, as it ships, lets float32 convolutions use TF32 on this device."""
        return False

    def allowed_precision(self, conv: Conv) -> str:
        """What a case was allowed: its dtype, or tf32 for `precision: default` float32 where the
        framework ships with TF32 on (NVIDIA GPUs since Ampere); `highest` always switches it off."""
        if conv.precision == "default" and conv.dtype == "float32" and self.tf32_by_default():
            return "tf32"
        return conv.dtype

    def refuse(self, conv: Conv) -> str | None:
        """Why the framework cannot express this case beyond ops/ranks/dtypes, or None."""
        return None

    def source(self, conv: Conv, plan: Plan) -> str:
        """Python source defining `compute(x, w, b)`: the framework called for this plan with its public
        API, on NumPy operands in the neutral layouts (x N C spatial..., w as `ops.weight_shape`; a
        bfloat16 case's operands come as float32), returning N C spatial... Repro scripts and `port`
        print it; kernel flips and transposed crops are added around it (`script.py`)."""
        raise Unsupported(f"{self.name} cannot write its call as a standalone script")

    def faithful_plan(self, conv: Conv) -> Plan:
        """A plan that computes the reference's own semantics (explicit pads and crops), for `port`."""
        flip = conv.op == "convolve" and not self.native_convolve
        if conv.op == "conv_transpose":
            return replace(self.plan(conv), realization="emulated", padding=self.valid_padding,
                           crop=tuple((low, max(high, 0)) for low, high in geometry.transpose_crops(conv)),
                           output_padding=tuple(op + max(0, -high) for op, (_, high) in
                                                zip(conv.output_padding, geometry.transpose_crops(conv))))
        if conv.padding_mode not in self.pad_modes:
            raise Unsupported(f"{self.name} has no pad mode for padding_mode={conv.padding_mode!r}")
        pads = ops.pads(conv) or tuple((0, 0) for _ in range(conv.rank))
        if all(p == (0, 0) for p in pads):
            return Plan("native", self.valid_padding, flip=flip)
        return Plan("emulated", self.valid_padding, pre_pad=pads, flip=flip)

    @abstractmethod
    def realise(self, conv: Conv, plan: Plan) -> Realisation:
        """Build the framework objects for `plan` (the probe reuses the case's plan)."""

    def plan(self, conv: Conv) -> Plan:
        """Native, emulated, or Unsupported (raised, with the reason)."""
        if conv.op not in self.ops:
            raise Unsupported(f"{self.name} has no {conv.op} (it takes {', '.join(sorted(self.ops))})")
        if conv.rank not in self.ranks:
            raise Unsupported(f"{self.name} has no {conv.rank}-D convolution")
        if conv.dtype not in self.dtypes:
            raise Unsupported(f"{self.name} has no {conv.dtype} (it takes {', '.join(sorted(self.dtypes))})")
        reason = self.refuse(conv)
        if reason:
            raise Unsupported(reason)
        flip = conv.op == "convolve" and not self.native_convolve
        if conv.op == "conv_transpose":
            native = self.native_crop(conv)
            if native is not None:
                return Plan("native", native)
            # a negative high crop (in*s beyond the full output) is more output_padding: the framework
            # then adds the bias there too, as it does for every position no input reaches
            crops = geometry.transpose_crops(conv)
            extended = tuple(op + max(0, -high) for op, (_, high) in zip(conv.output_padding, crops))
            return Plan("emulated", self.valid_padding, crop=tuple((low, max(high, 0)) for low, high in crops),
                        output_padding=extended)
        native = self.native_padding(conv)
        if native is not None:
            return Plan("emulated" if flip else "native", native, flip=flip)
        if conv.padding_mode not in self.pad_modes:
            raise Unsupported(
                f"{self.name} has no pad mode for padding_mode={conv.padding_mode!r}"
                f" (its pad op takes {', '.join(sorted(set(self.pad_modes.values())))})")
        pads = ops.pads(conv) or tuple((0, 0) for _ in range(conv.rank))
        return Plan("emulated", self.valid_padding, pre_pad=pads, flip=flip)


def symmetric(pads: geometry.Pads) -> tuple[int, ...] | None:
    """One pad per axis when every axis pads the same on both sides, else None."""
    return tuple(low for low, _ in pads) if all(low == high for low, high in pads) else None


def flip_kernel(weights: np.ndarray) -> np.ndarray:
    """The kernel reversed on every spatial axis: a true convolution as a correlation. A copy, not
    ascontiguousarray: NumPy calls a size-1 array contiguous whatever its strides, and a negative
    stride makes torch.from_numpy refuse it (found by the fuzzer)."""
    return np.flip(weights, axis=tuple(range(2, weights.ndim))).copy()


def crop(values: np.ndarray, crops: geometry.Pads) -> np.ndarray:
    """Cut (low, high) >= 0 from each spatial axis."""
    index = tuple(slice(low, values.shape[2 + a] - high) for a, (low, high) in enumerate(crops))
    return values[(slice(None), slice(None), *index)]


def to_layout(array: np.ndarray, layout: str) -> np.ndarray:
    """N C spatial... -> the case layout (channels_last moves C to the end)."""
    return np.ascontiguousarray(np.moveaxis(array, 1, -1)) if layout == "channels_last" else array


def from_layout(array: Any, layout: str) -> np.ndarray:
    """The case layout -> N C spatial..."""
    array = np.asarray(array)
    return np.moveaxis(array, -1, 1) if layout == "channels_last" else array


def kernel_last(weights: np.ndarray) -> np.ndarray:
    """(A, B, *k) -> (*k, B, A): torch's OIHW as Keras'/TF's HWIO (and IOHW as HWOI)."""
    nd = weights.ndim
    return np.ascontiguousarray(weights.transpose(*range(2, nd), 1, 0))


def kernel_first(kernel: np.ndarray) -> np.ndarray:
    """The inverse of kernel_last: (*k, B, A) -> (A, B, *k)."""
    nd = kernel.ndim
    return np.ascontiguousarray(kernel.transpose(nd - 1, nd - 2, *range(nd - 2)))


def dimension_numbers(rank: int, layout: str) -> tuple[str, str, str]:
    """lax-style (input, kernel, output) specs, e.g. ('NHWC', 'HWIO', 'NHWC')."""
    spatial = SPATIAL[rank]
    if layout == "channels_last":
        return f"N{spatial}C", f"{spatial}IO", f"N{spatial}C"
    return f"NC{spatial}", f"OI{spatial}", f"NC{spatial}"


def spatial_widths(pads: geometry.Pads, layout: str) -> list[tuple[int, int]]:
    """Pad widths for every axis of an input in the case layout (batch and channels unpadded)."""
    return ([(0, 0), *pads, (0, 0)] if layout == "channels_last" else [(0, 0), (0, 0), *pads])


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(type name, one-line message) of a framework's exception, without colour codes or trailers."""
    message = _ANSI.sub("", str(exc))
    for trailer in _TRAILERS:
        message = trailer.sub("", message)
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return type(exc).__name__, message
