"""EventLogs composed of other EventLogs: a hot window over an archive, and
failover from a primary to a fallback. They use only the port."""
