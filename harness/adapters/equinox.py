"""Equinox: `eqx.nn.Conv` and `eqx.nn.ConvTranspose`, the layers JAX users write, vmapped over the batch.

Equinox layers take one unbatched C x spatial... input (users `jax.vmap` them) and torch's weight
layout (out, in/groups, *k). Native: every padding form (pairs, 'VALID', 'SAME', 'SAME_LOWER') with
every `padding_mode` (ZEROS, REFLECT, REPLICATE, CIRCULAR) for conv; explicit crops and
`output_padding` (torch's rule), and 'SAME' where output_padding is absent, for ConvTranspose.
Equinox's ConvTranspose is a forward convolution of the stride-dilated input with its weight as it
is: the transposed convolution of torch's (in, out/groups, *k) kernel needs that kernel flipped on
every spatial axis and its in and out axes swapped within each group (equinox #574, #728) — the
program writes that recipe, so `port --to equinox` prints it. `precision` through
`jax.default_matmul_precision`, as Equinox has no precision argument; float64 inside
`jax.enable_x64(True)`, as in the `jax` adapter.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..model import geometry
from ..model.schema import Conv
from .device import requested_device
from .draws import jax_layer_lines
from .jax import BACKWARD, JaxAdapter, scope_lines
from .program import Plan

MODES = {"zeros": "ZEROS", "reflect": "REFLECT", "replicate": "REPLICATE", "circular": "CIRCULAR"}


class EquinoxAdapter(JaxAdapter):
    requires: ClassVar[tuple[str, ...]] = ("equinox", "jax")
    ops = frozenset({"conv", "convolve", "conv_transpose"})
    native_pad_modes = frozenset(MODES)  # the layer's padding_mode
    initialiser_rule = "equinox"

    def setup(self) -> None:
        super().setup()
        import equinox

        self.equinox = equinox

    def version(self) -> str:
        return f"equinox {self.equinox.__version__} (jax {self.jax.__version__})"

    def precision_flags(self) -> dict[str, str]:
        return {"equinox convolution precision": "jax.default_matmul_precision('highest') (precision: highest), "
                                                 "JAX's default (precision: default)"}

    def padding_argument(self, conv: Conv) -> Any | None:
        if conv.padding in ("same", "same_lower", "valid"):
            return str(conv.padding).upper()
        return geometry.conv_pads(conv)

    def native_crop(self, conv: Conv) -> Any | None:
        if conv.padding == "same" and conv.output_padding is None:  # 'SAME' gives in*s: the absent rule
            return "SAME"
        return geometry.transpose_crops(conv)

    def faithful_plan(self, conv: Conv) -> Plan:
        return self.plan(conv)

    def source(self, conv: Conv, plan: Plan) -> str:
        kind, index = requested_device()
        transpose = conv.op == "conv_transpose"
        shape = (conv.out_channels, conv.in_channels // max(conv.groups, 1), *conv.kernel_size)
        common = (f"{conv.rank}, {conv.in_channels}, {conv.out_channels}, {conv.kernel_size}, stride={conv.stride}, "
                  f"padding={plan.padding!r}, dilation={conv.dilation}, groups={conv.groups}, use_bias={conv.bias}")
        if transpose:
            layer = (f"eqx.nn.ConvTranspose({common}, output_padding={plan.output_padding}, "
                     f"padding_mode='ZEROS', dtype=DTYPE, key=key)")
        else:
            layer = f"eqx.nn.Conv({common}, padding_mode={MODES[conv.padding_mode]!r}, dtype=DTYPE, key=key)"
        lines = ["import contextlib", "", "import equinox as eqx", "import jax", "import jax.numpy as jnp",
                 "import numpy as np", "", f"DEVICE = jax.devices({'gpu' if kind == 'cuda' else 'cpu'!r})[{index}]",
                 f"DTYPE = jnp.{conv.dtype}",
                 f"PRECISION = {'highest' if conv.precision == 'highest' else None!r}  # precision: {conv.precision}",
                 "", "", *scope_lines(conv, ("jax.default_matmul_precision(PRECISION)",), ", at PRECISION"),
                  "def build(key):", f"    return {layer}", "", "",
                  "with scope():  # built abstractly (its initial weights are replaced by the case's): no compile",
                  "    layer = eqx.filter_eval_shape(build, jax.random.PRNGKey(0))", "", "", "def layer_weight(w):"]
        if transpose:
            g = conv.groups
            lines += ['    """torch\'s (in, out/groups, *k) as the transpose of a convolution in Equinox: flipped on every',
                      "    spatial axis, in and out swapped within each group (Equinox's weight as it is would not be).\"\"\"",
                      f"    w = w.reshape({g}, w.shape[0] // {g}, *w.shape[1:]).swapaxes(1, 2)",
                      f"    return jnp.flip(w.reshape({shape}), axis={tuple(range(2, 2 + conv.rank))})"]
        else:
            lines += ['    """torch\'s layout, which is Equinox\'s."""', "    return w"]
        lines += ["", "", "@jax.jit", "def call(x, w, b):", '    """The layer with the case\'s weights, vmapped over the batch."""',
                  "    model = eqx.tree_at(lambda m: m.weight, layer, layer_weight(w))",
                  "    if b is not None:",
                  f"        model = eqx.tree_at(lambda m: m.bias, model, b.reshape({(conv.out_channels,) + (1,) * conv.rank}))",
                  "    return jax.vmap(model)(x)", "", "",
                  "def operands(x, w, b):",
                  "    return tuple(None if a is None else np.ascontiguousarray(a, DTYPE) for a in (x, w, b))", "", "",
                  "def run(x, w, b):", "    with scope():", "        return call(*operands(x, w, b))", "", "",
                  "def numpy(y):", "    y = np.asarray(y)", "    return y.astype(np.float32) if y.dtype == jnp.bfloat16 else y",
                  "", "", "def parameter_count(x, w, b):",
                  '    """Counted from the layer\'s own parameters (their shapes)."""',
                  "    return sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(layer) if hasattr(a, 'shape'))",
                  "", "",
                  *BACKWARD,
                  "def gradients(x, w, b, g):", "    with scope():", "        x, w, b = operands(x, w, b)",
                  "        grads = dict(zip(('dx', 'dw', 'db'), backward(x, w, b, np.ascontiguousarray(g, DTYPE))))",
                  "        return {name: np.asarray(value) for name, value in grads.items()}"]
        return "\n".join(lines) + "\n"

    def initialiser(self, conv: Conv, plan: Plan) -> str | None:
        return jax_layer_lines("key", "fresh.weight", "fresh.bias")

    def plan(self, conv: Conv) -> Plan:
        return super(JaxAdapter, self).plan(conv)  # Equinox has groups for ConvTranspose: no per-group calls
