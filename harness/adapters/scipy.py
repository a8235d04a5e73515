"""SciPy: `scipy.signal.correlate` (conv) and `scipy.signal.convolve` (convolve, natively).

One N-D call over (channels, spatial...) per batch item and output channel, taking the entry
where the channels align; stride by slicing the output, dilation by a kernel with zeros
between its taps, groups by slicing channels. SciPy's own modes are native: 'valid', 'full', and 'same' at stride 1 (SciPy's
'same' centres the output on the full one, which for an even kernel pads more *before*:
ONNX's SAME_LOWER, not TensorFlow's SAME). Other pads and padding modes go through
`np.pad` (emulated). SciPy has no transposed convolution and no bfloat16.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..data import Tensors
from ..schema import Conv
from .base import Adapter, ArrayRealisation, Plan, Realisation


class ScipyAdapter(Adapter):
    requires = ("scipy",)
    ops = frozenset({"conv", "convolve"})
    dtypes = frozenset({"float16", "float32", "float64"})
    native_convolve = True
    valid_padding = "valid"
    pad_modes = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

    def setup(self) -> None:
        import scipy
        import scipy.signal

        self.scipy, self.signal = scipy, scipy.signal

    def version(self) -> str:
        return f"scipy {self.scipy.__version__}"

    def precision_flags(self) -> dict[str, str]:
        return {"scipy.signal method": "auto (direct or FFT, chosen per call)"}

    def native_padding(self, conv: Conv) -> Any | None:
        if conv.padding == "valid":
            return "valid"
        if conv.padding_mode != "zeros":
            return None
        if conv.padding == "full" or (conv.padding == "same" and max(conv.stride) == 1):
            return conv.padding
        return None

    def source(self, conv: Conv, plan: Plan) -> str:
        fn = "convolve" if conv.op == "convolve" else "correlate"
        per_in, per_out = conv.in_channels // max(conv.groups, 1), conv.out_channels // max(conv.groups, 1)
        aligned = {"valid": 0, "full": per_in - 1, "same": per_in // 2}[plan.padding]
        lines = ["import numpy as np", "import scipy.signal", "", "", "def compute(x, w, b):",
                 "    if x.shape[0] == 0:  # an empty batch has an empty output",
                 f"        return np.zeros((0, {conv.out_channels}, *{ops.output_spatial(conv) or ()}), x.dtype)"]
        if plan.pre_pad is not None:
            lines.append(f"    x = np.pad(x, {[(0, 0), (0, 0), *plan.pre_pad]}, mode={self.pad_modes[conv.padding_mode]!r})")
        lines += [f"    dilation = {conv.dilation}",
                  "    kernel = np.zeros(w.shape[:2] + tuple((k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)), w.dtype)",
                  "    kernel[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w  # dilated"]
        if conv.op == "convolve":
            lines.append("    kernel = kernel[:, ::-1]  # convolve flips the channel axis too: pre-flip it")
        lines += ["    out = []", "    for n in range(x.shape[0]):", "        channels = []",
                  f"        for o in range({conv.out_channels}):",
                  f"            group = slice(o // {per_out} * {per_in}, (o // {per_out} + 1) * {per_in})",
                  f"            y = scipy.signal.{fn}(x[n, group], kernel[o], mode={plan.padding!r})[{aligned}]",
                  f"            channels.append(y[{', '.join(f'::{s}' for s in conv.stride)}])",
                  "        out.append(channels)", "    y = np.array(out)",
                  f"    return y if b is None else y + b.reshape((1, -1) + (1,) * {conv.rank})"]
        return "\n".join(lines) + "\n"

    def realise(self, conv: Conv, plan: Plan) -> Realisation:
        return _ScipyRealisation(self, plan, conv)


class _ScipyRealisation(ArrayRealisation):
    def __init__(self, adapter: ScipyAdapter, plan: Plan, conv: Conv) -> None:
        super().__init__(plan)
        self.adapter, self.conv = adapter, conv

    def run(self, tensors: Tensors) -> tuple[np.ndarray, str]:
        conv, signal = self.conv, self.adapter.signal
        if conv.in_channels % conv.groups or conv.out_channels % conv.groups:  # the slicing loop needs whole groups
            raise ValueError(f"groups={conv.groups} must divide in_channels={conv.in_channels} and "
                             f"out_channels={conv.out_channels} to slice channels per group")
        emulated = {"out_channels": conv.out_channels, "stride": min(conv.stride), "dilation": min(conv.dilation)}
        for name, value in emulated.items():  # our loop, slice step and zero-filled kernel: refuse what they can't mean
            if value < 1:
                raise ValueError(f"{name} below 1: SciPy has no {name}; the harness emulates it and needs at least 1")
        fn = signal.convolve if conv.op == "convolve" else signal.correlate
        x, w = tensors.input, tensors.weights
        if self.plan.pre_pad is not None:
            mode: Any = self.adapter.pad_modes[conv.padding_mode]
            x = np.pad(x, ((0, 0), (0, 0), *self.plan.pre_pad), mode=mode)
        kernel = np.zeros((*w.shape[:2], *(((k - 1) * d + 1) for k, d in zip(conv.kernel_size, conv.dilation))),
                          dtype=w.dtype)
        kernel[(slice(None), slice(None), *(slice(None, None, d) for d in conv.dilation))] = w
        per_in, per_out = w.shape[1], conv.out_channels // conv.groups
        window = tuple(slice(None, None, s) for s in conv.stride)
        mode = self.plan.padding
        if conv.op == "convolve":  # convolve flips the channel axis too: pre-flip it so channels pair up
            kernel = kernel[:, ::-1]
        aligned = {"valid": 0, "full": per_in - 1, "same": per_in // 2}[mode]  # the channel-sum entry
        nothing = (np.zeros(x.shape[2:], x.dtype), np.zeros(kernel.shape[2:], x.dtype))  # a sum over no channel
        items = []
        for n in range(max(1, x.shape[0])):  # an empty batch: one item's shape, then none of it
            channels = []
            for o in range(conv.out_channels):
                group = slice(o // per_out * per_in, (o // per_out + 1) * per_in)
                if per_in and x.shape[0]:  # one N-D call over (channels, spatial...) per item and output channel
                    y = np.asarray(fn(x[n, group], kernel[o], mode=mode))[aligned]
                else:
                    y = np.asarray(fn(*nothing, mode=mode))
                channels.append(y[window])
            items.append(channels)
        y = np.array(items)[: x.shape[0]]
        if tensors.bias is not None:
            y = y + tensors.bias.reshape((1, -1) + (1,) * conv.rank)
        self.count(w, tensors.bias)
        return y, y.dtype.name
