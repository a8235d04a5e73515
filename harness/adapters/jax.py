"""JAX: `jax.lax.conv_general_dilated`, jitted with the operands as arguments.

Every padding form is native with zero padding ('VALID', 'SAME', 'SAME_LOWER', pairs);
other padding modes are emulated with `jnp.pad`. Weights are arguments, not constants,
so the padding probe reuses the compiled function. float64 cases run inside
`jax.enable_x64(True)`, which does not leak into other cases. The persistent compilation
cache lives under `HARNESS_CACHE_DIR`.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np

from ..cache import cache_dir
from ..data import Tensors
from ..schema import Conv
from .base import Adapter, Output, Plan, Realisation, nchw

DIMENSION_NUMBERS = {"channels_last": ("NHWC", "HWIO", "NHWC"), "channels_first": ("NCHW", "OIHW", "NCHW")}


class JaxAdapter(Adapter):
    name = "jax"
    module = "jax"
    valid_padding = "VALID"
    pad_modes = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

    def setup(self) -> None:
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")
        jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
        self.jax = jax

    def version(self) -> str:
        return f"jax {self.jax.__version__}"

    def precision_flags(self) -> dict[str, str]:
        return {
            "jax_default_matmul_precision": str(self.jax.config.jax_default_matmul_precision),
            "jax backend": self.jax.default_backend(),
        }

    def native_padding(self, conv: Conv) -> Any | None:
        if conv.padding == "valid":
            return "VALID"
        if conv.padding_mode != "zeros":
            return None
        if isinstance(conv.padding, tuple):
            return conv.padding
        return conv.padding.upper()

    def realise(self, conv: Conv, plan: Plan | None = None) -> Realisation:
        plan = plan or self.plan(conv)
        key = (plan.padding, plan.pre_pad, self.pad_modes.get(conv.padding_mode), conv.stride,
               conv.dilation, conv.groups, conv.layout)
        return _JaxRealisation(self, plan, _compiled(key), conv)


@functools.cache
def _compiled(key: tuple[Any, ...]) -> Any:
    """One jitted function per configuration; jit itself caches per shape and dtype."""
    import jax
    import jax.numpy as jnp

    padding, pre_pad, mode, stride, dilation, groups, layout = key
    spec = DIMENSION_NUMBERS[layout]
    channel_axis = spec[0].index("C")

    def conv(x: Any, w: Any, b: Any) -> Any:
        if pre_pad is not None:
            widths = [(0, 0)] * 4
            widths[spec[0].index("H")], widths[spec[0].index("W")] = pre_pad
            x = jnp.pad(x, widths, mode=mode)
        y = jax.lax.conv_general_dilated(
            x, w, window_strides=stride, padding=padding, rhs_dilation=dilation,
            dimension_numbers=spec, feature_group_count=groups,
            precision=jax.lax.Precision.HIGHEST,
        )
        if b is not None:
            shape = [1, 1, 1, 1]
            shape[channel_axis] = -1
            y = y + b.reshape(shape)
        return y

    return jax.jit(conv)


class _JaxRealisation(Realisation):
    def __init__(self, adapter: JaxAdapter, plan: Any, fn: Any, conv: Conv) -> None:
        self.adapter, self.plan, self.fn, self.conv = adapter, plan, fn, conv
        self.sizes: int | None = None

    @property
    def param_count(self) -> int:
        if self.sizes is None:
            raise RuntimeError("the jax adapter counts the arrays it passed; call it first")
        return self.sizes

    def __call__(self, tensors: Tensors) -> Output:
        jax = self.adapter.jax
        w = tensors.weights if self.conv.layout == "channels_first" else tensors.weights.transpose(2, 3, 1, 0)
        x = tensors.input if self.conv.layout == "channels_first" else tensors.input.transpose(0, 2, 3, 1)
        x64 = jax.enable_x64(True) if tensors.input.dtype == np.float64 else contextlib.nullcontext()
        with x64:  # NumPy operands go to the jitted function as they are: one transfer, no jnp.asarray
            y = np.asarray(self.fn(x, w, tensors.bias))
        self.sizes = w.size + (0 if tensors.bias is None else tensors.bias.size)  # the arrays passed
        return Output(nchw(y, self.conv.layout), y.dtype.name)
