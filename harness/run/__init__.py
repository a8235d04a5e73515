"""Running cases: one pair in a process, the worker pool, the run loop, memory, options, resume, output folder."""
