"""`python -m harness`: the command line (SPEC section 5)."""

from .cli import main

raise SystemExit(main())
