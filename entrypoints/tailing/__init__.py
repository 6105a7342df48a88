"""Following a run's SSE stream from a terminal: used by `tail` and `demo`."""
