"""Live delivery, the application half: one FanOutHub per process reads every
watched run's new events once and pushes them, with their encoded frames, to
the run's subscribers (see entrypoints/live for the connections)."""
