"""Standalone code for a case in one framework: repro scripts and porting snippets, one template.

`program` is the code a user runs: the adapter's `compute(x, w, b)` (its framework's public API,
see `Adapter.source`) wrapped in `convolution(x, w, b)`, which adds the kernel flip and the
transposed crops the harness applies around the call. A repro script is that program plus a
`main()` that loads `data.npz`, compares with the stored reference and bound, prints the largest
difference and exits 1 when out of bound. `port` prints the program for a plan that computes
the reference's own semantics. The tests execute exactly these texts, so a hint cannot be wrong.
"""

from __future__ import annotations

from typing import Any

from .adapters.base import Adapter, Plan
from .compare import describe
from .schema import Conv

MAIN = '''

def main() -> int:
    from pathlib import Path

    data = np.load(Path(__file__).with_name("data.npz"))
    x, w = data["input"], data["weights"]
    b = data["bias"] if "bias" in data.files else None
    y = np.asarray(convolution(x, w, b), dtype=np.float64)
    reference, bound = data["reference"], data["bound"]
    if y.shape != reference.shape:
        print(f"output shape {y.shape}, reference {reference.shape}: out of bound")
        return 1
    diff = np.abs(y - reference)
    ratio = float(np.max(np.where(diff == 0, 0.0, diff / bound))) if diff.size else 0.0
    worst = float(diff.max()) if diff.size else 0.0
    print(f"largest |y - reference| {worst:.6g}; largest |y - reference| / bound {ratio:.6g}"
          + (" (within the bound)" if ratio <= 1 else " (OUT OF BOUND)"))
    return 0 if ratio <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
'''


# A script named after its framework (torch.py) would import itself: drop its folder from the path first.
NOT_ITSELF = ('import os\nimport sys\n'
              'sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != '
              'os.path.dirname(os.path.abspath(__file__))]  # import the framework, not this file\n')


def program(conv: Conv, adapter: Adapter, plan: Plan, title: str, prelude: str = "") -> str:
    """`convolution(x, w, b)` for this case in this framework, with everything it needs."""
    wrap = ["", "", "def convolution(x, w, b):",
            '    """x: N C spatial..., w: ' + ("(in, out/groups, *kernel)" if conv.op == "conv_transpose"
                                              else "(out, in/groups, *kernel)")
            + ", b: (out,) or None; returns N C spatial...\"\"\""]
    if plan.flip:
        wrap.append("    w = np.ascontiguousarray(np.flip(w, axis=tuple(range(2, w.ndim))))  # true convolution")
    wrap.append("    y = np.asarray(compute(x, w, b), dtype=np.float64)")
    if plan.crop is not None:
        index = ", ".join(f"{low}:y.shape[{2 + a}] - {high}" for a, (low, high) in enumerate(plan.crop))
        wrap.append(f"    y = y[:, :, {index}]  # the crops of the full transposed output")
    wrap.append("    return y")
    head = [f'"""{title}', "", describe(conv), '"""', prelude, "import numpy as np"]
    return "\n".join(head) + "\n" + adapter.source(conv, plan).replace("import numpy as np\n", "") + "\n".join(wrap) + "\n"


def repro_script(conv: Conv, adapter: Adapter, plan: Plan, version: str) -> str:
    title = (f"Repro of {conv.id} in {adapter.name} ({version}), as conv-harness called it "
             f"({plan.realization}). Needs only {', '.join(adapter.requires)} and NumPy: python {adapter.name}.py")
    return program(conv, adapter, plan, title, NOT_ITSELF) + MAIN


def port_program(conv: Conv, adapter: Adapter) -> str:
    title = (f"{conv.id} in {adapter.name}: computes the reference result (explicit pads or crops, the case's "
             "weights in the framework's layout).")
    return program(conv, adapter, adapter.faithful_plan(conv), title)


def load(text: str) -> Any:
    """Run a program's text and return its `convolution` function (the tests call this)."""
    namespace: dict[str, Any] = {"__name__": "harness_program"}
    exec(compile(text, "<program>", "exec"), namespace)
    return namespace["convolution"]
