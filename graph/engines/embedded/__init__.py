"""The embedded engine: a DuckDB file and in-process algorithms."""
