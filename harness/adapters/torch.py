"""PyTorch: `torch.nn` modules (`torch`) and `torch.nn.functional` calls (`torch-functional`).

Both take NCHW-style inputs and torch's weight layouts, which are the case's own.
Native: valid, 'same' and symmetric pads ('full' included) for conv; valid and symmetric
crops (`padding`) with `output_padding` for conv_transpose. The modules also take every
`padding_mode` natively; the functional calls have no such argument, so other modes go
through `F.pad` (emulated), as do asymmetric pads, same_lower and causal. Transposed
'same' crops are cut from the full output (emulated): torch has no 'same' for them.
`HARNESS_DEVICE` selects the device (default cpu).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..data import Tensors
from ..geometry import conv_pads
from ..schema import Conv
from .base import Adapter, ArrayRealisation, Plan, Realisation, symmetric
from .device import no_device, requested_device


class TorchAdapter(Adapter):
    """`torch.nn.Conv{1,2,3}d` and `torch.nn.ConvTranspose{1,2,3}d` modules."""

    requires = ("torch",)
    valid_padding = 0
    pad_modes = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
    functional: ClassVar[bool] = False

    def setup(self) -> None:
        import torch

        self.torch = torch
        kind, index = requested_device()
        if kind == "cuda" and not (torch.cuda.is_available() and torch.cuda.device_count() > index):
            raise no_device(f"torch {torch.__version__}", kind, index)
        self.device = torch.device(kind, index)
        self.set_precision("highest")
        self.dtypes_map = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                           "float32": torch.float32, "float64": torch.float64}

    def version(self) -> str:
        return f"torch {self.torch.__version__}"

    def set_precision(self, precision: str) -> None:
        """highest: TF32 off everywhere; default: torch's own defaults (cuDNN convolutions may use TF32)."""
        backends = self.torch.backends
        backends.cuda.matmul.allow_tf32 = False  # torch's default since 1.12 either way
        backends.cudnn.allow_tf32 = precision == "default"
        self.torch.set_float32_matmul_precision("highest")

    def device_name(self) -> str:
        return str(self.device)

    def tf32_by_default(self) -> bool:
        return bool(self.device.type == "cuda" and self.torch.cuda.get_device_capability(self.device)[0] >= 8)

    def precision_flags(self) -> dict[str, str]:
        torch = self.torch
        return {
            "torch.backends.cuda.matmul.allow_tf32": str(torch.backends.cuda.matmul.allow_tf32),
            "torch.backends.cudnn.allow_tf32": str(torch.backends.cudnn.allow_tf32),
            "torch.get_float32_matmul_precision()": torch.get_float32_matmul_precision(),
            "torch device": str(self.device),
            "torch threads": str(torch.get_num_threads()),
        }

    def native_padding(self, conv: Conv) -> Any | None:
        if conv.padding == "valid":
            return 0
        if self.functional and conv.padding_mode != "zeros":
            return None
        if conv.padding == "same":
            return "same"
        if conv.padding in ("same_lower", "causal"):
            return None
        pads = conv_pads(conv)
        return None if pads is None else symmetric(pads)

    def native_crop(self, conv: Conv) -> Any | None:
        if conv.padding == "valid":
            return 0
        return symmetric(conv.padding) if isinstance(conv.padding, tuple) else None

    def realise(self, conv: Conv, plan: Plan) -> Realisation:
        return _TorchRealisation(self, plan, conv)


    def source(self, conv: Conv, plan: Plan) -> str:
        transpose, rank = conv.op == "conv_transpose", conv.rank
        lines = ["import torch", "", "", "def compute(x, w, b):",
                 f"    torch.backends.cudnn.allow_tf32 = {conv.precision == 'default'}",
                 f"    dtype = torch.{conv.dtype}",
                 "    x, w = torch.from_numpy(x).to(dtype), torch.from_numpy(w).to(dtype)",
                 "    b = None if b is None else torch.from_numpy(b).to(dtype)"]
        if plan.pre_pad is not None:
            widths = [w for pair in reversed(plan.pre_pad) for w in pair]
            lines.append(f"    x = torch.nn.functional.pad(x, {widths}, mode={self.pad_modes[conv.padding_mode]!r})")
        common = f"stride={conv.stride}, padding={plan.padding!r}, dilation={conv.dilation}, groups={conv.groups}"
        extra = f", output_padding={plan.output_padding or conv.output_padding}" if transpose else ""
        if self.functional:
            name = f"conv_transpose{rank}d" if transpose else f"conv{rank}d"
            lines += ["    with torch.no_grad():", f"        y = torch.nn.functional.{name}(x, w, b, {common}{extra})"]
        else:
            name = f"ConvTranspose{rank}d" if transpose else f"Conv{rank}d"
            mode = "" if transpose else f", padding_mode={(conv.padding_mode if plan.pre_pad is None else 'zeros')!r}"
            lines += [f"    layer = torch.nn.{name}({conv.in_channels}, {conv.out_channels}, {conv.kernel_size}, "
                      f"{common}{extra}, bias={conv.bias}{mode}, dtype=dtype)",
                      "    with torch.no_grad():", "        layer.weight.copy_(w)", "        if b is not None:",
                      "            layer.bias.copy_(b)", "        y = layer(x)"]
        lines.append("    return (y.float() if y.dtype == torch.bfloat16 else y).numpy()")
        return "\n".join(lines) + "\n"


