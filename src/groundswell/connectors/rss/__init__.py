"""The built-in ``rss`` connector: RSS and Atom feeds with conditional GET. See README.md."""
