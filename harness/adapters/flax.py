"""Flax: `flax.nnx.Conv` and `flax.nnx.ConvTranspose`, the layers most JAX users write, jitted.

Flax layers are channels-last whatever the case's layout (N spatial... C, kernel (*k, in/groups, out)),
so the program moves the axes as a user porting from torch does. conv, native: 'VALID', 'SAME',
'CAUSAL' (1-D), explicit pairs (zero padding), and for `padding: same` with a reflect or circular
`padding_mode` the layer's own 'REFLECT' and 'CIRCULAR' words, which pad ((k-1)//2, k//2) per axis
whatever the stride (flax/nnx/nn/linear.py): 'same' only at stride 1, the difference the harness
exists to show. Other modes and pads go through `jnp.pad` first (emulated). ConvTranspose wraps
`lax.conv_transpose` and has no feature groups (grouped cases are unsupported); with
`transpose_kernel=True` its (*k, out, in) kernel is torch's (in, out, *k) with the axes moved, and
torch's crops and output_padding are explicit pairs on the stride-dilated input (d*(k-1) - p low,
d*(k-1) - p + output_padding high): the recipe `port --to flax` prints (flax #1872). The layer is built
abstractly (`nnx.eval_shape`: no initialiser runs) and merged inside the jitted call with the case's
weights; float64 inside `jax.enable_x64(True)`, as in the `jax` adapter.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..model import geometry
from ..model.schema import Conv
from .device import requested_device
from .draws import jax_layer_lines
from .jax import JaxAdapter, array_lines, scope_lines
from .program import Plan

WORDS = {"reflect": "REFLECT", "circular": "CIRCULAR"}  # padding_mode -> the layer's own padding word


class FlaxAdapter(JaxAdapter):
    requires: ClassVar[tuple[str, ...]] = ("flax", "jax")
    ops = frozenset({"conv", "convolve", "conv_transpose"})
    native_pad_modes = frozenset({"zeros", *WORDS})
    unbatched = True  # nnx.Conv adds and removes a missing batch axis itself
    initialiser_rule = "flax"

    def setup(self) -> None:
        super().setup()
        import flax

        self.flax = flax

    def version(self) -> str:
        return f"flax {self.flax.__version__} (jax {self.jax.__version__})"

    def precision_flags(self) -> dict[str, str]:
        return {"flax convolution precision": "precision=lax.Precision.HIGHEST (precision: highest), "
                                              "None (precision: default)"}

    def padding_argument(self, conv: Conv) -> Any | None:
        if conv.padding_mode in WORDS:  # the layer's word, what a user writes for 'same' with that mode
            return WORDS[conv.padding_mode] if conv.padding == "same" else None
        if conv.padding == "same" or (conv.padding == "causal" and conv.rank == 1):
            return str(conv.padding).upper()
        return geometry.conv_pads(conv)

    def initialiser(self, conv: Conv, plan: Plan) -> str | None:
        return jax_layer_lines("nnx.Rngs(params=key)", "fresh.kernel[...]", "None if fresh.bias is None else fresh.bias[...]")

    def probes(self, plan: Plan) -> bool:
        return plan.padding not in WORDS.values()  # 'REFLECT' reflects the probe too: its pads stay unmeasured

    def refuse(self, conv: Conv) -> str | None:
        if conv.op == "conv_transpose" and conv.groups > 1:
            return "flax's nnx.ConvTranspose has no feature_group_count: no grouped transposed convolution"
        return None

    def plan(self, conv: Conv) -> Plan:
        return super(JaxAdapter, self).plan(conv)  # no per-group calls: grouped transposed cases are refused

    def source(self, conv: Conv, plan: Plan) -> str:
        kind, index = requested_device()
        transpose = conv.op == "conv_transpose"
        common = (f"{conv.in_channels}, {conv.out_channels}, {conv.kernel_size}, strides={conv.stride}, "
                  f"padding={plan.padding!r}, kernel_dilation={conv.dilation}, use_bias={conv.bias}, "
                  "dtype=DTYPE, param_dtype=DTYPE, precision=PRECISION, rngs=rngs")
        layer = (f"nnx.ConvTranspose({common}, transpose_kernel=True)" if transpose else
                 f"nnx.Conv({common}, feature_group_count={conv.groups})")
        unbatched = conv.batch is None
        lines = ["import contextlib", "", "import jax", "import jax.numpy as jnp", "import numpy as np",
                 "from flax import nnx", "", f"DEVICE = jax.devices({'gpu' if kind == 'cuda' else 'cpu'!r})[{index}]",
                 f"DTYPE = jnp.{conv.dtype}",
                 f"PRECISION = {'jax.lax.Precision.HIGHEST' if conv.precision == 'highest' else None}"
                 f"  # precision: {conv.precision}", "", "", *scope_lines(conv),
                 *(["# torch's padding p and output_padding op as flax's pairs on the stride-dilated input:",
                    "# (d*(k-1) - p, d*(k-1) - p + op) per axis"] if transpose and isinstance(plan.padding, tuple) else []),
                 "def build(rngs):", f"    return {layer}", "", "",
                 "with scope():  # built abstractly (its initial weights are replaced by the case's): no initialiser runs",
                 "    graph, state = nnx.split(nnx.eval_shape(lambda: build(nnx.Rngs(0))))", "", "",
                 "@jax.jit", "def call(x, w, b):",
                 '    """A fresh layer in the trace, holding the case\'s weights' + (
                     " (transpose_kernel=True: torch's (in, out, *k) with its axes moved).\"\"\"" if transpose else '."""'),
                 "    model = nnx.merge(graph, state)", "    model.kernel = nnx.Param(w)",
                 "    if b is not None:", "        model.bias = nnx.Param(b)"]
        if plan.pre_pad is not None:
            widths = [(0, 0), *plan.pre_pad, (0, 0)]
            lines.append(f"    x = jnp.pad(x, {widths}, mode={self.pad_mode(conv)!r})")
        lines.append("    return model(x[0])[None]  # unbatched, as nnx takes it" if unbatched else "    return model(x)")
        lines += ["", "", *array_lines(conv, True, "sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(state))"
                                                   "  # the layer's own parameters")]
        return "\n".join(lines) + "\n"
