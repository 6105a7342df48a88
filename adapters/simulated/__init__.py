"""The `simulated` executor: a hierarchical agent team played by the service."""
