"""A third party's adapter for the tests: valid 2-D cross-correlation in plain NumPy.

It misbehaves on purpose when a case id says so, to test that workers contain it:
`segv` kills its process with SIGSEGV, `abort` calls abort(), `hang` sleeps for a minute,
`slow` sleeps half a second, `warn` prints a line (and FAKE_ENGINE_SETUP_SECONDS makes its setup slow); `flip`, `transposekernel`, `nobias` and `shift` compute a wrong
value on purpose (flipped or transposed kernel, no bias, output moved down a row); and a
case with a stride of 3 gets every output off by one (the fuzzer test's hidden condition). The tests
install it through an entry point only.
"""
import os
import signal
import sys
import time

import numpy as np

from harness.adapters.base import Adapter

PROGRAM = """
import numpy as np

import fake_engine


def run(x, w, b):
    fake_engine.misbehave({case_id!r})
    x = np.pad(x, ((0, 0), (0, 0), *{pre_pad}))
    windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(2, 3))
    sh, sw = {stride}
    weights = w
    if "flip" in {case_id!r}:
        weights = weights[:, :, ::-1, ::-1]
    if "transposekernel" in {case_id!r}:
        weights = np.swapaxes(weights, 2, 3)
    y = np.einsum("nchwij,ocij->nohw", windows[:, :, ::sh, ::sw], weights)
    if "shift" in {case_id!r}:
        y = np.roll(y, 1, axis=2)
    if 3 in {stride}:  # the fuzzer test's hidden condition
        y = y + 1
    y = y + (0 if b is None or "nobias" in {case_id!r} else b[None, :, None, None])
    return y.astype(x.dtype)


def numpy(y):
    return y


def parameter_count(x, w, b):
    return w.size + (0 if b is None else b.size)
"""


class NumpyAdapter(Adapter):
    """A third party's adapter: valid 2-D cross-correlation in plain NumPy."""

    requires = ("numpy",)
    ops = frozenset({"conv"})
    ranks = frozenset({2})
    dtypes = frozenset({"float32", "float64"})
    valid_padding = "valid"
    pad_modes = frozenset({"zeros"})
    differentiates = False

    def setup(self):  # a slow framework import, when a test asks for one
        time.sleep(float(os.environ.get("FAKE_ENGINE_SETUP_SECONDS", "0")))

    def version(self):
        return f"numpy-engine {np.__version__}"

    def precision_flags(self):
        return {}

    def native_padding(self, conv):
        return "valid" if conv.padding == "valid" and conv.groups == 1 else None

    def source(self, conv, plan):
        return PROGRAM.format(case_id=conv.id, pre_pad=plan.pre_pad or ((0, 0), (0, 0)), stride=conv.stride)


def misbehave(case_id):
    if "warn" in case_id:
        print("fake engine: a framework's own chatter", file=sys.stderr)
    if "segv" in case_id:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "abort" in case_id:
        os.abort()
    if "hang" in case_id:
        time.sleep(60)
    if "slow" in case_id:
        time.sleep(0.5)
