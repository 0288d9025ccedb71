"""The built-in ``mastodon`` connector: hashtag/public timelines, mentions, streaming; post and reply
(README.md)."""
