"""The built-in ``bluesky`` connector: Jetstream firehose, post search, post and reply over the AT
Protocol (README.md)."""
