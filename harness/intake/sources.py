"""What `harness model SOURCE` names -> an Extraction, read with the framework that wrote it.

SOURCE is an ONNX file (`.onnx`), a Keras model file (`.keras`, `.h5`), a torch.export
ExportedProgram (`.pt2`), or `package.module:factory` (or `path/to/file.py:factory`): a function
(or class) importable from the current folder that returns a `torch.nn.Module` or a Keras model. `--input-shape` gives a
model input's full shape in the model's own layout (N,C,H,W for torch and ONNX, Keras' own
data_format), once per input: a torch module needs it; Keras and ONNX models only where a size
is not fixed. Every fault is a BadInput naming SOURCE or the option, never a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..problems import BadInput
from .layer import Extraction

FACTORY = re.compile(r"(?P<module>[A-Za-z_][\w.]*|[^:]+\.py):(?P<name>[A-Za-z_][\w.]*)")
SUFFIXES = (".onnx", ".keras", ".h5", ".pt2")


def input_shape(text: str) -> tuple[int, ...]:
    """--input-shape 1,3,224,224 -> (1, 3, 224, 224); BadInput naming the option otherwise."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        shape = ()
    if not shape or any(size < 1 for size in shape):
        raise BadInput(f"--input-shape {text!r}: expected positive sizes separated by commas, e.g. 1,3,224,224")
    return shape


def _module(name: str) -> Any:
    """`package.module`, imported; or `path/to/file.py`, loaded from that file."""
    if not name.endswith(".py"):
        return importlib.import_module(name)
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(f"no such file {name}")
    if str(path.resolve().parent) not in sys.path:
        sys.path.insert(0, str(path.resolve().parent))  # the file imports its neighbours as it would when run
    if path.stem in sys.modules:
        raise ImportError(f"a module named {path.stem} is already loaded: name the file's package.module instead")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # torch.export and pickling look classes up by their module
    spec.loader.exec_module(module)
    return module


def _factory(source: str) -> Any:
    match = FACTORY.fullmatch(source)
    assert match is not None
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # `mypackage.models:build` from where the user stands
    try:
        found: Any = _module(match["module"])
    except Exception as exc:  # ModuleNotFoundError, or the module's own fault while importing
        raise BadInput(f"{source}: cannot import {match['module']} ({type(exc).__name__}: {exc})") from None
    for part in match["name"].split("."):
        if not hasattr(found, part):
            raise BadInput(f"{source}: {match['module']} has no {match['name']}")
        found = getattr(found, part)
    try:
        return found()
    except Exception as exc:
        raise BadInput(f"{source}: calling {match['name']}() raised {type(exc).__name__}: {exc}") from None


def _is_torch(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _framework(name: str, extra: str) -> Any:
    """The framework a source needs, or BadInput saying how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise BadInput(f"reading this model needs {name}: pip install -c constraints.txt -e '.[{extra}]'") from None


def _torch_inputs(shapes: Sequence[tuple[int, ...]], dtypes: Sequence[Any]) -> list[Any]:
    """Seeded example inputs: normal draws for floating dtypes, zeros for integer ones (indices)."""
    torch = _framework("torch", "torch")
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(shape, generator=generator).to(dtype) if dtype is None or dtype.is_floating_point
            else torch.zeros(shape, dtype=dtype) for shape, dtype in zip(shapes, dtypes, strict=True)]


def _torch_module(model: Any, source: str, shapes: Sequence[tuple[int, ...]]) -> Extraction:
    from .torch_graph import extract_module

    if not shapes:
        raise BadInput(f"{source} is a torch module: give its input's shape, e.g. --input-shape 1,3,224,224 "
                       "(once per input)")
    parameter = next(iter(model.parameters()), None)
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else None
    inputs = _torch_inputs(shapes, [dtype] * len(shapes))
    try:
        return extract_module(model, type(model).__name__, source, inputs)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _program(path: Path, shapes: Sequence[tuple[int, ...]]) -> Extraction:
    torch = _framework("torch", "torch")
    from .torch_graph import extract_program

    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise BadInput(f"{path}: torch.export.load cannot read it ({type(exc).__name__}: {exc})") from None
    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    values = [placeholders[name].meta.get("val") for name in program.graph_signature.user_inputs]
    if not shapes:
        if any(v is None or not all(isinstance(d, int) for d in v.shape) for v in values):
            raise BadInput(f"{path}: its inputs' sizes are not fixed: give --input-shape (once per input)")
        shapes = [tuple(v.shape) for v in values]
    if len(shapes) != len(values):
        raise BadInput(f"{path}: --input-shape given {len(shapes)} time(s); the program has {len(values)} input(s)")
    try:
        return extract_program(program, path.stem, str(path),
                               _torch_inputs(shapes, [getattr(v, "dtype", None) for v in values]))
    except ValueError as exc:
        raise BadInput(f"{path}: {exc} (torch.export fixes sizes unless the program was exported with "
                       "dynamic_shapes)") from None


def _keras(model: Any, source: str, shapes: Sequence[tuple[int, ...]]) -> Extraction:
    from .keras_layers import extract

    try:
        return extract(model, model.name, source, shapes)
    except ValueError as exc:  # a run on --input-shape inputs that the model refuses
        raise BadInput(f"{source}: the model does not run on --input-shape {', '.join(map(str, shapes))} ({exc})") \
            from None


def read(source: str, shapes: Sequence[tuple[int, ...]] = ()) -> Extraction:
    """The convolutions of what SOURCE names (the module docstring)."""
    path = Path(source)
    if path.suffix.lower() in SUFFIXES:
        if not path.is_file():
            raise BadInput(f"no such file: {source}")
        suffix = path.suffix.lower()
        if suffix == ".onnx":
            _framework("onnx", "onnxruntime")
            from .onnx_graph import extract as onnx_extract

            try:
                return onnx_extract(path, shapes)
            except Exception as exc:  # DecodeError, shape inference's own refusals, --input-shape count
                raise BadInput(f"{source}: {type(exc).__name__}: {exc}") from None
        if suffix == ".pt2":
            return _program(path, shapes)
        keras = _framework("keras", "keras")
        try:
            model = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise BadInput(f"{source}: keras.models.load_model cannot read it ({type(exc).__name__}: {exc})") from None
        return _keras(model, source, shapes)
    if not FACTORY.fullmatch(source):
        raise BadInput(f"{source!r}: expected a model file ({', '.join(SUFFIXES)}) or package.module:factory")
    model = _factory(source)
    if _is_torch(model):
        return _torch_module(model, source, shapes)
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Model):
        return _keras(model, source, shapes)
    raise BadInput(f"{source} returned a {type(model).__name__}: expected a torch.nn.Module or a Keras model")
