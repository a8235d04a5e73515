"""The baseline the harness is measured against: a minimal hand-written loop.

Same cases, same data (harness.model.data), same reference (harness.truth.reference), and each
framework called once per case in the plainest way, with JAX's persistent compilation
cache configured exactly as the harness does (under HARNESS_CACHE_DIR). No probe, no error
bound, no report: what a person would write to check the frameworks by hand.

    python bench/bare_loop.py CASES_DIR
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from harness.cases.loading import load_cases
from harness.model.data import make_tensors
from harness.truth.reference import reference


def torch_call(torch, case, t):
    padding = case.padding if isinstance(case.padding, str) else case.padding[0][0]
    m = torch.nn.Conv2d(case.in_channels, case.out_channels, case.kernel_size, case.stride, padding,
                        case.dilation, case.groups, case.bias)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(t.weights))
        if t.bias is not None:
            m.bias.copy_(torch.from_numpy(t.bias))
    with torch.inference_mode():
        return m(torch.from_numpy(t.input)).numpy()


def keras_call(keras, case, t):
    layer = keras.layers.Conv2D(case.out_channels, case.kernel_size, case.stride, case.padding,
                                dilation_rate=case.dilation, groups=case.groups, use_bias=case.bias)
    x = t.input.transpose(0, 2, 3, 1)
    layer.build(x.shape)
    layer.kernel.assign(t.weights.transpose(2, 3, 1, 0))
    if t.bias is not None:
        layer.bias.assign(t.bias)
    return np.asarray(layer(x)).transpose(0, 3, 1, 2)


def make_jax_call(jax):
    fns = {}

    def call(case, t):
        key = (case.padding, case.stride, case.dilation, case.groups)
        if key not in fns:
            def conv(x, w, b):
                y = jax.lax.conv_general_dilated(x, w, case.stride, case.padding.upper(), rhs_dilation=case.dilation,
                                                 dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                                 feature_group_count=case.groups, precision=jax.lax.Precision.HIGHEST)
                return y + b
            fns[key] = jax.jit(conv)
        y = fns[key](t.input.transpose(0, 2, 3, 1), t.weights.transpose(2, 3, 1, 0), t.bias)
        return np.asarray(y).transpose(0, 3, 1, 2)

    return call


def main() -> None:
    start = time.perf_counter()
    cases = load_cases(sys.argv[1:]).cases
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import jax
    import keras
    import torch

    cache = os.path.join(os.environ["HARNESS_CACHE_DIR"], "jax")
    jax.config.update("jax_compilation_cache_dir", cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    calls = {"torch": lambda c, t: torch_call(torch, c, t), "keras": lambda c, t: keras_call(keras, c, t),
             "jax": make_jax_call(jax)}
    worst = 0.0
    for case in cases:
        t = make_tensors(case, case.seed)
        ref = reference(case, t)
        for call in calls.values():
            try:
                y = call(case, t)
            except Exception:
                continue
            if ref.out is not None and y.shape == ref.out.shape:
                worst = max(worst, float(np.abs(y - ref.out).max(initial=0.0)))
    print(f"bare loop: {len(cases)} cases in {time.perf_counter() - start:.1f} s; worst |y - ref| {worst:.3g}")


if __name__ == "__main__":
    main()
