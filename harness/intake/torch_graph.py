"""torch: every convolution a model's forward computes, from its `torch.export` graph.

An `nn.Conv*` module and an `F.conv*` call in some `forward` both become one ATen convolution
node, so both count. The graph is run once (torch.fx's Interpreter, in eval mode) to read each
node's real weight and bias tensors, whether they are parameters or computed (weight norm and
other parametrisations). A `F.pad` feeding a convolution is folded into it: that is how
`nn.Conv*(padding_mode='reflect')` computes, and a converter that turns the reflect into zeros
is a bug worth finding. A node is named by the convolution module that made it (`features.3.conv`);
a functional call by its module and the op (`block.conv2d`). Convolutions inside higher-order ops
(a `torch.no_grad()` or autocast region) are inlined first; they lose their module path. torch stores kernels as the case
model does.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .layer import Extraction, Layer, Unexpressed, per_axis

_CONVOLUTIONS = {"aten::conv1d", "aten::conv2d", "aten::conv3d", "aten::conv_transpose1d", "aten::conv_transpose2d",
                 "aten::conv_transpose3d", "aten::convolution", "aten::_convolution"}
# F.pad's modes (and the ops it becomes) as the case model's padding_mode
_PAD_MODES = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
_PAD_OPS = {"aten::constant_pad_nd": "zeros", "aten::reflection_pad1d": "reflect", "aten::reflection_pad2d": "reflect",
            "aten::reflection_pad3d": "reflect", "aten::replication_pad1d": "replicate",
            "aten::replication_pad2d": "replicate", "aten::replication_pad3d": "replicate",
            "aten::_pad_circular": "circular"}


def _op_name(node: Any) -> str | None:
    schema = getattr(node.target, "_schema", None)
    return schema.name if schema is not None else None


def _arguments(node: Any, args: Sequence[Any] | None = None, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The call's arguments by name, defaults filled in (the graph's nodes, or their values while it runs)."""
    from torch.fx.operator_schemas import normalize_function

    pair = normalize_function(node.target, tuple(node.args if args is None else args),
                              dict(node.kwargs if kwargs is None else kwargs), normalize_to_only_use_kwargs=True)
    assert pair is not None  # an ATen overload always has a schema
    return dict(pair.kwargs)


def _module_of(node: Any) -> tuple[str, bool]:
    """(the path of the innermost module that made the node, whether that module is a torch convolution
    module, nn.Conv2d or a subclass of one); the model itself has the path ''."""
    import torch

    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "", False
    path, kind = list(stack.values())[-1]
    if isinstance(kind, str):  # "torch.nn.modules.conv.Conv2d", "mypackage.blocks.MyConv"
        module, _, name = kind.rpartition(".")
        kind = getattr(sys.modules.get(module), name, None)
    return str(path), isinstance(kind, type) and issubclass(kind, torch.nn.modules.conv._ConvNd)


def _class_name(node: Any) -> str:
    kind = list(node.meta["nn_module_stack"].values())[-1][1]
    return (kind if isinstance(kind, str) else kind.__name__).rsplit(".", 1)[-1]


def _pad_before(node: Any) -> tuple[Any, str, list[int]] | None:
    """The pad node feeding this input, its mode and its amounts (torch order: last axis first), if any."""
    source = node
    name = _op_name(source) if getattr(source, "op", None) == "call_function" else None
    if name == "aten::pad":
        arguments = _arguments(source)
        mode = _PAD_MODES.get(arguments.get("mode", "constant"))
        if mode is None or (mode == "zeros" and arguments.get("value") not in (None, 0, 0.0)):
            return None
        return source.args[0], mode, list(arguments["pad"])
    if name in _PAD_OPS:
        arguments = _arguments(source)
        if name == "aten::constant_pad_nd" and arguments.get("value", 0) != 0:
            return None
        return source.args[0], _PAD_OPS[name], list(arguments["pad"] if "pad" in arguments else arguments["padding"])
    return None


def _fold(conv_input: Any, padding: Any, rank: int) -> tuple[Any, str, Any]:
    """(the node the case reads, padding_mode, padding): a pad before the convolution folded in where the
    two together are one case (non-negative amounts on the spatial axes, and a non-zero mode only
    before an unpadded convolution)."""
    found = _pad_before(conv_input)
    if found is None:
        return conv_input, "zeros", padding
    source, mode, amounts = found
    if len(amounts) != 2 * rank or any(a < 0 for a in amounts) or isinstance(padding, str):
        return conv_input, "zeros", padding
    pairs = [[amounts[2 * (rank - 1 - i)], amounts[2 * (rank - 1 - i) + 1]] for i in range(rank)]
    if mode != "zeros":
        if any(padding):
            return conv_input, "zeros", padding
        return source, mode, pairs
    return source, "zeros", [[lo + p, hi + p] for (lo, hi), p in zip(pairs, padding, strict=True)]


