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

from ..model.schema import Conv
from .base import Adapter
from .program import Plan


class ScipyAdapter(Adapter):
    requires = ("scipy",)
    ops = frozenset({"conv", "convolve"})
    dtypes = frozenset({"float16", "float32", "float64"})
    native_convolve = True
    valid_padding = "valid"
    pad_modes = frozenset({"zeros", "reflect", "replicate", "circular"})
    differentiates = False

    def setup(self) -> None:
        import scipy
        import scipy.signal

        self.scipy, self.signal = scipy, scipy.signal

    def version(self) -> str:
        return f"scipy {self.scipy.__version__}"

    def precision_flags(self) -> dict[str, str]:
        return {"scipy.signal method": "auto (direct or FFT, chosen per call)"}

    def padding_argument(self, conv: Conv) -> Any | None:
        if conv.padding == "full" or (conv.padding == "same" and max(conv.stride) == 1):
            return conv.padding
        return None

    def source(self, conv: Conv, plan: Plan) -> str:
        fn = "convolve" if conv.op == "convolve" else "correlate"
        lines = ["import numpy as np", "import scipy.signal", "", "METHODS = set()  # what scipy.signal chose in the last call",
                 "", "", "def numpy(y):", "    return y", "", "",
                 "def parameter_count(x, w, b):", "    return w.size + (0 if b is None else b.size)", "", "",
                 "def arithmetic():", '    """fft when scipy.signal took its FFT method for part of the last call."""',
                 "    return 'fft' if 'fft' in METHODS else None", "", "",
                 "def run(x, w, b):", "    METHODS.clear()"]
        emulated = {"out_channels": conv.out_channels, "stride": min(conv.stride), "dilation": min(conv.dilation)}
        if conv.in_channels % conv.groups or conv.out_channels % conv.groups:  # the loop needs whole groups
            return "\n".join([*lines, f"    raise ValueError('groups={conv.groups} must divide in_channels="
                              f"{conv.in_channels} and out_channels={conv.out_channels} to slice channels per group')"]) + "\n"
        for name, value in emulated.items():  # our loop, slice step and zero-filled kernel: refuse what they can't mean
            if value < 1:
                return "\n".join([*lines, f"    raise ValueError('{name} below 1: SciPy has no {name}; the harness "
                                  "emulates it and needs at least 1')"]) + "\n"
        per_in, per_out = conv.in_channels // conv.groups, conv.out_channels // conv.groups
        aligned = {"valid": 0, "full": per_in - 1, "same": per_in // 2}[plan.padding]  # the channel-sum entry
        if plan.pre_pad is not None:
            lines.append(f"    x = np.pad(x, {[(0, 0), (0, 0), *plan.pre_pad]}, mode={self.pad_mode(conv)!r})")
        lines += [f"    dilation = {conv.dilation}",
                  "    kernel = np.zeros(w.shape[:2] + tuple((k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)), w.dtype)",
                  "    kernel[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w  # dilated"]
        if conv.op == "convolve":
            lines.append("    kernel = kernel[:, ::-1]  # convolve flips the channel axis too: pre-flip it so channels pair up")
        lines += ["    nothing = (np.zeros(x.shape[2:], x.dtype), np.zeros(kernel.shape[2:], x.dtype))  # a sum over no channel",
                  "    items = []", "    for n in range(max(1, x.shape[0])):  # an empty batch: one item's shape, then none of it",
                  "        channels = []", f"        for o in range({conv.out_channels}):",
                  f"            group = slice(o // {per_out} * {per_in}, (o // {per_out} + 1) * {per_in})",
                  "            if x.shape[0] and x.shape[1]:  # one N-D call over (channels, spatial...) per item and channel",
                  f"                method = scipy.signal.choose_conv_method(x[n, group], kernel[o], mode={plan.padding!r})"
                  "  # as method='auto' would",
                  "                METHODS.add(method)",
                  f"                y = np.asarray(scipy.signal.{fn}(x[n, group], kernel[o], mode={plan.padding!r}, "
                  f"method=method))[{aligned}]",
                  "            else:", f"                y = np.asarray(scipy.signal.{fn}(*nothing, mode={plan.padding!r}))",
                  f"            channels.append(y[{', '.join(f'::{s}' for s in conv.stride)}])  # the stride",
                  "        items.append(channels)", "    y = np.array(items)[: x.shape[0]]",
                  f"    return y if b is None else y + b.reshape((1, -1) + (1,) * {conv.rank})"]
        return "\n".join(lines) + "\n"
