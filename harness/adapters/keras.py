"""Keras 3 layers on the TensorFlow backend, run eagerly.

The layers a Keras user writes: `Conv1D/2D/3D`, `DepthwiseConv1D/2D` when
`groups == in_channels > 1` (its `depth_multiplier` is out/in), and `Conv1D/2D/3DTranspose`
(their `output_padding`; they have no `groups`). Native: 'valid', 'same' and 1-D 'causal'
with zero padding; other pads go through `keras.ops.pad`, which on TensorFlow knows only
the constant, reflect and symmetric modes, so torch's 'replicate' and 'circular' are
unsupported. Transposed crops other than 'valid' and 'same' are cut from the full output.
A zero `output_padding` is passed as Keras' default `None`, as a user writes it.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np

from ..cache import use_jax_cache
from ..data import Tensors
from ..schema import Conv
from .base import (
    Adapter,
    Plan,
    Realisation,
    from_layout,
    kernel_first,
    kernel_last,
    spatial_widths,
    to_layout,
)
from .device import device_text, no_device, requested_device


def depthwise(conv: Conv) -> bool:
    """Keras users write DepthwiseConv1D/2D for a conv with groups == in_channels (> 1)."""
    return conv.op != "conv_transpose" and conv.rank < 3 and conv.groups == conv.in_channels > 1


class KerasAdapter(Adapter):
    """Keras 3 on TensorFlow; `keras-jax` and `keras-torch` are the same layers on the other backends,
    each in its own worker process (KERAS_BACKEND is read once, when keras is imported)."""

    requires = ("keras", "tensorflow")
    valid_padding = "valid"
    pad_modes = {"zeros": "constant", "reflect": "reflect"}  # keras.ops.pad on TensorFlow
    backend = "tensorflow"

    def setup(self) -> None:
        os.environ["KERAS_BACKEND"] = self.backend
        self.engine = importlib.import_module(self.backend)
        if self.backend == "jax":
            use_jax_cache(self.engine)
        import keras

        if keras.backend.backend() != self.backend:
            raise RuntimeError(f"keras was imported on {keras.backend.backend()!r} in this process; "
                               f"{self.name} needs {self.backend} (run it in its own process)")
        self.keras = keras
        kind, index = requested_device()
        if kind == "cuda" and not self.sees_gpu(index):
            raise no_device(f"Keras on {self.backend}", kind, index)
        self.device = f"{'gpu' if kind == 'cuda' else 'cpu'}:{index}"
        self.set_precision("highest")

    def sees_gpu(self, index: int) -> bool:
        if self.backend == "tensorflow":
            return len(self.engine.config.list_physical_devices("GPU")) > index
        if self.backend == "jax":
            return any(d.platform == "gpu" for d in self.engine.devices()) and len(self.engine.devices()) > index
        return bool(self.engine.cuda.is_available() and self.engine.cuda.device_count() > index)

    def version(self) -> str:
        return f"keras {self.keras.__version__} ({self.backend} {self.engine.__version__})"

    def set_precision(self, precision: str) -> None:
        """highest: TF32 off; default: the backend as it ships (TF32 allowed on NVIDIA GPUs)."""
        default = precision == "default"
        if self.backend == "tensorflow":
            self.engine.config.experimental.enable_tensor_float_32_execution(default)
        elif self.backend == "jax":
            self.engine.config.update("jax_default_matmul_precision", None if default else "highest")
        else:
            self.engine.backends.cudnn.allow_tf32 = default

    def precision_flags(self) -> dict[str, str]:
        flags = {f"{self.name} precision": "TF32 off (precision: highest) or the backend's default (precision: default)",
                 f"{self.name} device": self.device}
        if self.backend == "tensorflow":
            flags["TF_ENABLE_ONEDNN_OPTS"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)")
        return flags

    def device_name(self) -> str:
        return self.device

    def tf32_by_default(self) -> bool:  # every backend allows TF32 for float32 on Ampere and later GPUs
        return self.device.startswith("gpu")

    def refuse(self, conv: Conv) -> str | None:
        if conv.op == "conv_transpose" and conv.groups > 1:
            return "Keras' Conv1D/2D/3DTranspose layers have no groups argument"
        return None

    def native_padding(self, conv: Conv) -> Any | None:
        if conv.padding == "valid":
            return "valid"
        if conv.padding_mode != "zeros":
            return None
        if conv.padding == "same" or (conv.padding == "causal" and conv.rank == 1 and not depthwise(conv)):
            return conv.padding
        return None

    def native_crop(self, conv: Conv) -> Any | None:
        return conv.padding if conv.padding in ("valid", "same") else None

    def source(self, conv: Conv, plan: Plan) -> str:
        last, nd = conv.layout == "channels_last", conv.rank + 2
        common = (f"kernel_size={conv.kernel_size}, strides={conv.stride}, padding={plan.padding!r}, "
                  f"data_format={conv.layout!r}, dilation_rate={conv.dilation}, use_bias={conv.bias}, dtype={conv.dtype!r}")
        if conv.op == "conv_transpose":
            output_padding = plan.output_padding or (conv.output_padding if any(conv.output_padding) else None)
            make = (f"keras.layers.Conv{conv.rank}DTranspose(filters={conv.out_channels}, "
                    f"output_padding={output_padding}, {common})")
        elif depthwise(conv):
            make = (f"keras.layers.DepthwiseConv{conv.rank}D(depth_multiplier={conv.out_channels // conv.in_channels}, "
                    f"{common})")
        else:
            make = f"keras.layers.Conv{conv.rank}D(filters={conv.out_channels}, groups={conv.groups}, {common})"
        spatial = list(conv.input_size)
        for a, (low, high) in enumerate(plan.pre_pad or ()):
            spatial[a] += low + high
        shape = (conv.batch, *spatial, conv.in_channels) if last else (conv.batch, conv.in_channels, *spatial)
        if depthwise(conv):
            kernel = (f"np.moveaxis(w.reshape({conv.in_channels}, {conv.out_channels // conv.in_channels}, "
                      f"*w.shape[2:]), (0, 1), (-2, -1))  # (in*m, 1, *k) -> (*k, in, m)")
        else:
            kernel = f"w.transpose({', '.join(map(str, (*range(2, nd), 1, 0)))})  # (A, B, *k) -> (*k, B, A)"
        lines = ["import os", "", f'os.environ["KERAS_BACKEND"] = {self.backend!r}', "", "import keras",
                 "import numpy as np", "", "", "def compute(x, w, b):",
                 f"    layer = {make}", f"    layer.build({shape})", f"    kernel = {kernel}",
                 "    layer.kernel.assign(kernel)",
                 "    if b is not None:", "        layer.bias.assign(b)",
                 f"    x = keras.ops.cast({'np.moveaxis(x, 1, -1)' if last else 'x'}, {conv.dtype!r})"]
        if plan.pre_pad is not None:
            lines.append(f"    x = keras.ops.pad(x, {spatial_widths(plan.pre_pad, conv.layout)}, "
                         f"mode={self.pad_modes[conv.padding_mode]!r})")
        lines += ["    y = layer(x)", "    y = keras.ops.convert_to_numpy(keras.ops.cast(y, 'float32') "
                  "if keras.backend.standardize_dtype(y.dtype) == 'bfloat16' else y)",
                  "    return np.moveaxis(y, -1, 1)" if last else "    return y"]
        return "\n".join(lines) + "\n"

    def realise(self, conv: Conv, plan: Plan) -> Realisation:
        layers = self.keras.layers
        # The case's weights are assigned before any call, so the layer starts from zeros given as NumPy
        # arrays: its random initialisers would cost a compiled op per new shape on JAX (a fifth of a pair).
        zeros = {"depthwise_initializer" if depthwise(conv) else "kernel_initializer": _zeros,
                 "bias_initializer": _zeros}
        common = dict(kernel_size=conv.kernel_size, strides=conv.stride, padding=plan.padding,
                      data_format=conv.layout, dilation_rate=conv.dilation, use_bias=conv.bias, dtype=conv.dtype,
                      **zeros)
        if conv.op == "conv_transpose":
            output_padding = plan.output_padding or (conv.output_padding if any(conv.output_padding) else None)
            layer = getattr(layers, f"Conv{conv.rank}DTranspose")(filters=conv.out_channels,
                                                                   output_padding=output_padding, **common)
        elif depthwise(conv):
            layer = getattr(layers, f"DepthwiseConv{conv.rank}D")(depth_multiplier=conv.out_channels // conv.in_channels,
                                                                 **common)
        else:
            layer = getattr(layers, f"Conv{conv.rank}D")(filters=conv.out_channels, groups=conv.groups, **common)
        spatial = list(conv.input_size)
        for a, (low, high) in enumerate(plan.pre_pad or ()):
            spatial[a] += low + high
        shape = ((conv.batch, *spatial, conv.in_channels) if conv.layout == "channels_last"
                 else (conv.batch, conv.in_channels, *spatial))
        layer.build(shape)
        return _KerasRealisation(self, plan, layer, conv)


def _zeros(shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
    """A Keras initializer: NumPy zeros (the layer's weights are set from the case before it runs)."""
    return np.zeros(shape, dtype="float32" if dtype is None or "bfloat16" in str(dtype) else str(dtype))


def keras_kernel(conv: Conv, weights: np.ndarray) -> np.ndarray:
    """The case's weights in the layer's kernel layout (HWIO, HWOI for transposed, HW I M depthwise)."""
    if depthwise(conv):
        per = conv.out_channels // conv.in_channels  # output channel c*per + m reads input channel c
        weights = weights.reshape(conv.in_channels, per, *conv.kernel_size)
        return np.ascontiguousarray(np.moveaxis(weights, (0, 1), (-2, -1)))
    return kernel_last(weights)


class _KerasRealisation(Realisation):
    def __init__(self, adapter: KerasAdapter, plan: Plan, layer: Any, conv: Conv) -> None:
        super().__init__(plan)
        self.adapter, self.layer, self.conv = adapter, layer, conv

    @property
    def param_count(self) -> int:
        return int(self.layer.count_params())

    def forward(self, x: Any, variables: list[Any] | None = None) -> Any:
        """Pad (emulated padding) and call the layer; with `variables`, statelessly (JAX's autodiff)."""
        adapter, conv = self.adapter, self.conv
        if self.plan.pre_pad is not None:
            x = adapter.keras.ops.pad(x, spatial_widths(self.plan.pre_pad, conv.layout),
                                      mode=adapter.pad_modes.get(conv.padding_mode, "constant"))
        if variables is None:
            return self.layer(x)
        y, _ = self.layer.stateless_call(variables, [], x)
        return y

    def numpy(self, value: Any) -> np.ndarray:
        ops = self.adapter.keras.ops
        bf16 = self.adapter.keras.backend.standardize_dtype(value.dtype) == "bfloat16"
        return np.asarray(ops.convert_to_numpy(ops.cast(value, "float32") if bf16 else value))

    def assign(self, tensors: Tensors) -> None:
        self.adapter.set_precision(self.conv.precision)
        self.layer.kernel.assign(keras_kernel(self.conv, tensors.weights))
        if tensors.bias is not None:
            self.layer.bias.assign(tensors.bias)

    def run(self, tensors: Tensors) -> tuple[np.ndarray, str]:
        adapter, conv = self.adapter, self.conv
        with adapter.keras.device(adapter.device):
            self.assign(tensors)
            out = self.forward(adapter.keras.ops.convert_to_tensor(to_layout(tensors.input, conv.layout)))
            dtype = adapter.keras.backend.standardize_dtype(out.dtype)  # the backend's own, before conversion
            self.placed = device_text(out)
            y = self.numpy(out)
        return from_layout(y, conv.layout), dtype

    def backward(self, tensors: Tensors, cotangent: np.ndarray) -> dict[str, np.ndarray]:
        """The backend's own autodiff: tf.GradientTape, jax.vjp over stateless_call, torch autograd."""
        adapter, conv = self.adapter, self.conv
        ops, engine = adapter.keras.ops, adapter.engine
        variables = list(self.layer.trainable_variables)  # kernel, then bias
        with adapter.keras.device(adapter.device):
            self.assign(tensors)
            x = ops.convert_to_tensor(to_layout(tensors.input, conv.layout))
            g = ops.convert_to_tensor(to_layout(cotangent, conv.layout))
            if adapter.backend == "tensorflow":
                with engine.GradientTape() as tape:
                    tape.watch(x)
                    loss = engine.reduce_sum(self.forward(x) * g)
                grads = tape.gradient(loss, [x, *(v.value for v in variables)])
            elif adapter.backend == "jax":
                _, pullback = engine.vjp(lambda a, *params: self.forward(a, list(params)), x,
                                         *(v.value for v in variables))
                grads = pullback(g)
            else:
                x = x.detach().requires_grad_()
                loss = (self.forward(x) * g).sum()
                grads = engine.autograd.grad(loss, [x, *(v.value for v in variables)])
            out = [self.numpy(value) for value in grads]
        result = {"dx": from_layout(out[0], conv.layout), "dw": neutral_weights(conv, out[1])}
        if len(out) > 2:
            result["db"] = out[2]
        return result


def neutral_weights(conv: Conv, kernel: np.ndarray) -> np.ndarray:
    """The inverse of keras_kernel: a kernel-shaped gradient back in the case's weight layout."""
    if depthwise(conv):
        per = conv.out_channels // conv.in_channels
        weights = np.moveaxis(kernel, (-2, -1), (0, 1))
        return np.ascontiguousarray(weights.reshape(conv.in_channels * per, 1, *conv.kernel_size))
    return kernel_first(kernel)


class KerasJaxAdapter(KerasAdapter):
    requires = ("keras", "jax")
    backend = "jax"
    pad_modes = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class KerasTorchAdapter(KerasAdapter):
    requires = ("keras", "torch")
    backend = "torch"  # keras.ops.pad on torch refuses 'edge' and 'wrap' ("Unrecognised padding mode")
