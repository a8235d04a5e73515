"""What a family's server (families.FamilyProcess) imports before it forks any worker: the family's framework,
named by FAMILY_VARIABLE, loaded once for all the family's workers. Its chatter (TensorFlow's absl lines
on fd 2) goes to the log as a worker's own import's does, and each worker forked from here inherits it.

The server dies with the run (SIGKILL on the parent's death, as a worker does) and ignores Ctrl-C: the
stdlib's server would wait for the last worker holding its pipe, a busy one included, and the workers'
own death signal is tied to the server.
"""

from __future__ import annotations

import importlib
import os
import signal

from ..quiet import captured, prepare_environment
from . import pair  # noqa: F401 - what every worker runs, imported once here too
from .families import FAMILY_VARIABLE
from .serve import die_with_parent

signal.signal(signal.SIGINT, signal.SIG_IGN)
die_with_parent()
prepare_environment()
if os.environ.get(FAMILY_VARIABLE):
    with captured(os.environ[FAMILY_VARIABLE]):
        importlib.import_module(os.environ[FAMILY_VARIABLE])
