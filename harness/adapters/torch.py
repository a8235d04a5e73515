"""PyTorch: a `torch.nn.Conv2d` module whose parameters are set from the case (NCHW, OIHW).

Native: valid (`padding=0`), `'same'`, and symmetric pads, with the module's own
`padding_mode`. Emulated: asymmetric pads and same_lower, by `F.pad` then a valid
convolution, which is how Keras' torch backend realises asymmetric 'same' too.
`HARNESS_DEVICE` selects the device (default cpu).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..data import Tensors
from ..schema import Conv
from .base import Adapter, Output, Plan, Realisation, nchw


class TorchAdapter(Adapter):
    name = "torch"
    module = "torch"
    valid_padding = 0
    pad_modes = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}

    def setup(self) -> None:
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
        self.torch = torch
        self.device = torch.device(os.environ.get("HARNESS_DEVICE", "cpu"))
        self.dtypes = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                       "float32": torch.float32, "float64": torch.float64}

    def version(self) -> str:
        return f"torch {self.torch.__version__}"

    def precision_flags(self) -> dict[str, str]:
        torch = self.torch
        return {
            "torch.backends.cuda.matmul.allow_tf32": str(torch.backends.cuda.matmul.allow_tf32),
            "torch.backends.cudnn.allow_tf32": str(torch.backends.cudnn.allow_tf32),
            "torch.get_float32_matmul_precision()": torch.get_float32_matmul_precision(),
            "torch device": str(self.device),
        }

    def native_padding(self, conv: Conv) -> Any | None:
        if conv.padding in ("valid", "same"):
            return 0 if conv.padding == "valid" else "same"
        if isinstance(conv.padding, tuple) and all(low == high for low, high in conv.padding):
            return (conv.padding[0][0], conv.padding[1][0])
        return None

    def realise(self, conv: Conv, plan: Plan | None = None) -> Realisation:
        plan = plan or self.plan(conv)
        module = self.torch.nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
            padding=plan.padding, dilation=conv.dilation, groups=conv.groups, bias=conv.bias,
            padding_mode=conv.padding_mode if plan.realization == "native" else "zeros",
            dtype=self.dtypes[conv.dtype], device=self.device,
        )
        return _TorchRealisation(self, plan, module, self.pad_modes[conv.padding_mode])


class _TorchRealisation(Realisation):
    def __init__(self, adapter: TorchAdapter, plan: Any, module: Any, mode: str) -> None:
        self.adapter, self.plan, self.module, self.mode = adapter, plan, module, mode

    @property
    def param_count(self) -> int:
        return sum(p.numel() for p in self.module.parameters())

    def tensor(self, array: np.ndarray) -> Any:
        torch = self.adapter.torch
        if array.dtype.name == "bfloat16":  # torch cannot read ml_dtypes; the cast is exact
            return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16).to(self.adapter.device)
        return torch.from_numpy(array).to(self.adapter.device)

    def __call__(self, tensors: Tensors) -> Output:
        torch = self.adapter.torch
        with torch.no_grad():
            self.module.weight.copy_(self.tensor(tensors.weights))
            if tensors.bias is not None:
                self.module.bias.copy_(self.tensor(tensors.bias))
        with torch.inference_mode():
            x = self.tensor(tensors.input)
            if self.plan.pre_pad is not None:
                (top, bottom), (left, right) = self.plan.pre_pad
                x = torch.nn.functional.pad(x, (left, right, top, bottom), mode=self.mode)
            y = self.module(x)
        dtype = str(y.dtype).removeprefix("torch.")
        values = y.float() if y.dtype == torch.bfloat16 else y
        return Output(nchw(values.cpu().numpy(), "channels_first"), dtype)
