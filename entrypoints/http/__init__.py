"""The HTTP/SSE API of docs/contract.md §4 (Flask), served by gunicorn with gevent."""
