"""Keras 3 layers on TensorFlow (`keras`) and torch (`keras-torch`), eagerly, and on JAX (`keras-jax`), jitted.

The layers a Keras user writes: `Conv1D/2D/3D`, `DepthwiseConv1D/2D` when `groups == in_channels > 1`
(`depth_multiplier` out/in), `SeparableConv1D/2D`, `Conv1D/2D/3DTranspose` (their `output_padding`,
absent passed as Keras' `None`; no `groups`). Native: 'valid', 'same' and 1-D 'causal' with zero
padding; other pads go through `keras.ops.pad`, which on TensorFlow knows only the constant, reflect
and symmetric modes, so torch's 'replicate' and 'circular' are unsupported. Transposed crops other
than 'valid' and 'same' are cut from the full output. Each backend runs in its own worker process
(KERAS_BACKEND is read once, when keras is imported); TensorFlow with oneDNN on, as the harness runs it.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, ClassVar

from ..model.schema import OPS, Conv
from ..quiet import FRAMEWORK_ENV
from .base import Adapter, kernel_first_axes, kernel_last_axes, out_of_layout, spatial_widths
from .cache import use_jax_cache
from .device import device_text, no_device
from .draws import keras_lines
from .keras_helpers import COUNT, HELPERS, NUMPY_RUN
from .program import Plan


def depthwise(conv: Conv) -> bool:
    """Keras users write DepthwiseConv1D/2D for a conv with groups == in_channels (> 1)."""
    return conv.op != "conv_transpose" and conv.rank < 3 and conv.groups == conv.in_channels > 1


class KerasAdapter(Adapter):
    """Keras 3 on TensorFlow; the subclasses are the same layers on the other backends."""

    requires: ClassVar[tuple[str, ...]] = ("keras", "tensorflow")
    ops = frozenset(OPS)
    valid_padding = "valid"
    pad_modes = frozenset({"zeros", "reflect"})  # keras.ops.pad on TensorFlow
    initialiser_rule: ClassVar[str | None] = "keras"
    backend = "tensorflow"
    engine_import = "import tensorflow as tf"
    to_tensor = "keras.ops.cast(keras.ops.convert_to_tensor({}), DTYPE)"  # NumPy in, a backend tensor in DTYPE out
    on_device = "np.asarray"  # the layer's zeros as its initialiser hands them to Keras
    gradient_lines: tuple[str, ...] = (
        "        x, g = tensor(x), tensor(g)",
        "        with tf.GradientTape() as tape:",
        "            tape.watch(x)",
        "            loss = tf.reduce_sum(forward(x) * g)",
        "        return named(tape.gradient(loss, [x, *(v.value for v in layer.trainable_variables)]))",
    )
    autodiff = "tf.GradientTape"

    def setup(self) -> None:
        os.environ["KERAS_BACKEND"] = self.backend
        self.engine = importlib.import_module(self.backend)
        import keras

        if keras.backend.backend() != self.backend:
            raise RuntimeError(f"keras was imported on {keras.backend.backend()!r} in this process; "
                               f"{self.name} needs {self.backend} (run it in its own process)")
        self.keras = keras
        kind, index = self.requested_device()
        if kind == "cuda" and not self.sees_gpu(index):
            raise no_device(f"Keras on {self.backend}", kind, index)
        self.device = f"{'gpu' if kind == 'cuda' else 'cpu'}:{index}"

    def sees_gpu(self, index: int) -> bool:
        return len(self.engine.config.list_physical_devices("GPU")) > index

    def precision(self, default: bool) -> str:
        """The backend's TF32 switch: off for precision: highest, as it ships for precision: default."""
        return f"tf.config.experimental.enable_tensor_float_32_execution({default})"

    def version(self) -> str:
        return f"keras {self.keras.__version__} ({self.backend} {self.engine.__version__})"

    def precision_flags(self) -> dict[str, str]:
        flags = {f"{self.name} precision": "TF32 off (precision: highest) or the backend's default (precision: default)",
                 f"{self.name} device": self.device}
        if self.backend == "tensorflow":
            flags["TF_ENABLE_ONEDNN_OPTS"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)")
        return flags

    def device_name(self) -> str:
        return self.device

    def placed(self, result: Any) -> str | None:
        return device_text(result)

    def dtype_name(self, result: Any) -> str:
        return str(self.keras.backend.standardize_dtype(result.dtype))

    def tf32_by_default(self) -> bool:  # every backend allows TF32 for float32 on Ampere and later GPUs
        return self.device.startswith("gpu")

    def refuse(self, conv: Conv) -> str | None:
        if conv.op == "conv_transpose" and conv.groups > 1:
            return "Keras' Conv1D/2D/3DTranspose layers have no groups argument"
        if conv.op == "separable" and conv.rank == 3:
            return "Keras has SeparableConv1D and SeparableConv2D only (no SeparableConv3D)"
        return None

    def padding_argument(self, conv: Conv) -> Any | None:
        if conv.padding == "same" or (conv.padding == "causal" and conv.rank == 1 and not depthwise(conv)
                                      and conv.op != "separable"):
            return conv.padding
        return None

    def native_crop(self, conv: Conv) -> Any | None:
        return conv.padding if conv.padding in ("valid", "same") else None

    def layer(self, conv: Conv, plan: Plan, defaults: bool = False) -> str:
        """The layer a Keras user writes for the case, starting from zeros (or with its default initialisers)."""
        kernel = "depthwise_initializer" if depthwise(conv) or conv.op == "separable" else "kernel_initializer"
        common = (f"kernel_size={conv.kernel_size}, strides={conv.stride}, padding={plan.padding!r}, "
                  f"data_format={conv.layout!r}, dilation_rate={conv.dilation}, use_bias={conv.bias}, "
                  f"dtype={conv.dtype!r}" + ("" if defaults else f", {kernel}=zeros, bias_initializer=zeros"))
        if conv.op == "conv_transpose":
            # a full output to cut takes the plan's; native crops take the case's as written: absent is Keras' None
            output_padding = plan.output_padding if plan.crop is not None else conv.output_padding
            return (f"keras.layers.Conv{conv.rank}DTranspose(filters={conv.out_channels}, "
                    f"output_padding={output_padding}, {common})")
        if conv.op == "separable":
            return (f"keras.layers.SeparableConv{conv.rank}D(filters={conv.out_channels}, "
                    f"depth_multiplier={conv.depth_multiplier}, {common}, pointwise_initializer=zeros)")
        if depthwise(conv):
            return (f"keras.layers.DepthwiseConv{conv.rank}D(depth_multiplier={conv.out_channels // conv.in_channels}, "
                    f"{common})")
        return f"keras.layers.Conv{conv.rank}D(filters={conv.out_channels}, groups={conv.groups}, {common})"

    def kernel_layout(self, conv: Conv) -> list[str]:
        """`assign(w, b)`, `named(grads)`: weights as the layer's variables (HWIO, HWOI, HW I M), and back."""
        nd = conv.rank + 2
        last, first = f".transpose{kernel_last_axes(nd)}", f".transpose{kernel_first_axes(nd)}"
        per = conv.depth_multiplier if conv.op == "separable" else conv.out_channels // max(conv.in_channels, 1)
        into_depthwise = (f"np.moveaxis({{0}}.reshape({conv.in_channels}, {per}, *{{0}}.shape[2:]), (0, 1), (-2, -1)))"
                          "  # (in*m, 1, *k) -> (*k, in, m): channel c*m + j reads input channel c")
        out_of_depthwise = f"np.moveaxis(out[1], (-2, -1), (0, 1)).reshape({conv.in_channels * per}, 1, *{conv.kernel_size})"
        separable = conv.op == "separable"
        names = ("dx", "dw", "dpw", "db") if separable else ("dx", "dw", "db")
        grads = (f"{out_of_depthwise}, out[2]{first}, *out[3:]" if separable else
                 f"{out_of_depthwise if depthwise(conv) else f'out[1]{first}'}, *out[2:]")
        kernels = ([f"    layer.depthwise_kernel.assign({into_depthwise.format('w[0]')}",
                    f"    layer.pointwise_kernel.assign(w[1]{last})  # (out, in*m, 1, ...) -> (1, ..., in*m, out)"]
                   if separable else [f"    layer.kernel.assign({into_depthwise.format('w')}" if depthwise(conv) else
                                      f"    layer.kernel.assign(w{last})  # (A, B, *k) -> (*k, B, A)"])
        return ["def assign(w, b):", f"    {self.precision(conv.precision == 'default')}  # precision: {conv.precision}",
                *kernels, "    if b is not None:", "        layer.bias.assign(b)", "", "",
                "def named(grads):", '    """The gradients in the neutral layouts."""',
                "    out = [array(value) for value in grads]",
                f"    return dict(zip({names}, [{out_of_layout(conv, 'out[0]')}, {grads}]))"]

    def built_shape(self, conv: Conv, plan: Plan) -> tuple[int, ...]:
        """The input shape the layer is built for: the case's, padded first where the plan pads."""
        spatial = [size + low + high for size, (low, high) in zip(conv.input_size, plan.pre_pad or ((0, 0),) * conv.rank)]
        last = conv.layout == "channels_last"
        return (conv.batch_size, *spatial, conv.in_channels) if last else (conv.batch_size, conv.in_channels, *spatial)

    def initialiser(self, conv: Conv, plan: Plan) -> str | None:
        kernel = "depthwise_initializer" if depthwise(conv) else "kernel_initializer"
        return keras_lines(self.layer(conv, plan, defaults=True), self.built_shape(conv, plan), kernel)

    def source(self, conv: Conv, plan: Plan) -> str:
        return self.layer_text(conv, plan, NUMPY_RUN + COUNT) + "\n\n\n" + "\n".join([
            "def gradients(x, w, b, g):", f'    """The backend\'s own autodiff ({self.autodiff})."""',
            "    with keras.device(DEVICE):", "        assign(w, b)", *self.gradient_lines]) + "\n"

    def pad_lines(self, conv: Conv, plan: Plan) -> list[str]:
        """`keras.ops.pad` before the layer where the plan emulates the padding (none where it is native)."""
        if plan.pre_pad is None:
            return []
        return [f"    x = keras.ops.pad(x, {spatial_widths(plan.pre_pad, conv.layout)}, mode={self.pad_mode(conv)!r})"]

    def forward_lines(self, pad: list[str]) -> list[str]:
        """`forward(x)`: pad, then call the layer, eagerly, as a user calling `layer(x)` does."""
        return ["def forward(x):", '    """Pad (emulated padding) and call the layer."""', *pad, "    return layer(x)"]

    def layer_text(self, conv: Conv, plan: Plan, helpers: str = COUNT) -> str:
        """The layer built for the case, `assign(w, b)` and `forward(x)`, with the fixed helpers."""
        kind, index = self.requested_device()
        last, shape = conv.layout == "channels_last", self.built_shape(conv, plan)
        forward = self.forward_lines(self.pad_lines(conv, plan))
        lines = ["import os", "", f"os.environ['KERAS_BACKEND'] = {self.backend!r}", *(f"os.environ.setdefault({k!r}, {v!r})  # as the harness runs TensorFlow"
                                            for k, v in FRAMEWORK_ENV.items() if self.backend == "tensorflow"),
                 "", "import keras",
                 "import numpy as np", self.engine_import, "", f"DEVICE = {('gpu' if kind == 'cuda' else 'cpu') + f':{index}'!r}",
                 f"DTYPE = {conv.dtype!r}"]
        into = "np.ascontiguousarray(np.moveaxis(a, 1, -1))" if last else "a"
        helpers = (HELPERS + helpers).replace("TO_TENSOR(INTO_LAYOUT(a))", self.to_tensor.format(into)).replace(
            "ON_DEVICE(", f"{self.on_device}(").replace(
            "OUT_OF_LAYOUT(array(y))", out_of_layout(conv, "array(y)"))
        return "\n".join(lines) + helpers + "\n\n" + "\n".join([
            "with keras.device(DEVICE):", f"    layer = {self.layer(conv, plan)}", f"    layer.build({shape})", "", "",
            *self.kernel_layout(conv), "", "", *forward])


