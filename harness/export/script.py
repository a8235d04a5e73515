"""Standalone code for a case in one framework: repro scripts and porting snippets.

`program` is the code a user runs: the adapter's program (adapters/program.py), the very text
the worker executed, under a docstring that describes the case. A repro script is that program plus a
`main()` that loads `data.npz`, compares with the stored reference and bound, prints the largest
difference and exits 1 when out of bound. `port` prints the program for a plan that computes
the reference's own semantics. A route gets a second script, its runtime alone on the artifact the first
one saves (`route_scripts`). The tests execute exactly these texts, so a hint cannot be wrong.
"""

from __future__ import annotations

from typing import Any

from ..adapters.base import Adapter
from ..adapters.program import Plan
from ..adapters.route import Route
from ..judge.judge import describe
from ..model.schema import Conv
from .init_recipe import recipe

MAIN = '''

def compared(name, y, reference, bound):
    """Print how far y is from the reference; the largest |y - reference| / bound (inf: wrong shape)."""
    y = None if y is None else np.asarray(y, dtype=np.float64)
    if y is None or y.shape != reference.shape:
        print(f"{name}: shape {None if y is None else y.shape}, reference {reference.shape}: OUT OF BOUND")
        return float("inf")
    diff = np.abs(y - reference)
    ratio = float(np.max(np.where(diff == 0, 0.0, diff / bound))) if diff.size else 0.0
    worst = float(diff.max()) if diff.size else 0.0
    print(f"{name}: largest |y - reference| {worst:.6g}; largest |y - reference| / bound {ratio:.6g}"
          + (" (within the bound)" if ratio <= 1 else " (OUT OF BOUND)"))
    return ratio if ratio == ratio else float("inf")  # a NaN is out of bound (max() would drop it)


def main() -> int:
    """Exit 1 when the output or a gradient is out of bound, or an output exists where none should."""
    from pathlib import Path

    data = np.load(Path(__file__).with_name("data.npz"))
    x, w = data["input"], data["weights"]
    w = (w, data["pointwise"]) if "pointwise" in data.files else w  # separable: (depthwise, pointwise)
    b = data["bias"] if "bias" in data.files else None
    if "reference" not in data.files:  # a configuration with no output: refusing it is right
        try:
            y = convolution(x, w, b)
        except Exception as exc:
            print(f"refused ({type(exc).__name__}: {exc}), as it should: this configuration has no output")
            return 0
        print(f"returned an output of shape {np.shape(y)} for a configuration that has none: OUT OF BOUND")
        return 1
    worst = compared("output", convolution(x, w, b), data["reference"], data["bound"])
    if "cotangent" in data.files and "convolution_gradients" in globals():
        grads = convolution_gradients(x, w, b, data["cotangent"])
        for name in ("dx", "dw", "dpw", "db"):
            if f"reference_{name}" in data.files:
                worst = max(worst, compared(name, grads.get(name), data[f"reference_{name}"], data[f"bound_{name}"]))
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
'''


# A script named after its framework (torch.py) would import itself: drop its folder from the path first.
NOT_ITSELF = ('import os\nimport sys\n'
              'sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != '
              'os.path.dirname(os.path.abspath(__file__))]  # import the framework, not this file\n')


def program(conv: Conv, adapter: Adapter, plan: Plan, title: str, prelude: str = "") -> str:
    """`convolution(x, w, b)` for this case in this framework: a docstring, then the adapter's program
    exactly as the worker runs it (`Adapter.program`)."""
    head = [f'"""{title}', "", describe(conv), '"""', prelude]
    return "\n".join(head) + adapter.program(conv, plan)


def repro_script(conv: Conv, adapter: Adapter, plan: Plan, version: str) -> str:
    title = (f"Repro of {conv.id} in {adapter.name} ({version}), as conv-harness called it "
             f"({plan.realization}). Needs only {', '.join(adapter.requires)} and NumPy: python {adapter.name}.py")
    return program(conv, adapter, plan, title, NOT_ITSELF) + MAIN


SAVE_ARTIFACT = '''

_convert = convert


def convert(x, w, b):
    """The converter's artifact, also saved beside this script as ARTIFACT_FILE for ARTIFACT_SCRIPT."""
    from pathlib import Path

    artifact = _convert(x, w, b)
    Path(__file__).with_name(ARTIFACT).write_bytes(artifact)
    return artifact
'''


def route_scripts(conv: Conv, adapter: Route, plan: Plan, version: str) -> dict[str, str]:
    """A route's two scripts: the whole route (saving its artifact as it converts), and the runtime alone
    on that artifact, which needs only the runtime and NumPy: what an upstream report attaches."""
    artifact, runtime = adapter.artifact_name(), f"{adapter.name}-artifact.py"
    save = SAVE_ARTIFACT.replace("ARTIFACT_FILE", artifact).replace("ARTIFACT_SCRIPT", runtime)
    whole = repro_script(conv, adapter, plan, version).replace(MAIN, f"\n\nARTIFACT = {artifact!r}" + save + MAIN)
    title = (f"Repro of {conv.id} in {adapter.name}'s runtime alone, on the artifact {artifact} that "
             f"python {adapter.name}.py writes ({version}). Needs only the runtime and NumPy: python {runtime}")
    alone = "\n".join([f'"""{title}', "", describe(conv), '"""', NOT_ITSELF]) + adapter.artifact_program(conv, plan)
    return {f"{adapter.name}.py": whole, runtime: alone + MAIN}


def port_program(conv: Conv, adapter: Adapter, init_from: str = "torch") -> str:
    """The faithful program, then the initialisers that give the layer `init_from`'s defaults."""
    title = (f"{conv.id} in {adapter.name}: computes the reference result (explicit pads or crops, the case's "
             "weights in the framework's layout).")
    return program(conv, adapter, adapter.faithful_plan(conv), title) + recipe(conv, adapter, init_from)


def load(text: str, path: str = "<program>") -> Any:
    """Run a program's text as the file `path` and return its `convolution` function (the tests call this)."""
    namespace: dict[str, Any] = {"__name__": "harness_program", "__file__": path}
    exec(compile(text, path, "exec"), namespace)
    return namespace["convolution"]
