"""Listening: listening queries, mentions, the ingest pipeline, search."""
