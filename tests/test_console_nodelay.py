"""console/nodelay.py: the listening socket Streamlit 1.67 binds (proto 0, so asyncio never sets TCP_NODELAY on
what it accepts) gets TCP_NODELAY, and the connections it accepts inherit it. Without it every answer on a
kept-alive connection to the console waited ~40 ms for the client's delayed acknowledgement."""
from __future__ import annotations

import socket

from console.nodelay import no_delay_on_listeners


def test_the_listener_streamlit_binds_and_what_it_accepts_get_tcp_nodelay():
    listener = socket.socket(family=socket.AF_INET)  # as streamlit's starlette_server._bind_socket makes it
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    client = None
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert no_delay_on_listeners() >= 1
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        client = socket.create_connection(listener.getsockname())  # a connection made after startup
        accepted, _ = listener.accept()
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        accepted.close()
        assert client.fileno() >= 0 and listener.fileno() >= 0  # nothing of ours was closed
    finally:
        if client is not None:
            client.close()
        listener.close()
