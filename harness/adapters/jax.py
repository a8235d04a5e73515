"""JAX: `jax.lax.conv_general_dilated` and `jax.lax.conv_transpose`, jitted with operands as arguments.

conv: every padding form is native with zero padding ('VALID', 'SAME', 'SAME_LOWER', pairs);
other padding modes go through `jnp.pad`. conv_transpose: `transpose_kernel=True` (the
gradient of a conv whose OI... kernel is torch's transposed weight), 'VALID' and 'SAME' as
JAX users write them, other crops and output_padding as explicit pairs on the dilated
input (native); it has no groups, so grouped cases run one call per group (emulated).
separable: two calls, depthwise (`feature_group_count` = in_channels) then the 1x1 one.
Weights are arguments, not constants, so the probe and every case of the same configuration
reuse the compiled function (the program's text holds no shape). float64 cases run inside
`jax.enable_x64(True)`, which does not leak into other cases. The persistent compilation
cache lives under `HARNESS_CACHE_DIR`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from ..model import geometry
from ..model.schema import OPS, Conv
from .base import Adapter, dimension_numbers, kernel_first_axes, kernel_last_axes, spatial_widths
from .cache import use_jax_cache
from .device import no_device, requested_device
from .program import Plan

# jax.vjp of a program's jitted `call(x, w, b)`, itself jitted: one compile per shape, as a training step
BACKWARD = ("@jax.jit", "def backward(x, w, b, g):",
            '    """jax.vjp of the same call, compiled once per shape as a training step is."""',
            "    if b is None:", "        return jax.vjp(lambda a, k: call(a, k, None), x, w)[1](g)",
            "    return jax.vjp(call, x, w, b)[1](g)", "", "")


def scope_lines(conv: Conv, contexts: tuple[str, ...] = (), doc: str = "") -> list[str]:
    """A JAX program's `scope()`: on DEVICE, 64-bit types inside the call only for a float64 case (they do
    not leak into other cases), and any further `contexts` (a program's own, said in `doc`)."""
    x64 = conv.dtype == "float64"
    return ["def scope():", f'    """On DEVICE{doc}' + (', with 64-bit types inside this call only."""' if x64 else '."""'),
            "    stack = contextlib.ExitStack()", *(["    stack.enter_context(jax.enable_x64(True))"] if x64 else []),
            "    stack.enter_context(jax.default_device(DEVICE))", *(f"    stack.enter_context({c})" for c in contexts),
            "    return stack", "", ""]


class JaxAdapter(Adapter):
    requires: ClassVar[tuple[str, ...]] = ("jax",)
    valid_padding = "VALID"
    ops = frozenset(OPS)
    pad_modes = frozenset({"zeros", "reflect", "replicate", "circular"})

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

    def padding_argument(self, conv: Conv) -> Any | None:
        if conv.padding in ("same", "same_lower"):
            return conv.padding.upper()
        return geometry.conv_pads(conv)

    def native_crop(self, conv: Conv) -> Any | None:
        if (conv.padding == "valid" and not any(conv.output_padding_axes)) or (
                conv.padding == "same" and conv.output_padding is None):  # 'SAME' gives in*s: the absent rule
            return conv.padding.upper()
        return crop_pairs(conv)

    def faithful_plan(self, conv: Conv) -> Plan:
        if conv.op == "conv_transpose":  # explicit pairs on the dilated input give any crops exactly
            return replace(self.plan(conv), padding=crop_pairs(conv))
        return super().faithful_plan(conv)

    def source(self, conv: Conv, plan: Plan) -> str:
        spec = dimension_numbers(conv.rank, conv.layout)
        last, nd, separable = conv.layout == "channels_last", conv.rank + 2, conv.op == "separable"
        kind, index = requested_device()
        channel = [1] * nd
        channel[spec[0].index("C")] = -1
        lines = ["import contextlib", "", "import jax", "import jax.numpy as jnp", "import numpy as np", "",
                 f"DEVICE = jax.devices({'gpu' if kind == 'cuda' else 'cpu'!r})[{index}]",
                 f"DTYPE = jnp.{conv.dtype}",
                 f"PRECISION = {'jax.lax.Precision.HIGHEST' if conv.precision == 'highest' else None}"
                 f"  # precision: {conv.precision}", "", "", "@jax.jit", "def call(x, w, b):"]
        if conv.op == "conv_transpose":
            c, o = spec[0].index("C"), spec[1].index("O")
            lines += [f"    parts = zip(jnp.split(x, {conv.groups}, axis={c}), jnp.split(w, {conv.groups}, axis={o}))"
                      "  # no groups: one call per group",
                      f"    y = jnp.concatenate([jax.lax.conv_transpose(a, k, strides={conv.stride}, "
                      f"padding={plan.padding!r}, rhs_dilation={conv.dilation}, dimension_numbers={spec}, "
                      f"transpose_kernel=True, precision=PRECISION) for a, k in parts], axis={c})"]
        else:
            if plan.pre_pad is not None:
                lines.append(f"    x = jnp.pad(x, {spatial_widths(plan.pre_pad, conv.layout)}, "
                             f"mode={self.pad_mode(conv)!r})")
            lines.append(f"    y = jax.lax.conv_general_dilated(x, {'w[0]' if separable else 'w'}, "
                         f"window_strides={conv.stride}, padding={plan.padding!r}, rhs_dilation={conv.dilation}, "
                         f"dimension_numbers={spec}, feature_group_count={conv.in_channels if separable else conv.groups}, "
                         f"precision=PRECISION){'  # depthwise' if separable else ''}")
            if separable:
                lines.append(f"    y = jax.lax.conv_general_dilated(y, w[1], window_strides={(1,) * conv.rank}, "
                             f"padding='VALID', dimension_numbers={spec}, precision=PRECISION)  # pointwise")
        lines += [f"    return y if b is None else y + b.reshape({tuple(channel)})", "", "", *scope_lines(conv)]
        count = f"{'sum(k.size for k in w)' if separable else 'w.size'} + (0 if b is None else b.size)"
        lines += array_lines(conv, last, count)
        return "\n".join(lines) + "\n"

    def plan(self, conv: Conv) -> Plan:
        plan = super().plan(conv)
        if conv.op == "conv_transpose" and conv.groups > 1:
            return replace(plan, realization="emulated")  # one lax.conv_transpose per group
        return plan


def array_lines(conv: Conv, last: bool, count: str) -> list[str]:
    """A JAX program's operands, run, numpy, parameter_count and gradients around its jitted `call`: NumPy
    in and out of the neutral layouts (channels last where `last`), `count` the expression counting the
    parameters."""
    nd, separable = conv.rank + 2, conv.op == "separable"
    lines = ["def operands(x, w, b):",
             '    """NumPy in the call\'s layouts and dtype: they go in as they are (one transfer)."""']
    kernels = "tuple(np.ascontiguousarray(k, DTYPE) for k in w)" if separable else "np.ascontiguousarray(w, DTYPE)"
    if last:
        lines += ["    x = np.moveaxis(x, 1, -1)  # N C spatial -> N spatial C",
                  (f"    w = tuple(k.transpose{kernel_last_axes(nd)} for k in w)" if separable else
                   f"    w = w.transpose{kernel_last_axes(nd)}") + "  # (A, B, *k) -> (*k, B, A)"]
    lines += [f"    return (np.ascontiguousarray(x, DTYPE), {kernels},",
              "            None if b is None else np.asarray(b, DTYPE))", "", "",
              "def run(x, w, b):", "    with scope():", "        return call(*operands(x, w, b))", "", "",
              "def numpy(y):", "    y = np.asarray(y)", "    y = y.astype(np.float32) if y.dtype == jnp.bfloat16 else y",
              "    return np.moveaxis(y, -1, 1)" if last else "    return y", "", "",
              "def parameter_count(x, w, b):",
              f"    return {count}", "", "",
              *BACKWARD,
              "def gradients(x, w, b, g):", "    with scope():",
              "        x, w, b = operands(x, w, b)",
              f"        g = np.ascontiguousarray({'np.moveaxis(g, 1, -1)' if last else 'g'}, DTYPE)",
              "        grads = dict(zip(('dx', 'dw', 'db'), backward(x, w, b, g)))",
              *(["        grads['dw'], grads['dpw'] = grads['dw']  # the (depthwise, pointwise) pair"] if separable else []),
              "        grads = {name: np.asarray(value) for name, value in grads.items()}"]
    if last:
        lines.append("    grads['dx'] = np.moveaxis(grads['dx'], -1, 1)")
        lines += [f"    grads[{name!r}] = grads[{name!r}].transpose{kernel_first_axes(nd)}  # (*k, B, A) -> (A, B, *k)"
                  for name in (("dw", "dpw") if separable else ("dw",))]
    lines.append("    return grads")
    return lines


def crop_pairs(conv: Conv) -> tuple[tuple[int, int], ...]:
    """lax.conv_transpose's explicit padding (on the stride-dilated input) for the case's crops and
    output_padding: extent-1-low before, extent-1-high+output_padding after."""
    crops = geometry.transpose_crops(conv)
    return tuple((geometry.extent(k, d) - 1 - low, geometry.extent(k, d) - 1 - high + op)
                 for k, d, (low, high), op in zip(conv.kernel_size, conv.dilation, crops, conv.output_padding_axes))
