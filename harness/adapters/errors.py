"""How a framework's refusal is told: `Unsupported` before any call, `describe_error` for its exceptions.

`Unsupported` means the adapter knows the framework cannot express the case and nothing was
called; any other exception is the framework's own refusal (an `error` row), told in one line
without colour codes, internal function names or the harness's own call sites.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TRAILERS = (
    re.compile(r"^Exception encountered when calling [\w.]+\(\)\.\s*"),  # Keras' wrapper around a layer's error
    re.compile(r"\{\{function_node [^}]*\}\}\s*"),  # TensorFlow's internal function name
    re.compile(r"\s*Arguments received by .*", re.DOTALL),  # Keras: a dump of the call's arguments
    re.compile(r"\s+at loc\(.*", re.DOTALL),  # JAX/XLA: the harness's own call sites, machine-specific
    re.compile(r"\s*\[Op:\w+\](\s*name:\s*\S*)?\s*$"),  # TensorFlow eager: the op name trailer
    re.compile(r"Exception from src/[\w/.-]+:\d+:\s*"),  # OpenVINO: the C++ source lines its checks raise from,
    re.compile(r"^Check 'false' failed at src/[\w/.-]+:\d+:\s*"),  # which push the informative part past
)  # MAX_MESSAGE (its frontend's reason comes last)
_OPENVINO_AT = re.compile(r" at src/[\w/.-]+\.[ch]pp:\d+:")
MAX_MESSAGE = 600


class Unsupported(Exception):
    """The framework cannot express this case; the message says why."""


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(type name, one-line message) of a framework's exception, without colour codes or trailers."""
    message = _ANSI.sub("", str(exc))
    for trailer in _TRAILERS:
        message = trailer.sub("", message)
    message = _OPENVINO_AT.sub(":", " ".join(message.split()))
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return type(exc).__name__, message
