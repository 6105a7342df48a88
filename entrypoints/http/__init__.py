"""The HTTP/SSE API of CONTRACT §4 (Flask), served by gunicorn with gevent."""
