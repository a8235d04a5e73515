"""PyTorch: `torch.nn` modules (`torch`) and `torch.nn.functional` calls (`torch-functional`).

Both take NCHW-style inputs and torch's weight layouts, which are the case's own. Native: valid,
'same' and symmetric pads ('full' included) for conv; valid and symmetric crops (`padding`) with
`output_padding` for conv_transpose. The modules also take every `padding_mode` natively; the
functional calls have no such argument, so other modes go through `F.pad` (emulated), as do
asymmetric pads, same_lower and causal. Transposed 'same' crops are cut from the full output
(emulated): torch has no 'same' for them. `separable` is what torch users write for Keras'
SeparableConv: a depthwise module (groups=in_channels, bias=False) then a 1x1 module in an
`nn.Sequential`, or two functional calls. `HARNESS_DEVICE` selects the device (default cpu).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..model.geometry import conv_pads
from ..model.schema import OPS, Conv
from .base import Adapter, symmetric
from .device import no_device
from .draws import torch_lines
from .program import Plan
from .torch_separable import SEPARABLE_FUNCTIONAL_PARAMETERS, SEPARABLE_GRADIENTS, SEPARABLE_MODULE_PARAMETERS

TENSOR = '''

def tensor(a):
    """NumPy -> torch on DEVICE in DTYPE (bfloat16 through float32: torch cannot read ml_dtypes; exact)."""
    a = np.ascontiguousarray(a.astype(np.float32) if a.dtype.name == "bfloat16" else a)
    return torch.from_numpy(a).to(DEVICE, DTYPE)
'''

NUMPY_RUN = '''

def numpy(y):
    """A torch result as NumPy (bfloat16 as float32, which holds it exactly)."""
    y = y.detach()
    return (y.float() if y.dtype == torch.bfloat16 else y).cpu().numpy()


def run(x, w, b):
    with torch.inference_mode():
        return call(tensor(x), *parameters(w, b))
'''

GRADIENTS = '''

def gradients(x, w, b, g):
    """torch.autograd on the same call: dL/dx, dL/dw, dL/db of L = sum(y * g)."""
    x = tensor(x).requires_grad_()
    w, b = parameters(w, b, leaves=True)
    loss = (call(x, w, b) * tensor(g)).sum()
    grads = torch.autograd.grad(loss, [x, w] if b is None else [x, w, b])
    return {name: numpy(value) for name, value in zip(("dx", "dw", "db"), grads)}
'''

MODULE_PARAMETERS = '''

def parameters(w, b, leaves=False):
    """The module's own weight and bias, set from w and b (they are the leaves autograd reaches)."""
    with torch.no_grad():
        layer.weight.copy_(tensor(w))
        if b is not None:
            layer.bias.copy_(tensor(b))
    return layer.weight, layer.bias


def parameter_count(x, w, b):
    return sum(p.numel() for p in layer.parameters())
'''

FUNCTIONAL_PARAMETERS = '''

def parameters(w, b, leaves=False):
    """Fresh tensors for w and b (leaves of autograd when asked)."""
    w, b = tensor(w), None if b is None else tensor(b)
    if leaves:
        w.requires_grad_()
        if b is not None:
            b.requires_grad_()
    return w, b


def parameter_count(x, w, b):
    return w.size + (0 if b is None else b.size)
