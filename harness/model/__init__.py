"""The case model: what a case means, independent of any framework (schema, geometry, ops, dtypes, data)."""
