"""Care: conversations, routing, SLA policies and clocks, claims, saved replies, CSAT."""
