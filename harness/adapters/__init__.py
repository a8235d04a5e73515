"""Adapters: one module per framework, registered as entry points (docs/adapters.md).

This package imports nothing on purpose: `schema` reads adapter names from `registry`,
and `base` needs `schema`, so importing either must not pull in the other or a framework.
"""
