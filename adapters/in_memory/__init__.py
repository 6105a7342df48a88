"""Thread-safe in-process adapters: the same contract as the durable ones."""
