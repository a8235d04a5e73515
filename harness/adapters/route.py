"""What the conversion routes share (docs/routes.md): a program in two parts and the stage it reached.

A route's program is its converter part, `convert(x, w, b)` (build the source model with the case's
weights, convert it, return the artifact's bytes: an `.onnx` or `.tflite` file), then its runtime part,
`execute(artifact, x)` (run the artifact in the target runtime) and `numpy(y)`. `run(x, w, b)` is the
one call through both, as the framework adapters' is. Each part appends the stage it enters to
`STAGES` (build, convert, run), so a failure names where it happened (`stage()`). The runtime part
imports only the runtime: with the artifact beside it, it is the repro script an upstream report needs
(`artifact_program`). The worker memoises `convert` per configuration and weights (artifacts.py):
a conversion costs up to a second, a run a millisecond.
"""

from __future__ import annotations

from typing import ClassVar

from ..model.schema import Conv
from .artifacts import tree_fingerprint
from .base import Adapter
from .program import Plan, wrap

STAGES = '''

STAGES = []  # the stages the last call entered: build, convert, run


def stage():
    """The stage the last call reached (where it failed, if it did)."""
    return STAGES[-1] if STAGES else None
'''

RUN = '''

def run(x, w, b):
    """The whole route: the source model with w and b converted, then run on x."""
    STAGES.clear()
    return execute(convert(x, w, b), x)
'''

ARTIFACT_RUN = '''

def run(x, w, b):
    """The saved artifact (its weights are inside it: w and b go unused) in the runtime."""
    from pathlib import Path

    return execute(Path(__file__).with_name(ARTIFACT).read_bytes(), x)
'''

ONNXRUNTIME = '''

import numpy as np
import onnxruntime

TYPES = {"tensor(float16)": np.float16, "tensor(float)": np.float32, "tensor(double)": np.float64}


def execute(artifact, x):
    """The ONNX model in ONNX Runtime's CPU execution provider; x in the model's input dtype."""
    STAGES.append("run")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # errors come back as exceptions
    session = onnxruntime.InferenceSession(artifact, options, providers=["CPUExecutionProvider"])
    given = session.get_inputs()[0]
    return session.run(None, {given.name: x.astype(TYPES.get(given.type, x.dtype))})[0]


def numpy(y):
    return y
'''


def litert(channels_last: bool) -> str:
    """The runtime part of a .tflite route: the LiteRT interpreter, fed in the model's layout."""
    into, out = ("np.ascontiguousarray(np.moveaxis(x, 1, -1))", "np.moveaxis(y, -1, 1)") if channels_last else ("x", "y")
    layout = "channels-last: N spatial... C" if channels_last else "channels-first, as the case"
    return f'''

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def execute(artifact, x):
    """The .tflite model in the LiteRT interpreter; x in the model's layout ({layout}), in its input dtype."""
    STAGES.append("run")
    interpreter = Interpreter(model_content=artifact)
    interpreter.allocate_tensors()
    given = interpreter.get_input_details()[0]
    interpreter.set_tensor(given["index"], {into}.astype(given["dtype"]))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def numpy(y):
    """Back to N C spatial..."""
    return {out}
'''


class Route(Adapter):
    """A mixin before a framework adapter's class, whose planning (native forms, pad modes) it keeps."""

    differentiates = False  # a converted model is run, never differentiated
    artifact_suffix: ClassVar[str]  # .onnx, .tflite
    converts_with: ClassVar[tuple[str, ...]]  # the modules whose code makes the artifact (the cache's key)

    def converter_text(self, conv: Conv, plan: Plan) -> str:
        """Text defining `convert(x, w, b) -> bytes`, its imports and helpers (stages build, convert)."""
        raise NotImplementedError

    def runtime_text(self, conv: Conv, plan: Plan) -> str:
        """Text defining `execute(artifact, x)` (stage run) and `numpy(y)`, importing only the runtime."""
        raise NotImplementedError

    def requested_device(self) -> tuple[str, int]:
        """A route converts and runs on the CPU whatever HARNESS_DEVICE says (its runtimes' CPU providers)."""
        return "cpu", 0

    def source(self, conv: Conv, plan: Plan) -> str:
        return self.converter_text(conv, plan) + STAGES + self.runtime_text(conv, plan) + RUN

    def artifact_name(self) -> str:
        return f"{self.name}{self.artifact_suffix}"

    def artifact_program(self, conv: Conv, plan: Plan) -> str:
        """The runtime part alone, reading the artifact saved beside it (a repro bundle's `NAME-artifact.py`)."""
        head = f"ARTIFACT = {self.artifact_name()!r}  # written by {self.name}.py, beside this script\n"
        return wrap(conv, plan, head + STAGES + self.runtime_text(conv, plan) + ARTIFACT_RUN, differentiates=False)

    def fingerprint(self) -> str:
        """What an artifact depends on besides the program and operands: the versions and the converters'
        code as installed (a patched converter must not be served a stale artifact)."""
        return self.version() + tree_fingerprint(self.converts_with)
