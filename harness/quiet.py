"""Framework chatter off the terminal and into the report's log.

TensorFlow, absl, oneDNN and XLA write to file descriptor 2 from C++ (`WARNING: All log
messages before absl::InitializeLog()`, `I0000 ... oneDNN custom operations are on`), and
frameworks warn through Python. Around every framework import and call, both go to a
temporary file and Python's warning list; the lines are kept, once each with a count, for
the report's log section. `HARNESS_VERBOSE=1` (`run -v`) lets them through instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator

# Set before any framework import, in every process that imports one: TensorFlow reads these once.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR", "ABSL_MIN_LOG_LEVEL": "3"}
# The same kernels on every x86 CPU, unless the user set otherwise: TensorFlow turns its oneDNN CPU
# kernels on by default only on CPUs with AVX512 neural-network instructions (VNNI, BF16, AMX);
# elsewhere (AVX2) it runs Eigen kernels with other limits (no NCHW input, no dilated transposed
# convolution), so verdicts would depend on the CPU's generation. oneDNN's bfloat16 kernels still
# need AVX512F (TensorFlow's IsBF16SupportedByOneDNNOnThisCPU): cases record that with `when: {cpu: ...}`.
FRAMEWORK_ENV = {"TF_ENABLE_ONEDNN_OPTS": "1"}

LOG: Counter[str] = Counter()


def verbose() -> bool:
    return os.environ.get("HARNESS_VERBOSE", "") not in ("", "0")


def prepare_environment() -> None:
    """Framework switches (FRAMEWORK_ENV) and log levels down, unless the user set them or asked for
    verbose output."""
    for key, value in FRAMEWORK_ENV.items():
        os.environ.setdefault(key, value)
    if not verbose():
        for key, value in QUIET_ENV.items():
            os.environ.setdefault(key, value)


@contextlib.contextmanager
def captured(source: str) -> Iterator[None]:
    """Send fds 1 and 2 and Python warnings raised inside to the log (tagged with `source`): converters
    print their progress to stdout (TFLiteConverter its signatures, torch.onnx.export its steps)."""
    if verbose():
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(fd) for fd in (1, 2)]
    with tempfile.TemporaryFile(mode="w+b") as sink, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fd in (1, 2):
            os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            for line in sink.read().decode("utf-8", "replace").splitlines():
                if line.strip():
                    LOG[f"{source}: {line.strip()}"] += 1
            for warning in caught:
                LOG[f"{source}: {warning.category.__name__}: {warning.message}"] += 1


def log_text(limit: int = 200) -> str:
    """The captured lines, most frequent first, with their counts."""
    lines = [f"{count}x {line}" if count > 1 else line for line, count in LOG.most_common(limit)]
    if len(LOG) > limit:
        lines.append(f"... and {len(LOG) - limit} other lines")
    return "\n".join(lines)
