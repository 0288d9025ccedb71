"""Events the listening pages announce (the pipeline's `MentionMatched` lives with it)."""

from __future__ import annotations

from groundswell.kernel.events import Event


class MentionFlagged(Event):
    """Someone flagged a mention as a risk, with a note (crisis and insights may listen)."""

    name = "listening.mention_flagged"
    organization_id: str
    mention_id: int
    user_id: str
    note: str
