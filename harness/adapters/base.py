"""What every adapter shares: the interface, the realisation plan, layouts.

An adapter writes its framework call once, as program text (`source`, see program.py); the
worker runs that text and repro and port print it. Rules:
- the framework is imported in `setup()`, never at module top, so collection and
  `validate` stay framework-free and a missing framework only skips its own rows;
- deciding *how* a case is realised is shared here: an adapter says which ops, ranks,
  dtypes, padding modes and padding forms it takes natively; `valid` is always native,
  other paddings go through its own pad op (`emulated`), a convolve without a native true
  convolution runs its conv on flipped weights (`emulated`), and transposed crops it
  cannot take are cut from the full output;
- `Unsupported` means the adapter knows the framework cannot express the case and
  nothing was called; any other exception is the framework's own refusal (`error`).
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from ..model import geometry, ops
from ..model.ops import NUMPY_PAD_MODES
from ..model.schema import OPS, Conv
from .device import requested_device
from .errors import Unsupported
from .program import Plan, Realised, wrap

ALL_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


class Adapter(ABC):
    """One framework. Subclasses set the class attributes and implement the abstract methods."""

    requires: ClassVar[tuple[str, ...]]  # importable top-level modules, checked without importing
    ops: ClassVar[frozenset[str]] = frozenset(OPS) - {"separable"}  # separable's w is a pair: an adapter opts in
    ranks: ClassVar[frozenset[int]] = frozenset({1, 2, 3})
    dtypes: ClassVar[frozenset[str]] = ALL_DTYPES
    native_convolve: ClassVar[bool] = False  # a true convolution of its own (SciPy)
    valid_padding: ClassVar[Any]  # the conv argument that means "no padding"
    pad_modes: ClassVar[frozenset[str]]  # the case padding_modes its pad op takes
    pad_op_names: ClassVar[dict[str, str]] = NUMPY_PAD_MODES  # case padding_mode -> its pad op's name
    native_pad_modes: ClassVar[frozenset[str]] = frozenset({"zeros"})  # the modes its conv call takes itself
    differentiates: ClassVar[bool] = True  # its program defines `gradients` (the framework's autodiff)
    unbatched: ClassVar[bool] = False  # its call takes C x spatial... with no batch axis (`batch: none`)
    initialiser_rule: ClassVar[str | None] = None  # its layers' documented defaults (defaults.RULES)
    builds_as: ClassVar[str | None] = None  # a route: the adapter whose model it builds (registry.builds_as)

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
        """Import the framework and check the requested device (HARNESS_DEVICE)."""

    @abstractmethod
    def version(self) -> str:
        """Like `torch 2.13.0+cpu`."""

    @abstractmethod
    def precision_flags(self) -> dict[str, str]:
        """The precision switches in force, for the report's environment block."""

    def padding_argument(self, conv: Conv) -> Any | None:
        """conv/convolve padding other than valid, in a mode the call takes: its argument, or None."""
        return None

    def native_padding(self, conv: Conv) -> Any | None:
        """conv/convolve: the call's padding argument if the framework takes this padding directly."""
        if conv.padding == "valid":
            return self.valid_padding
        return self.padding_argument(conv) if conv.padding_mode in self.native_pad_modes else None

    def native_crop(self, conv: Conv) -> Any | None:
        """conv_transpose: the call's padding argument if it takes these crops directly."""
        return None

    def device_name(self) -> str:
        """Where this adapter's work runs (the device column)."""
        return "cpu"

    def requested_device(self) -> tuple[str, int]:
        """Where the program runs its framework (HARNESS_DEVICE; a route converts on the CPU)."""
        return requested_device()

    def fingerprint(self) -> str:
        """What a route's converted artifacts depend on besides its program (route.py); nothing here."""
        return ""

    def placed(self, result: Any) -> str | None:
        """Where the framework says it put a result, if it says (else the device column stays)."""
        return None

    def dtype_name(self, result: Any) -> str:
        """The dtype of a framework's result, as the framework names it."""
        return str(np.dtype(result.dtype).name)

    def tf32_by_default(self) -> bool:
        """Whether the framework, as it ships, lets float32 convolutions use TF32 on this device."""
        return False

    def allowed_precision(self, conv: Conv) -> str:
        """What a case was allowed: its dtype, or tf32 for `precision: default` float32 where the
        framework ships with TF32 on (NVIDIA GPUs since Ampere); `highest` always switches it off."""
        if conv.precision == "default" and conv.dtype == "float32" and self.tf32_by_default():
            return "tf32"
        return conv.dtype

    def probes(self, plan: Plan) -> bool:
        """Whether the zero-padded probe through this plan reads the pads applied (not where the call's own
        padding word also sets the mode, as flax's 'REFLECT' does: the probe would read reflected values)."""
        return True

    def refuse(self, conv: Conv) -> str | None:
        """Why the framework cannot express this case beyond ops/ranks/dtypes, or None."""
        return None

    @abstractmethod
    def source(self, conv: Conv, plan: Plan) -> str:
        """Python source calling the framework for this plan with its public API (program.py says what it
        defines): NumPy operands in the neutral layouts (x N C spatial..., w as `ops.weight_shape`; a
        bfloat16 case's operands may come as float32), results as N C spatial... The worker runs it."""

    def initialiser(self, conv: Conv, plan: Plan) -> str | None:
        """Text defining `initial_parameters(kernels, biases, seed)` (draws.py) after `source`; None: no layer of
        its own."""
        return None

    def initial_program(self, conv: Conv) -> str:
        """The program of the init pass: the source with `initial_parameters`, or Unsupported."""
        plan = self.plan(conv)
        text = self.initialiser(conv, plan)
        if text is None or self.initialiser_rule is None:  # no documented default to hold its draws to
            raise Unsupported(f"{self.name} builds no layer of its own: there is no default initialiser to measure")
        return self.source(conv, plan) + text

    def program(self, conv: Conv, plan: Plan) -> str:
        """The code that runs: the adapter's source with the harness's flip and crop around it."""
        return wrap(conv, plan, self.source(conv, plan), self.differentiates)

    def realise(self, conv: Conv, plan: Plan) -> Realised:
        """The program compiled (once per distinct text), ready to call on the case's operands."""
        return Realised(self, conv, plan)

    def pad_mode(self, conv: Conv) -> str:
        """The pad op's name for the case's padding_mode (checked by `plan`)."""
        return self.pad_op_names[conv.padding_mode]

    def transposed_plan(self, conv: Conv, native: Any | None) -> Plan:
        """The crops as the call's argument, or the full output cut; a negative high crop (in*s beyond
        the full output) is more output_padding: the framework then adds the bias there too, as it
        does for every position no input reaches."""
        if native is not None:
            return Plan("native", native, output_padding=conv.output_padding_axes)
        crops = geometry.transpose_crops(conv)
        extended = tuple(op + max(0, -high) for op, (_, high) in zip(conv.output_padding_axes, crops))
        return Plan("emulated", self.valid_padding, crop=tuple((low, max(high, 0)) for low, high in crops),
                    output_padding=extended)

    def padded_plan(self, conv: Conv, native: Any | None) -> Plan:
        """conv/convolve: the call's own padding, or the pad op first."""
        flip = conv.op == "convolve" and not self.native_convolve
        if native is not None:
            return Plan("emulated" if flip else "native", native, flip=flip)
        if conv.padding_mode not in self.pad_modes:
            raise Unsupported(f"{self.name} has no pad mode for padding_mode={conv.padding_mode!r}"
                              f" (its pad op takes {', '.join(sorted(self.pad_modes))})")
        pads = ops.pads(conv) or tuple((0, 0) for _ in range(conv.rank))
        return Plan("emulated", self.valid_padding, pre_pad=pads, flip=flip)

    def faithful_plan(self, conv: Conv) -> Plan:
        """A plan that computes the reference's own semantics (explicit pads and crops), for `port`."""
        self.plan(conv)  # Unsupported where the framework cannot express the case at all
        if conv.op == "conv_transpose":
            return self.transposed_plan(conv, None)
        plan = self.padded_plan(conv, None)
        if plan.pre_pad is not None and not any(low or high for low, high in plan.pre_pad):
            return Plan("native", self.valid_padding, flip=plan.flip)
        return plan

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
        if conv.op == "conv_transpose":
            plan = self.transposed_plan(conv, self.native_crop(conv))
        else:
            plan = self.padded_plan(conv, self.native_padding(conv))
        if conv.batch is None and not self.unbatched:  # an unbatched case as a batch of one: the row says emulated
            return replace(plan, realization="emulated")
        return plan

