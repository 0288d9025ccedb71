"""Governance: coordination models, units, approvals, the policy engine, guideline training,
brand accounts with their vault and hand-over."""
