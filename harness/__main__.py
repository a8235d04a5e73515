"""`python -m harness`: the command line (SPEC section 5)."""

from .run.threads import share_cores

share_cores()  # before NumPy or any framework loads its thread pool; workers inherit it

from .cli import main  # noqa: E402 - after the thread counts are set

raise SystemExit(main())
