"""The pure core of runstream: events, runs, their rules and the ports."""
