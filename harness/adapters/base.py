"""What every adapter shares: the protocol, the padding plan, error capture.

An adapter turns a case into a call of its framework on the case's own arrays. Rules:
- the framework is imported in `setup()`, never at module top, so collection and
  `validate` stay framework-free and a missing framework only skips its own rows;
- deciding *how* padding is realised (natively, or by the framework's own pad op and
  a valid convolution) is shared here; each adapter only says what it can take natively;
- `Unsupported` means the adapter knows the framework cannot express the case and
  nothing was called; any other exception is the framework's own refusal (`error`).
"""

from __future__ import annotations

import importlib.util
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import geometry
from ..data import Tensors
from ..schema import Conv

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_KERAS_ARGS_TRAILER = re.compile(r"\s*Arguments received by .*", re.S)
_MLIR_LOCATION = re.compile(r"\s+at loc\(.*", re.S)  # JAX/XLA: the harness's own call sites, machine-specific
MAX_MESSAGE = 600


class Unsupported(Exception):
    """The framework cannot express this case; the message says why."""


@dataclass(frozen=True)
class Plan:
    """How the case's padding is realised: `pre_pad` with the framework's pad op, if any."""

    realization: str  # native | emulated
    padding: Any  # the convolution's own padding argument
    pre_pad: geometry.Pads | None = None


@dataclass(frozen=True)
class Output:
    """A framework's result in NCHW float64, with the dtype the framework returned."""

    values: np.ndarray
    dtype: str


class Realisation(ABC):
    """A case realised in one framework, callable on any operands of the case's shapes."""

    plan: Plan

    @property
    @abstractmethod
    def param_count(self) -> int: ...

    @abstractmethod
    def __call__(self, tensors: Tensors) -> Output: ...


class Adapter(ABC):
    name: ClassVar[str]
    module: ClassVar[str]  # the importable top-level name, checked without importing
    valid_padding: ClassVar[Any]  # the conv argument that means "no padding"
    pad_modes: ClassVar[dict[str, str]]  # case padding_mode -> the pad op's mode name

    def __init__(self) -> None:
        self._ready = False

    @classmethod
    def available(cls) -> bool:
        return importlib.util.find_spec(cls.module) is not None

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
        """The conv's padding argument if the framework takes this case's padding directly."""

    @abstractmethod
    def realise(self, conv: Conv, plan: Plan | None = None) -> Realisation:
        """Build the framework objects; `plan` overrides the padding plan (the probe keeps the case's)."""

    def plan(self, conv: Conv) -> Plan:
        native = self.native_padding(conv)
        if native is not None:
            return Plan("native", native)
        if conv.padding_mode not in self.pad_modes:
            raise Unsupported(
                f"{self.name} has no pad mode for padding_mode={conv.padding_mode!r}"
                f" (its pad op takes {', '.join(sorted(set(self.pad_modes.values())))})"
            )
        pads = geometry.requested_pads(conv) or ((0, 0), (0, 0))
        return Plan("emulated", self.valid_padding, pads)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(type name, one-line message) of a framework's exception, without colour codes."""
    message = _MLIR_LOCATION.sub("", _KERAS_ARGS_TRAILER.sub("", _ANSI.sub("", str(exc))))
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return type(exc).__name__, message


def nchw(array: np.ndarray, layout: str) -> np.ndarray:
    """A channels_last result back in NCHW, as float64."""
    array = np.asarray(array)
    if layout == "channels_last":
        array = array.transpose(0, 3, 1, 2)
    return array.astype(np.float64)
