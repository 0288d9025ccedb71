"""Prepared posts: the facts queries read."""

from __future__ import annotations

from groundswell.listening.domain import Document
from groundswell.listening.schemas import PostIn


def test_document_facts() -> None:
    post = PostIn.model_validate(
        {
            "id": 7,
            "text": "See www.example.com #Refund @Delta",
            "author": {"handle": "@Bob", "followers": 12, "verified": True},
            "lang": "en_GB",
            "source": " Mastodon ",
        }
    )
    doc = Document.from_post(post)
    assert (doc.author, doc.lang, doc.source, doc.followers) == ("bob", "en-gb", "mastodon", 12)
    assert doc.has_link
    assert [body for body, _, _ in doc.tags("#")] == ["refund"]
    assert [body for body, _, _ in doc.tags("@")] == ["delta"]
    # top-level followers win over the author object's
    doc = Document.from_post(
        PostIn.model_validate({"id": "x", "text": "t", "followers": 3, "author": {"followers": 9}})
    )
    assert doc.followers == 3
    assert not doc.has_link
