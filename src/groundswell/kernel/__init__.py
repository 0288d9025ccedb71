"""Domain-free foundations every room stands on: settings, database, errors, clock, events,
audit log and pagination. Nothing here knows about mentions, conversations or policies."""
