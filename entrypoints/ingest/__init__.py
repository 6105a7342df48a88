"""The producers' stream (`GET /ingest`, a WebSocket): groups of events in, one
answer per group out, on a connection taken over from gunicorn
(docs/producers.md)."""