class KerasJaxAdapter(KerasAdapter):
    requires = ("keras", "jax")
    backend = "jax"
    pad_modes = frozenset({"zeros", "reflect", "replicate", "circular"})
    engine_import = "import jax"
    autodiff = "jax.vjp over stateless_call, jitted"
    # converted on the host and put on the device: keras.ops.convert_to_tensor of NumPy compiles a lax.stage per shape
    to_tensor = "jax.device_put(np.asarray({}, jax.numpy.dtype(DTYPE)))"
    on_device = "jax.device_put"
    gradient_lines = (
        "        dx, dparams = backward(tensor(x), [v.value for v in layer.trainable_variables], tensor(g))",
        "        return named([dx, *dparams])  # kernel, then bias",
    )

    def forward_lines(self, pad: list[str]) -> list[str]:
        """The layer statelessly under `jax.jit`, as Keras on JAX trains it (model.fit compiles the step): one
        compile per shape for the call and one for its gradients, where eager calls compile every op."""
        return ["@jax.jit", "def call(x, variables):",
                '    """Pad (emulated padding) and call the layer statelessly on these variables (kernel, then bias)."""',
                *pad, "    return layer.stateless_call(variables, [], x)[0]", "", "",
                "def forward(x):", "    return call(x, [v.value for v in layer.trainable_variables])", "", "",
                "@jax.jit", "def backward(x, variables, g):", '    """jax.vjp of the same call, compiled once per shape."""',
                "    return jax.vjp(call, x, variables)[1](g)"]

    def setup(self) -> None:
        super().setup()
        use_jax_cache(self.engine)

    def precision(self, default: bool) -> str:
        return f"jax.config.update('jax_default_matmul_precision', {None if default else 'highest'!r})"

    def sees_gpu(self, index: int) -> bool:
        devices = self.engine.devices()
        return any(d.platform == "gpu" for d in devices) and len(devices) > index


class KerasTorchAdapter(KerasAdapter):
    requires = ("keras", "torch")
    backend = "torch"  # keras.ops.pad on torch refuses 'edge' and 'wrap' ("Unrecognised padding mode")
    engine_import = "import torch"
    autodiff = "torch.autograd"
    gradient_lines = (
        "        x, g = tensor(x).detach().requires_grad_(), tensor(g)",
        "        loss = (forward(x) * g).sum()",
        "        return named(torch.autograd.grad(loss, [x, *(v.value for v in layer.trainable_variables)]))",
    )

    def precision(self, default: bool) -> str:
        return f"torch.backends.cudnn.allow_tf32 = {default}"

    def sees_gpu(self, index: int) -> bool:
        return bool(self.engine.cuda.is_available() and self.engine.cuda.device_count() > index)