def _fields(node: Any, rank: int, weights: np.ndarray) -> dict[str, Any]:
    arguments = _arguments(node)
    name = _op_name(node) or ""
    transposed = "transpose" in name or bool(arguments.get("transposed", False))
    groups = int(arguments.get("groups", 1))
    padding: Any = arguments.get("padding", 0)
    padding = padding if isinstance(padding, str) else per_axis(padding, rank)
    conv_input = arguments["input"]
    source, mode, padding = _fold(conv_input, padding, rank) if not transposed else (conv_input, "zeros", padding)
    shape = tuple(source.meta["val"].shape)
    batched = len(shape) == rank + 2
    channels, size = (shape[1], shape[2:]) if batched else (shape[0], shape[1:])
    out = weights.shape[1] * groups if transposed else weights.shape[0]
    fields: dict[str, Any] = {
        "op": "conv_transpose" if transposed else "conv", "batch": int(shape[0]) if batched else "none",
        "in_channels": int(channels), "input_size": [int(s) for s in size], "out_channels": int(out),
        "kernel_size": [int(k) for k in weights.shape[2:]], "stride": per_axis(arguments.get("stride", 1), rank),
        "dilation": per_axis(arguments.get("dilation", 1), rank), "groups": groups,
        "dtype": str(node.meta["val"].dtype).removeprefix("torch.")}
    if isinstance(padding, str):
        fields["padding"] = padding
    else:
        fields["padding"] = [p if isinstance(p, list) else [p, p] for p in padding]
    if mode != "zeros":
        fields["padding_mode"] = mode
    if transposed:
        fields["output_padding"] = per_axis(arguments.get("output_padding", 0), rank)
    return fields


def _numpy(tensor: Any) -> np.ndarray:
    import torch

    tensor = tensor.detach().cpu()
    array: np.ndarray = (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy().copy()
    return array  # npz has no bfloat16: float32 holds it exactly


def _captured(module: Any, nodes: set[Any], inputs: Sequence[Any]) -> dict[Any, tuple[Any, Any]]:
    """Each convolution node's (weight, bias) tensors as one forward pass computes them."""
    import torch
    from torch.fx import Interpreter

    seen: dict[Any, tuple[Any, Any]] = {}

    class Capture(Interpreter):  # type: ignore[misc]
        def run_node(self, n: Any) -> Any:
            if n in nodes:
                arguments = _arguments(n, *self.fetch_args_kwargs_from_env(n))
                seen[n] = (arguments["weight"], arguments.get("bias"))
            return super().run_node(n)

    with torch.no_grad():
        try:
            Capture(module).run(*inputs)
        except Exception as exc:  # a program exported for other sizes: its guards say which
            text = str(exc).strip().splitlines()
            raise ValueError(f"running the program on inputs of shape {', '.join(str(tuple(i.shape)) for i in inputs)}"
                             f" failed: {type(exc).__name__}: {text[0] if text else ''}") from None
    return seen


def extract_program(program: Any, name: str, source: str, inputs: Sequence[Any]) -> Extraction:
    """Every convolution node of an ExportedProgram, run once on `inputs` to read its weights."""
    import torch

    if any(isinstance(n.target, torch._ops.HigherOrderOperator) for n in program.graph.nodes):
        program = program.run_decompositions({})  # no_grad, autocast regions: their convolutions inlined
    module = program.module()
    extraction = Extraction(model=name, source=source)
    convs = [n for n in module.graph.nodes if n.op == "call_function" and _op_name(n) in _CONVOLUTIONS]
    weights = _captured(module, set(convs), inputs)
    counts: dict[str, int] = {}
    for node in module.graph.nodes:
        op = _op_name(node) if node.op == "call_function" else None
        if op is None or (op not in _CONVOLUTIONS and "conv" not in op):
            continue
        path, is_module = _module_of(node)
        functional = not is_module
        label = (f"{path}.{op.split('::')[1]}" if path else op.split("::")[1]) if functional else path
        counts[label] = counts.get(label, 0) + 1
        label = label if counts[label] == 1 else f"{label}_{counts[label] - 1}"
        kind = f"F.{op.split('::')[1]}" if functional else f"nn.{_class_name(node)}"
        if op not in _CONVOLUTIONS:
            extraction.unexpressed.append(Unexpressed(label, op, f"{op} is not a float convolution the harness "
                                                      "models (quantised, or a backend's own kernel)"))
            continue
        weight, bias = weights[node]
        kernel = _numpy(weight)
        rank = kernel.ndim - 2
        fields = _fields(node, rank, kernel)
        fields["bias"] = bias is not None
        arrays = {"weights": kernel, **({"bias": _numpy(bias)} if bias is not None else {})}
        extraction.layers.append(Layer(name=label, kind=kind, fields=fields, arrays=arrays))
    return extraction


def extract_module(model: Any, name: str, source: str, inputs: Sequence[Any]) -> Extraction:
    """A torch.nn.Module, exported (eval mode) with these example inputs."""
    import torch

    model.eval()
    try:
        program = torch.export.export(model, tuple(inputs))
    except Exception as exc:  # torch.export's many refusals: the user needs its message, not our traceback
        raise ValueError(f"torch.export could not trace {name}: {type(exc).__name__}: "
                         f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from None
    return extract_program(program, name, source, inputs)
