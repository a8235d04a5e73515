"""A third party's adapter for the tests: valid 2-D cross-correlation in plain NumPy.

It misbehaves on purpose when a case id says so, to test that workers contain it:
`segv` kills its process with SIGSEGV, `abort` calls abort(), `hang` sleeps for a minute,
`slow` sleeps half a second (and FAKE_ENGINE_SETUP_SECONDS makes its setup slow); `flip`, `transposekernel`, `nobias` and `shift` compute a wrong
value on purpose (flipped or transposed kernel, no bias, output moved down a row); and a
case with a stride of 3 gets every output off by one (the fuzzer test's hidden condition). The tests
install it through an entry point only.
"""
import os
import signal
import time

import numpy as np

from harness.adapters.base import Adapter, Realisation


class NumpyAdapter(Adapter):
    """A third party's adapter: valid 2-D cross-correlation in plain NumPy."""

    requires = ("numpy",)
    ops = frozenset({"conv"})
    ranks = frozenset({2})
    dtypes = frozenset({"float32", "float64"})
    valid_padding = "valid"
    pad_modes = {"zeros": "constant"}

    def setup(self):  # a slow framework import, when a test asks for one
        time.sleep(float(os.environ.get("FAKE_ENGINE_SETUP_SECONDS", "0")))

    def version(self):
        return f"numpy-engine {np.__version__}"

    def precision_flags(self):
        return {}

    def native_padding(self, conv):
        return "valid" if conv.padding == "valid" and conv.groups == 1 else None

    def realise(self, conv, plan):
        return _Run(plan, conv)


class _Run(Realisation):
    def __init__(self, plan, conv):
        super().__init__(plan)
        self.conv, self.count = conv, 0

    @property
    def param_count(self):
        return self.count

    def run(self, t):
        misbehave(self.conv.id)
        x = np.pad(t.input, ((0, 0), (0, 0), *(self.plan.pre_pad or ((0, 0), (0, 0)))))
        windows = np.lib.stride_tricks.sliding_window_view(x, t.weights.shape[2:], axis=(2, 3))
        sh, sw = self.conv.stride
        weights = t.weights
        if "flip" in self.conv.id:
            weights = weights[:, :, ::-1, ::-1]
        if "transposekernel" in self.conv.id:
            weights = np.swapaxes(weights, 2, 3)
        y = np.einsum("nchwij,ocij->nohw", windows[:, :, ::sh, ::sw], weights)
        if "shift" in self.conv.id:
            y = np.roll(y, 1, axis=2)
        if 3 in self.conv.stride:  # the fuzzer test's hidden condition
            y = y + 1
        y = y + (0 if t.bias is None or "nobias" in self.conv.id else t.bias[None, :, None, None])
        self.count = t.weights.size + (0 if t.bias is None else t.bias.size)
        return y.astype(t.input.dtype), t.input.dtype.name


def misbehave(case_id):
    if "segv" in case_id:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "abort" in case_id:
        os.abort()
    if "hang" in case_id:
        time.sleep(60)
    if "slow" in case_id:
        time.sleep(0.5)