'''

class TorchAdapter(Adapter):
    """`torch.nn.Conv{1,2,3}d` and `torch.nn.ConvTranspose{1,2,3}d` modules."""

    requires: ClassVar[tuple[str, ...]] = ("torch",)
    valid_padding = 0
    ops = frozenset(OPS)
    pad_modes = frozenset({"zeros", "reflect", "replicate", "circular"})
    pad_op_names = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
    native_pad_modes = pad_modes  # the modules' padding_mode
    initialiser_rule: ClassVar[str | None] = "torch"

    def initialiser(self, conv: Conv, plan: Plan) -> str | None:
        if self.initialiser_rule is None or conv.op == "separable":  # the functional calls hold no parameters
            return None
        return torch_lines(self.construct(conv, plan)[0])
    unbatched = True  # torch takes C x L (x H x W) inputs with no batch axis

    def setup(self) -> None:
        import torch

        self.torch = torch
        kind, index = self.requested_device()
        if kind == "cuda" and not (torch.cuda.is_available() and torch.cuda.device_count() > index):
            raise no_device(f"torch {torch.__version__}", kind, index)
        self.device = torch.device(kind, index)

    def version(self) -> str:
        return f"torch {self.torch.__version__}"

    def device_name(self) -> str:
        return str(self.device)

    def dtype_name(self, result: Any) -> str:
        return str(result.dtype).removeprefix("torch.")

    def tf32_by_default(self) -> bool:
        return bool(self.device.type == "cuda" and self.torch.cuda.get_device_capability(self.device)[0] >= 8)

    def precision_flags(self) -> dict[str, str]:
        torch = self.torch
        return {
            "torch.backends.cuda.matmul.allow_tf32": "False (torch's default since 1.12)",
            "torch.backends.cudnn.allow_tf32": "False (precision: highest), True (precision: default)",
            "torch.get_float32_matmul_precision()": "highest",
            "torch device": str(self.device),
            "torch threads": str(torch.get_num_threads()),
        }

    def padding_argument(self, conv: Conv) -> Any | None:
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

    def source(self, conv: Conv, plan: Plan) -> str:
        separable = conv.op == "separable"
        return self.module_text(conv, plan) + NUMPY_RUN + (SEPARABLE_GRADIENTS if separable else GRADIENTS)

    def module_text(self, conv: Conv, plan: Plan) -> str:
        """The module (or functional call) as `call(x, w, b)`, its `parameters`, and `tensor` for operands."""
        kind, index = self.requested_device()
        lines = ["import numpy as np", "import torch", "", f"DEVICE = torch.device({kind!r}, {index})",
                 f"DTYPE = torch.{conv.dtype}"]
        lines += self.construct(conv, plan)
        lines += ["", "", "def call(x, w, b):", '    """The convolution on torch tensors."""',
                  "    torch.backends.cuda.matmul.allow_tf32 = False",
                  f"    torch.backends.cudnn.allow_tf32 = {conv.precision == 'default'}  # precision: {conv.precision}",
                  "    torch.set_float32_matmul_precision('highest')"]
        if plan.pre_pad is not None:
            widths = [w for pair in reversed(plan.pre_pad) for w in pair]  # the last axis first
            lines.append(f"    x = torch.nn.functional.pad(x, {widths}, mode={self.pad_mode(conv)!r})")
        if conv.batch is None and self.unbatched:  # batch: none, as torch takes it: C x spatial..., no batch axis
            lines.append(f"    return {self.call(conv, plan, 'x[0]')}[None]")
        else:
            lines.append(f"    return {self.call(conv, plan, 'x')}")
        separable = conv.op == "separable"
        parameters = self.separable_parameters_text if separable else self.parameters_text
        return "\n".join(lines) + "\n" + parameters + TENSOR

    parameters_text = MODULE_PARAMETERS
    separable_parameters_text = SEPARABLE_MODULE_PARAMETERS

    def construct(self, conv: Conv, plan: Plan) -> list[str]:
        """The module, built once: separable as the two modules torch users write (depthwise, then 1x1)."""
        if conv.op == "separable":
            middle = conv.in_channels * conv.depth_multiplier
            mode = conv.padding_mode if plan.pre_pad is None else "zeros"
            return ["layer = torch.nn.Sequential(",
                    f"    torch.nn.Conv{conv.rank}d({conv.in_channels}, {middle}, {conv.kernel_size}, stride={conv.stride}, "
                    f"padding={plan.padding!r}, dilation={conv.dilation}, groups={conv.in_channels}, bias=False, "
                    f"padding_mode={mode!r}, dtype=DTYPE, device=DEVICE),  # depthwise",
                    f"    torch.nn.Conv{conv.rank}d({middle}, {conv.out_channels}, 1, bias={conv.bias}, dtype=DTYPE, "
                    "device=DEVICE),  # pointwise", ")"]
        transpose = conv.op == "conv_transpose"
        name = f"ConvTranspose{conv.rank}d" if transpose else f"Conv{conv.rank}d"
        extra = (f"output_padding={plan.output_padding}" if transpose else
                 f"padding_mode={(conv.padding_mode if plan.pre_pad is None else 'zeros')!r}")
        return [f"layer = torch.nn.{name}({conv.in_channels}, {conv.out_channels}, {conv.kernel_size}, "
                f"stride={conv.stride}, padding={plan.padding!r}, dilation={conv.dilation}, groups={conv.groups}, "
                f"bias={conv.bias}, {extra}, dtype=DTYPE, device=DEVICE)"]

    def call(self, conv: Conv, plan: Plan, x: str) -> str:
        """The call on the input expression `x`."""
        if conv.output_size is not None and plan.crop is None:  # the module's own way to pick the length
            return f"layer({x}, output_size={list(conv.output_size)})"
        return f"layer({x})"


class TorchFunctionalAdapter(TorchAdapter):
    """`torch.nn.functional.conv{1,2,3}d` and `conv_transpose{1,2,3}d`: no module, no padding_mode."""

    native_pad_modes = frozenset({"zeros"})
    initialiser_rule = None
    parameters_text = FUNCTIONAL_PARAMETERS
    separable_parameters_text = SEPARABLE_FUNCTIONAL_PARAMETERS

    def construct(self, conv: Conv, plan: Plan) -> list[str]:
        return []

    def call(self, conv: Conv, plan: Plan, x: str) -> str:
        common = f"stride={conv.stride}, padding={plan.padding!r}, dilation={conv.dilation}, groups={conv.groups}"
        function = f"torch.nn.functional.conv{conv.rank}d"
        if conv.op == "separable":  # depthwise (groups = in_channels), then the 1x1 pointwise with the bias
            depthwise = common.replace(f"groups={conv.groups}", f"groups={conv.in_channels}")
            return f"{function}({function}({x}, w[0], None, {depthwise}), w[1], b)"
        if conv.op == "conv_transpose":
            return (f"torch.nn.functional.conv_transpose{conv.rank}d({x}, w, b, {common}, "
                    f"output_padding={plan.output_padding})")
        return f"torch.nn.functional.conv{conv.rank}d({x}, w, b, {common})"
