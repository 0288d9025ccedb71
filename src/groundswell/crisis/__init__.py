"""Crisis: spike detection, incidents, playbooks, crisis mode, reviews, drills."""
