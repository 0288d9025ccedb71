"""The built-in ``replay`` connector: replays a files-format JSONL file with its original
timing, sped up. See README.md."""
