"""The built-in ``files`` connector: posts from JSONL or CSV files (docs/files-format.md)."""
