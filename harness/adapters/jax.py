"""JAX: `jax.lax.conv_general_dilated` and `jax.lax.conv_transpose`, jitted with operands as arguments.

conv: every padding form is native with zero padding ('VALID', 'SAME', 'SAME_LOWER', pairs);
other padding modes go through `jnp.pad`. conv_transpose: `transpose_kernel=True` (the
gradient of a conv whose OI... kernel is torch's transposed weight), 'VALID' and 'SAME' as
JAX users write them, other crops and output_padding as explicit pairs on the dilated
input (native); it has no groups, so grouped cases run one call per group (emulated).
Weights are arguments, not constants, so the probe reuses the compiled function. float64
cases run inside `jax.enable_x64(True)`, which does not leak into other cases. The
persistent compilation cache lives under `HARNESS_CACHE_DIR`.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import replace
from typing import Any

import numpy as np

from .. import geometry
from ..cache import use_jax_cache
from ..data import Tensors
from ..schema import Conv
from .base import (
    Adapter,
    ArrayRealisation,
    Plan,
    Realisation,
    dimension_numbers,
    from_layout,
    kernel_first,
    kernel_last,
    spatial_widths,
    to_layout,
)
from .device import no_device, requested_device


class JaxAdapter(Adapter):
    requires = ("jax",)
    valid_padding = "VALID"
    pad_modes = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

    def setup(self) -> None:
        import jax

        use_jax_cache(jax)
        self.jax = jax
        kind, index = requested_device()
        try:
            self.device = jax.devices("gpu" if kind == "cuda" else "cpu")[index]
        except (RuntimeError, IndexError):
            raise no_device(f"jax {jax.__version__}", kind, index) from None

    def version(self) -> str:
        return f"jax {self.jax.__version__}"

    def precision_flags(self) -> dict[str, str]:
        return {
            "jax convolution precision": "lax.Precision.HIGHEST (precision: highest), None (precision: default)",
            "jax backend": self.jax.default_backend(),
        }

    def device_name(self) -> str:
        return f"{self.device.platform}:{self.device.id}"

    def tf32_by_default(self) -> bool:  # XLA's default precision for float32 convolutions on NVIDIA GPUs
        return self.device.platform == "gpu" and float(getattr(self.device, "compute_capability", "0")) >= 8

    def native_padding(self, conv: Conv) -> Any | None:
        if conv.padding == "valid":
            return "VALID"
        if conv.padding_mode != "zeros":
            return None
        if conv.padding in ("same", "same_lower"):
            return conv.padding.upper()
        return geometry.conv_pads(conv)

    def native_crop(self, conv: Conv) -> Any | None:
        if conv.padding in ("valid", "same") and not any(conv.output_padding):
            return conv.padding.upper()
        return crop_pairs(conv)

    def faithful_plan(self, conv: Conv) -> Plan:
        if conv.op == "conv_transpose":  # explicit pairs on the dilated input give any crops exactly
            return replace(self.plan(conv), padding=crop_pairs(conv))
        return super().faithful_plan(conv)

    def source(self, conv: Conv, plan: Plan) -> str:
        spec = dimension_numbers(conv.rank, conv.layout)
        last = conv.layout == "channels_last"
        nd = conv.rank + 2
        precision = "jax.lax.Precision.HIGHEST" if conv.precision == "highest" else "None"
        lines = ["import jax", "import jax.numpy as jnp", "import numpy as np", "", ""]
        if conv.dtype == "float64":  # 64-bit inside this call only: the program's other JAX code keeps its setting
            lines += ["def compute(x, w, b):", "    with jax.enable_x64(True):", "        return _compute(x, w, b)",
                      "", ""]
        lines += [f"def {'_compute' if conv.dtype == 'float64' else 'compute'}(x, w, b):", f"    dtype = jnp.{conv.dtype}"]
        if last:
            lines += ["    x = np.moveaxis(x, 1, -1)  # N C spatial -> N spatial C",
                      f"    w = w.transpose({', '.join(map(str, (*range(2, nd), 1, 0)))})  # (A, B, *k) -> (*k, B, A)"]
        lines.append("    x, w = jnp.asarray(x, dtype), jnp.asarray(w, dtype)")
        if conv.op == "conv_transpose":
            c, o = spec[0].index("C"), spec[1].index("O")
            lines += [f"    parts = zip(jnp.split(x, {conv.groups}, axis={c}), jnp.split(w, {conv.groups}, axis={o}))",
                      f"    y = jnp.concatenate([jax.lax.conv_transpose(a, k, strides={conv.stride}, padding={plan.padding!r},"
                      f" rhs_dilation={conv.dilation}, dimension_numbers={spec}, transpose_kernel=True,"
                      f" precision={precision}) for a, k in parts], axis={c})"]
        else:
            if plan.pre_pad is not None:
                lines.append(f"    x = jnp.pad(x, {spatial_widths(plan.pre_pad, conv.layout)}, "
                             f"mode={self.pad_modes[conv.padding_mode]!r})")
            lines.append(f"    y = jax.lax.conv_general_dilated(x, w, window_strides={conv.stride}, padding={plan.padding!r}, "
                         f"rhs_dilation={conv.dilation}, dimension_numbers={spec}, feature_group_count={conv.groups}, "
                         f"precision={precision})")
        channel = [1] * nd
        channel[spec[0].index("C")] = -1
        lines += ["    if b is not None:", f"        y = y + jnp.asarray(b, dtype).reshape({tuple(channel)})",
                  "    y = np.asarray(y.astype(jnp.float32) if y.dtype == jnp.bfloat16 else y)",
                  "    return np.moveaxis(y, -1, 1)" if last else "    return y"]
        return "\n".join(lines) + "\n"

    def plan(self, conv: Conv) -> Plan:
        plan = super().plan(conv)
        if conv.op == "conv_transpose" and conv.groups > 1:
            return replace(plan, realization="emulated")  # one lax.conv_transpose per group
        return plan

    def realise(self, conv: Conv, plan: Plan) -> Realisation:
        key = (conv.op, plan.padding, plan.pre_pad, self.pad_modes.get(conv.padding_mode), conv.stride,
               conv.dilation, conv.groups, conv.layout, conv.rank, conv.precision)
        return _JaxRealisation(self, plan, _compiled(key), conv)


def crop_pairs(conv: Conv) -> tuple[tuple[int, int], ...]:
    """lax.conv_transpose's explicit padding (on the stride-dilated input) for the case's crops and
    output_padding: extent-1-low before, extent-1-high+output_padding after."""
    crops = geometry.transpose_crops(conv)
    return tuple((geometry.extent(k, d) - 1 - low, geometry.extent(k, d) - 1 - high + op)
                 for k, d, (low, high), op in zip(conv.kernel_size, conv.dilation, crops, conv.output_padding))


@functools.cache
def _compiled(key: tuple[Any, ...]) -> Any:
    """One jitted function per configuration; jit itself caches per shape and dtype."""
    import jax
    import jax.numpy as jnp

    op, padding, pre_pad, mode, stride, dilation, groups, layout, rank, level = key
    spec = dimension_numbers(rank, layout)
    channel_axis = spec[0].index("C")
    precision = jax.lax.Precision.HIGHEST if level == "highest" else None

    def transpose(x: Any, w: Any) -> Any:
        return jax.lax.conv_transpose(x, w, strides=stride, padding=padding, rhs_dilation=dilation,
                                      dimension_numbers=spec, transpose_kernel=True, precision=precision)

    def conv(x: Any, w: Any, b: Any) -> Any:
        if op == "conv_transpose":
            xs, ws = jnp.split(x, groups, axis=channel_axis), jnp.split(w, groups, axis=spec[1].index("O"))
            y = jnp.concatenate([transpose(a, k) for a, k in zip(xs, ws)], axis=channel_axis)
        else:
            if pre_pad is not None:
                x = jnp.pad(x, spatial_widths(pre_pad, layout), mode=mode)
            y = jax.lax.conv_general_dilated(
                x, w, window_strides=stride, padding=padding, rhs_dilation=dilation,
                dimension_numbers=spec, feature_group_count=groups, precision=precision)
        if b is not None:
            shape = [1] * (rank + 2)
            shape[channel_axis] = -1
            y = y + b.reshape(shape)
        return y

    return jax.jit(conv)


class _JaxRealisation(ArrayRealisation):
    def __init__(self, adapter: JaxAdapter, plan: Plan, fn: Any, conv: Conv) -> None:
        super().__init__(plan)
        self.adapter, self.fn, self.conv = adapter, fn, conv

    def scope(self, tensors: Tensors) -> Any:
        """float64 inside enable_x64 (it does not leak out), on the chosen device."""
        jax = self.adapter.jax
        x64 = jax.enable_x64(True) if tensors.input.dtype == np.float64 else contextlib.nullcontext()
        stack = contextlib.ExitStack()
        stack.enter_context(x64)
        stack.enter_context(jax.default_device(self.adapter.device))
        return stack

    def operands(self, tensors: Tensors) -> tuple[np.ndarray, np.ndarray]:
        layout = self.conv.layout
        w = tensors.weights if layout == "channels_first" else kernel_last(tensors.weights)
        return to_layout(tensors.input, layout), w

    def run(self, tensors: Tensors) -> tuple[np.ndarray, str]:
        x, w = self.operands(tensors)
        with self.scope(tensors):  # NumPy operands go in as they are: one transfer, no jnp.asarray
            y = np.asarray(self.fn(x, w, tensors.bias))
        self.count(w, tensors.bias)
        return from_layout(y, self.conv.layout), y.dtype.name

    def backward(self, tensors: Tensors, cotangent: np.ndarray) -> dict[str, np.ndarray]:
        jax, layout = self.adapter.jax, self.conv.layout
        x, w = self.operands(tensors)
        g = to_layout(cotangent, layout)
        with self.scope(tensors):
            if tensors.bias is None:
                _, pullback = jax.vjp(lambda a, k: self.fn(a, k, None), x, w)
                dx, dw = pullback(g)
                grads = {"dx": dx, "dw": dw}
            else:
                _, pullback = jax.vjp(self.fn, x, w, tensors.bias)
                dx, dw, db = pullback(g)
                grads = {"dx": dx, "dw": dw, "db": db}
            grads = {name: np.asarray(value) for name, value in grads.items()}
        grads["dx"] = from_layout(grads["dx"], layout)
        if layout == "channels_last":
            grads["dw"] = kernel_first(grads["dw"])
        return grads
