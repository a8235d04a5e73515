"""Case files: YAML with line numbers, expansion and validation, loading, the JSON schema, -k expressions."""
