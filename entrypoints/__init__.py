"""The edges: configuration, wiring, the HTTP/SSE API and the command line."""
