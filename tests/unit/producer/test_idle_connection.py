import logging
import socket
import threading

from runstream.entrypoints.producer.retry import RetryPolicy, send_with_retries
from runstream.entrypoints.producer.transport import Transport

ANSWER = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"


def answer_then_hang_up(listener, connections, hung_up):
    """Each connection gets one answer, then the server closes it, as a server
    does with a keep-alive connection that stays idle too long."""
    for _ in range(connections):
        client, _ = listener.accept()
        with client:
            client.recv(65536)
            client.sendall(ANSWER)
        hung_up.set()


def test_a_keep_alive_the_server_closed_is_reopened_at_once_without_a_warning(
    caplog,
):
    caplog.set_level(logging.DEBUG, logger="runstream.producer")
    listener = socket.create_server(("127.0.0.1", 0))
    hung_up = threading.Event()
    server = threading.Thread(target=answer_then_hang_up, args=(listener, 2, hung_up))
    server.start()
    transport = Transport(f"http://127.0.0.1:{listener.getsockname()[1]}")
    policy, abandon = RetryPolicy(retry_for=5.0), threading.Event()

    first = send_with_retries(transport, policy, abandon, "POST", "/x", b"{}", "k1")
    assert hung_up.wait(10)
    second = send_with_retries(transport, policy, abandon, "POST", "/x", b"{}", "k2")
    server.join(10)
    transport.close()
    listener.close()

    assert (first.status, second.status) == (201, 201)
    assert not server.is_alive()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
