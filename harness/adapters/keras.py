"""Keras 3 on the TensorFlow backend: a `keras.layers.Conv2D` (kernel HWIO), run eagerly.

Native: 'valid' and 'same' with zero padding. Everything else is emulated with
`keras.ops.pad` and a 'valid' layer; on TensorFlow that op knows only the constant,
reflect and symmetric modes, so torch's 'replicate' and 'circular' are unsupported.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..data import Tensors
from ..schema import Conv
from .base import Adapter, Output, Plan, Realisation, nchw


class KerasAdapter(Adapter):
    name = "keras"
    module = "keras"
    valid_padding = "valid"
    pad_modes = {"zeros": "constant", "reflect": "reflect"}

    def setup(self) -> None:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)
        import keras

        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(f"KERAS_BACKEND is {keras.backend.backend()!r}; the keras adapter runs on tensorflow")
        self.tf, self.keras = tf, keras

    def version(self) -> str:
        return f"keras {self.keras.__version__} (tensorflow {self.tf.__version__})"

    def precision_flags(self) -> dict[str, str]:
        return {
            "tf.config.experimental.tensor_float_32_execution_enabled()":
                str(self.tf.config.experimental.tensor_float_32_execution_enabled()),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset: oneDNN on)"),
        }

    def native_padding(self, conv: Conv) -> Any | None:
        if conv.padding == "valid" or (conv.padding == "same" and conv.padding_mode == "zeros"):
            return conv.padding
        return None

    def realise(self, conv: Conv, plan: Plan | None = None) -> Realisation:
        plan = plan or self.plan(conv)
        layer = self.keras.layers.Conv2D(
            filters=conv.out_channels, kernel_size=conv.kernel_size, strides=conv.stride,
            padding=plan.padding, data_format=conv.layout, dilation_rate=conv.dilation,
            groups=conv.groups, use_bias=conv.bias, dtype=conv.dtype,
        )
        (top, bottom), (left, right) = plan.pre_pad or ((0, 0), (0, 0))
        h, w = conv.input_size[0] + top + bottom, conv.input_size[1] + left + right
        shape = (conv.batch, h, w, conv.in_channels) if conv.layout == "channels_last" else (conv.batch, conv.in_channels, h, w)
        layer.build(shape)
        return _KerasRealisation(self, plan, layer, conv.layout, self.pad_modes.get(conv.padding_mode, "constant"))


class _KerasRealisation(Realisation):
    def __init__(self, adapter: KerasAdapter, plan: Any, layer: Any, layout: str, mode: str) -> None:
        self.adapter, self.plan, self.layer, self.layout, self.mode = adapter, plan, layer, layout, mode

    @property
    def param_count(self) -> int:
        return int(self.layer.count_params())

    def __call__(self, tensors: Tensors) -> Output:
        ops = self.adapter.keras.ops
        self.layer.kernel.assign(tensors.weights.transpose(2, 3, 1, 0))  # OIHW -> HWIO
        if tensors.bias is not None:
            self.layer.bias.assign(tensors.bias)
        x = tensors.input.transpose(0, 2, 3, 1) if self.layout == "channels_last" else tensors.input
        x = ops.convert_to_tensor(np.ascontiguousarray(x))
        if self.plan.pre_pad is not None:
            rows, cols = self.plan.pre_pad
            spatial = [rows, cols]
            widths = [(0, 0), *spatial, (0, 0)] if self.layout == "channels_last" else [(0, 0), (0, 0), *spatial]
            x = ops.pad(x, widths, mode=self.mode)
        y = ops.convert_to_numpy(self.layer(x))
        return Output(nchw(y, self.layout), y.dtype.name)
