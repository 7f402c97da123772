"""TCP_NODELAY on the console's listening socket, so a keep-alive HTTP client is not stalled 40 ms an answer.

Streamlit 1.67 binds its server socket itself (`starlette_server._bind_socket`) as
`socket.socket(family=...)`, whose `proto` is 0, and asyncio sets TCP_NODELAY only on sockets whose
`proto` is IPPROTO_TCP (`base_events._set_nodelay`). uvicorn writes an answer's headers and its body
in two sends; with Nagle's algorithm on, the body waits for the client to acknowledge the headers,
and a client on a kept-alive connection delays that acknowledgement by ~40 ms. Measured against
`streamlit run console/server.py`: every request after a connection's first took 44 ms (HTTP API
status reads, `/_stcore/health`), a bare uvicorn 0.9 ms.

Linux copies TCP_NODELAY from a listening socket to the connections it accepts, so setting it on
the listener once, at startup, fixes every connection. Nothing else about the socket changes.
"""
from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

FD_DIR = "/proc/self/fd"


def no_delay_on_listeners() -> int:
    """Set TCP_NODELAY on every listening TCP socket of this process; returns how many. Needs /proc
    (Linux; elsewhere nothing is changed and 0 is returned)."""
    try:
        descriptors = [int(name) for name in os.listdir(FD_DIR)]
    except OSError:
        return 0
    changed = 0
    for fd in descriptors:
        try:
            sock = socket.socket(fileno=fd)  # a second object on the same descriptor; detached below
        except OSError:  # not a socket (or already closed)
            continue
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM \
                    and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                changed += 1
        except OSError:
            pass
        finally:
            sock.detach()  # never close the server's descriptor
    return changed


@contextlib.asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """st.App's lifespan hook: runs once the server's socket is listening."""
    no_delay_on_listeners()
    yield
