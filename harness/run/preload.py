"""What a family's server (families.FamilyProcess) imports before it forks any worker: the family's framework,
named by FAMILY_VARIABLE, loaded once for all the family's workers. Its chatter (TensorFlow's absl lines
on fd 2) goes to the log as a worker's own import's does, and each worker forked from here inherits it.
"""

from __future__ import annotations

import importlib
import os

from ..quiet import captured, prepare_environment
from . import pair  # noqa: F401 - what every worker runs, imported once here too

FAMILY_VARIABLE = "HARNESS_FAMILY_SERVER"

prepare_environment()
if os.environ.get(FAMILY_VARIABLE):
    with captured(os.environ[FAMILY_VARIABLE]):
        importlib.import_module(os.environ[FAMILY_VARIABLE])
