"""Live delivery, the connection half (docs/architecture.md, "Live delivery").

takeover.py    gunicorn's gevent worker, letting the app take a connection over
endpoint.py    GET /runs/<id>/events/stream: checks, then hands the connection on
handoff.py     replays the log into the connection's queue, then subscribes it
subscriber.py  one taken-over connection: bounded outbound queue, cursor, writes
writer_loop.py one per process: epoll, non-blocking writes, heartbeats, drops
wsgi_body.py   the same stream as a plain WSGI body, where no takeover exists
frames.py      the SSE frames on the wire
"""
