"""Use cases: one class per module, each with a single `execute`."""