def symmetric(pads: geometry.Pads) -> tuple[int, ...] | None:
    """One pad per axis when every axis pads the same on both sides, else None."""
    return tuple(low for low, _ in pads) if all(low == high for low, high in pads) else None


def kernel_last_axes(nd: int) -> tuple[int, ...]:
    """The transpose that turns (A, B, *k) into (*k, B, A): torch's OIHW as Keras'/TF's/lax's HWIO
    (and IOHW as HWOI), for a program's `w.transpose(...)`."""
    return (*range(2, nd), 1, 0)


def kernel_first_axes(nd: int) -> tuple[int, ...]:
    """The inverse of kernel_last_axes: (*k, B, A) -> (A, B, *k)."""
    return (nd - 1, nd - 2, *range(nd - 2))


def dimension_numbers(rank: int, layout: str) -> tuple[str, str, str]:
    """lax-style (input, kernel, output) specs, e.g. ('NHWC', 'HWIO', 'NHWC')."""
    spatial = SPATIAL[rank]
    if layout == "channels_last":
        return f"N{spatial}C", f"{spatial}IO", f"N{spatial}C"
    return f"NC{spatial}", f"OI{spatial}", f"NC{spatial}"


def out_of_layout(conv: Conv, name: str) -> str:
    """The expression that turns the NumPy array `name` in the case layout into N C spatial..."""
    return f"np.moveaxis({name}, -1, 1)" if conv.layout == "channels_last" else name


def spatial_widths(pads: geometry.Pads, layout: str) -> list[tuple[int, int]]:
    """Pad widths for every axis of an input in the case layout (batch and channels unpadded)."""
    return ([(0, 0), *pads, (0, 0)] if layout == "channels_last" else [(0, 0), (0, 0), *pads])
