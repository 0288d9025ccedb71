"""The built-in ``reddit`` connector: search and subreddit listings over OAuth; reply with a comment
(README.md)."""