class TorchFunctionalAdapter(TorchAdapter):
    """`torch.nn.functional.conv{1,2,3}d` and `conv_transpose{1,2,3}d`: no module, no padding_mode."""

    functional = True


class _TorchRealisation(ArrayRealisation):
    def __init__(self, adapter: TorchAdapter, plan: Plan, conv: Conv) -> None:
        super().__init__(plan)
        self.adapter, self.conv = adapter, conv
        torch = adapter.torch
        transpose = conv.op == "conv_transpose"
        self.mode = adapter.pad_modes.get(conv.padding_mode, "constant")
        self.module = None
        if not adapter.functional:
            name = f"ConvTranspose{conv.rank}d" if transpose else f"Conv{conv.rank}d"
            extra = ({"output_padding": plan.output_padding or conv.output_padding} if transpose else
                     {"padding_mode": conv.padding_mode if plan.pre_pad is None else "zeros"})
            self.module = getattr(torch.nn, name)(
                conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=plan.padding,
                dilation=conv.dilation, groups=conv.groups, bias=conv.bias,
                dtype=adapter.dtypes_map[conv.dtype], device=adapter.device, **extra)

    @property
    def param_count(self) -> int:
        if self.module is not None:
            return sum(p.numel() for p in self.module.parameters())
        return super().param_count

    def tensor(self, array: np.ndarray) -> Any:
        torch = self.adapter.torch
        if array.dtype.name == "bfloat16":  # torch cannot read ml_dtypes; the cast is exact
            return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16).to(self.adapter.device)
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.adapter.device)

    def parameters(self, tensors: Tensors) -> tuple[Any, Any]:
        """The weight and bias the call uses: the module's own, set from the case, or fresh tensors."""
        if self.module is not None:
            with self.adapter.torch.no_grad():
                self.module.weight.copy_(self.tensor(tensors.weights))
                if tensors.bias is not None:
                    self.module.bias.copy_(self.tensor(tensors.bias))
            return self.module.weight, self.module.bias
        self.count(tensors.weights, tensors.bias)
        return self.tensor(tensors.weights), None if tensors.bias is None else self.tensor(tensors.bias)

    def call(self, x: Any, w: Any, b: Any) -> Any:
        conv, F = self.conv, self.adapter.torch.nn.functional
        if self.plan.pre_pad is not None:
            widths = [w for low_high in reversed(self.plan.pre_pad) for w in low_high]  # last axis first
            x = F.pad(x, widths, mode=self.mode)
        if self.module is not None:
            return self.module(x)
        if conv.op == "conv_transpose":
            fn = getattr(F, f"conv_transpose{conv.rank}d")
            return fn(x, w, b, stride=conv.stride, padding=self.plan.padding,
                      output_padding=self.plan.output_padding or conv.output_padding,
                      groups=conv.groups, dilation=conv.dilation)
        fn = getattr(F, f"conv{conv.rank}d")
        return fn(x, w, b, stride=conv.stride, padding=self.plan.padding, dilation=conv.dilation, groups=conv.groups)

    def numpy(self, value: Any) -> np.ndarray:
        torch = self.adapter.torch
        value = value.detach()
        return np.asarray((value.float() if value.dtype == torch.bfloat16 else value).cpu().numpy())

    def run(self, tensors: Tensors) -> tuple[np.ndarray, str]:
        torch = self.adapter.torch
        self.adapter.set_precision(self.conv.precision)
        with torch.inference_mode():
            y = self.call(self.tensor(tensors.input), *self.parameters(tensors))
        return self.numpy(y), str(y.dtype).removeprefix("torch.")

    def backward(self, tensors: Tensors, cotangent: np.ndarray) -> dict[str, np.ndarray]:
        torch = self.adapter.torch
        self.adapter.set_precision(self.conv.precision)
        with torch.enable_grad():
            x = self.tensor(tensors.input).requires_grad_()
            w, b = self.parameters(tensors)
            if self.module is None:
                w.requires_grad_()
                if b is not None:
                    b.requires_grad_()
            loss = (self.call(x, w, b) * self.tensor(cotangent)).sum()
            leaves = [x, w] if b is None else [x, w, b]
            grads = torch.autograd.grad(loss, leaves)
        return {name: self.numpy(g) for name, g in zip(("dx", "dw", "db"), grads)}
